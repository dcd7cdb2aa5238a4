/**
 * The viewer's pure functions, as the browser gets them: the served text (`lib`) evaluated in a fresh `vm`
 * context. The chat-message recognition is checked on the bodies the official SDKs send through the real gateway
 * (echo endpoint) and on the outputs the gateway records for them.
 */
import Anthropic from "@anthropic-ai/sdk"
import { GoogleGenAI } from "@google/genai"
import { describe, expect, it } from "@effect/vitest"
import { Effect, FastCheck } from "effect"
import OpenAI from "openai"
import { createContext, runInContext, Script } from "node:vm"
import { app } from "../../../../src/gateway/internal/viewer/app.js"
import { lib } from "../../../../src/gateway/internal/viewer/lib.js"
import * as Attributes from "../../../../src/tracing/Attributes.js"
import type { StoredSpan } from "../../../../src/tracing/TraceStore.js"
import { traceOf, withGateway } from "../../../support/gateway.js"

interface Row {
  readonly span: StoredSpan
  readonly depth: number
  readonly offsetMs: number
  readonly durationMs: number
  readonly status: string
  readonly leftPct: number
  readonly widthPct: number
  readonly ttftMs: number | null
  readonly ttftPct: number | null
}
interface Message {
  readonly role: string
  readonly parts: ReadonlyArray<{ readonly kind: string; readonly text: string }>
}
interface Bar {
  readonly key: string
  readonly time: number
  readonly value: number
  readonly x: number
  readonly y: number
  readonly width: number
  readonly height: number
}
interface Lib {
  readonly msBetween: (base: string, t: string) => number
  readonly tree: (spans: unknown) => ReadonlyArray<{ readonly span: StoredSpan; readonly depth: number }>
  readonly waterfall: (spans: unknown) => { readonly totalMs: number; readonly rows: ReadonlyArray<Row> }
  readonly ticks: (totalMs: number, n: number) => ReadonlyArray<number>
  readonly chatMessages: (value: unknown) => ReadonlyArray<Message> | null
  readonly usageOf: (span: unknown) => Record<string, number | null> | null
  readonly tokenTotal: (t: unknown) => number
  readonly query: (params: Record<string, unknown>) => string
  readonly formatMs: (ms: unknown) => string
  readonly chart: (
    series: unknown,
    bucket: string,
    value: (p: { readonly calls: number }) => number,
    box: { readonly width: number; readonly height: number; readonly maxBuckets?: number; readonly from?: number; readonly to?: number }
  ) => { readonly keys: ReadonlyArray<string>; readonly buckets: ReadonlyArray<number>; readonly bars: ReadonlyArray<Bar>; readonly max: number; readonly totals: ReadonlyArray<number> }
}

/** A fresh evaluation of the served text; results cross the context boundary, so compare them as JSON. */
const load = (): Lib => {
  const context = createContext({})
  runInContext(lib, context)
  return (context as { ViewerLib: Lib }).ViewerLib
}
const L = load()
const plain = <A>(value: A): A => JSON.parse(JSON.stringify(value)) as A

const base = 1_796_000_000_000_000_000n
const span = (id: string, parent: string | null, startUs: number, endUs: number, extra: Partial<StoredSpan> = {}): StoredSpan => ({
  traceId: "t".repeat(32),
  spanId: id,
  parentSpanId: parent,
  name: `span ${id}`,
  kind: "INTERNAL",
  startTimeUnixNano: (base + BigInt(startUs) * 1000n).toString(),
  endTimeUnixNano: (base + BigInt(endUs) * 1000n).toString(),
  status: { code: "OK" },
  attributes: {},
  events: [],
  ...extra
})

describe("viewer lib: the served script", () => {
  it("parses as a browser script with the page script after it", () => {
    expect(() => new Script(`${lib}\n${app}`)).not.toThrow()
  })
})

describe("viewer lib: time and waterfall", () => {
  it("subtracts nanosecond strings exactly beyond 2^53 (to the microsecond)", () => {
    expect(L.msBetween("1796248778410286461", "1796248778430468042")).toBe(20.181)
    expect(L.msBetween("1796248778410286461", "1796248778410286461")).toBe(0)
    // Untrusted text is not a number: read as 0, never a throw.
    expect(L.msBetween("0", "12e3")).toBe(0)
  })

  it("nests by parent, orders children by start, and makes a span whose parent is elsewhere a root (a replayed copy)", () => {
    const spans = [
      span("c2", "gw", 300, 900),
      span("gw", "caller-span-not-here", 0, 1000, { status: { code: "ERROR", message: "boom" } }),
      span("c1", "gw", 100, 200),
      span("g1", "c1", 120, 180, { status: { code: "UNSET" } })
    ]
    const wf = plain(L.waterfall(spans))
    expect(wf.rows.map((r) => [r.span.spanId, r.depth, r.status])).toEqual([
      ["gw", 0, "error"],
      ["c1", 1, "ok"],
      ["g1", 2, "unset"],
      ["c2", 1, "ok"]
    ])
    expect(wf.totalMs).toBe(1)
    const c2 = wf.rows[3]!
    expect(c2.leftPct).toBeCloseTo(30, 9)
    expect(c2.widthPct).toBeCloseTo(60, 9)
  })

  it("puts the first-chunk marker of a streamed span at its start plus TTFT", () => {
    const wf = plain(L.waterfall([
      span("gw", null, 0, 10_000),
      span("p", "gw", 2_000, 10_000, { attributes: { [Attributes.GenAiRequestStream]: true, [Attributes.GenAiResponseTimeToFirstChunk]: 0.003 } })
    ]))
    const p = wf.rows[1]!
    expect(p.ttftMs).toBeCloseTo(3, 9)
    expect(p.ttftPct).toBeCloseTo(50, 9)
    expect(wf.rows[0]!.ttftPct).toBeNull()
  })

  it("keeps every span once through cycles and duplicate ids, and a zero-length trace fills the axis", () => {
    const cyclic = [span("a", "b", 0, 1), span("b", "a", 0, 1), span("a", null, 5, 6), span("c", "c", 2, 3)]
    expect(plain(L.tree(cyclic)).map((r) => r.span.spanId).sort()).toEqual(["a", "b", "c"])
    const zero = plain(L.waterfall([span("z", null, 7, 7)]))
    expect(zero.rows[0]).toMatchObject({ leftPct: 0, widthPct: 100, durationMs: 0 })
    expect(plain(L.waterfall("not spans")).rows).toEqual([])
  })

  const forest = FastCheck.array(
    FastCheck.record({
      id: FastCheck.integer({ min: 0, max: 15 }),
      parent: FastCheck.option(FastCheck.integer({ min: 0, max: 20 }), { nil: null }),
      start: FastCheck.integer({ min: 0, max: 5_000 }),
      length: FastCheck.integer({ min: 0, max: 5_000 })
    }),
    { maxLength: 30 }
  )

  it.prop("any span set: each id once, a child one deeper than its parent row, bars inside the axis", [forest], ([specs]) => {
    const spans = specs.map((s) => span(`s${s.id}`, s.parent === null ? null : `s${s.parent}`, s.start, s.start + s.length))
    const wf = plain(L.waterfall(spans))
    const ids = wf.rows.map((r) => r.span.spanId)
    expect([...ids].sort()).toEqual([...new Set(spans.map((s) => s.spanId))].sort())
    const depthOf = new Map(wf.rows.map((r) => [r.span.spanId, r.depth]))
    for (const r of wf.rows) {
      expect(r.leftPct).toBeGreaterThanOrEqual(0)
      expect(r.leftPct + r.widthPct).toBeLessThanOrEqual(100 + 1e-9)
      if (r.depth > 0) expect(depthOf.get(r.span.parentSpanId!)).toBe(r.depth - 1)
    }
  }, { fastCheck: { numRuns: 300 } })

  it("axis ticks are round steps from 0 that cover the duration", () => {
    expect(plain(L.ticks(23, 6))).toEqual([0, 5, 10, 15, 20])
    expect(plain(L.ticks(0, 6))).toEqual([0])
    expect(L.formatMs(1234)).toBe("1.23 s")
    expect(L.formatMs(null)).toBe("–")
  })
})

describe("viewer lib: usage and URLs", () => {
  it("reads GenAI usage attributes, and totals a token object as input + output", () => {
    expect(plain(L.usageOf(span("p", null, 0, 1, { attributes: { [Attributes.GenAiUsageInputTokens]: 4, [Attributes.GenAiUsageOutputTokens]: 2 } })))).toEqual({
      input: 4, output: 2, cacheRead: null, cacheCreation: null, reasoning: null
    })
    expect(L.usageOf(span("q", null, 0, 1))).toBeNull()
    expect(L.tokenTotal({ input: 10, output: 5, cacheRead: 8, cacheCreation: 0, reasoning: 3 })).toBe(15)
    expect(L.tokenTotal(7)).toBe(7)
  })

  it("builds query strings of the non-empty values, encoded", () => {
    expect(L.query({ endpoint: "a b&c", status: "", model: null, limit: 50 })).toBe("?endpoint=a%20b%26c&limit=50")
    expect(L.query({ endpoint: "" })).toBe("")
  })

  it("stacks bars per bucket: each bucket's bars add up to its total, gaps stay empty, the tallest fills the plot", () => {
    const t0 = Date.UTC(2026, 11, 2, 21, 0)
    const minute = 60_000
    const series = [
      { time: new Date(t0).toISOString(), key: "b", calls: 2 },
      { time: new Date(t0).toISOString(), key: "a", calls: 3 },
      { time: new Date(t0 + 3 * minute).toISOString(), key: "a", calls: 1 },
      { time: "not a time", key: "a", calls: 99 }
    ]
    const c = plain(L.chart(series, "minute", (p) => p.calls, { width: 400, height: 100 }))
    expect(c.keys).toEqual(["a", "b"])
    expect(c.buckets).toEqual([t0, t0 + minute, t0 + 2 * minute, t0 + 3 * minute])
    expect(c.totals).toEqual([5, 0, 0, 1])
    expect(c.max).toBe(5)
    const first = c.bars.filter((b) => b.time === t0)
    expect(first.map((b) => [b.key, b.value])).toEqual([["a", 3], ["b", 2]])
    // Stacked: the second bar sits on the first; together they span the plot's height (100 - 10 top - 24 bottom).
    expect(first[1]!.y + first[1]!.height).toBeCloseTo(first[0]!.y, 9)
    expect(first[0]!.height + first[1]!.height).toBeCloseTo(66, 9)
  })

  it("spans the whole range asked for (from, to), not only the buckets with data", () => {
    const t0 = Date.UTC(2026, 11, 2, 21, 0)
    const c = plain(L.chart([{ time: new Date(t0 + 120_000).toISOString(), key: "k", calls: 4 }], "minute", (p) => p.calls, {
      width: 400, height: 100, from: t0 + 10_000, to: t0 + 5 * 60_000 + 1
    }))
    expect(c.buckets).toEqual([0, 1, 2, 3, 4, 5].map((i) => t0 + i * 60_000))
    expect(c.totals).toEqual([0, 0, 4, 0, 0, 0])
  })

  it("keeps the newest buckets when the range has more than maxBuckets", () => {
    const series = Array.from({ length: 10 }, (_, i) => ({ time: new Date(Date.UTC(2026, 0, 1, i)).toISOString(), key: "k", calls: i }))
    const c = plain(L.chart(series, "hour", (p) => p.calls, { width: 400, height: 100, maxBuckets: 4 }))
    expect(c.buckets.length).toBe(4)
    expect(c.totals).toEqual([6, 7, 8, 9])
  })
})

describe("viewer lib: chat messages", () => {
  it("recognises the shapes of each API, and nothing else", () => {
    const texts = (v: unknown) => plain(L.chatMessages(v))?.map((m) => [m.role, m.parts.map((p) => p.text).join("|")])
    expect(texts({ system: [{ type: "text", text: "sys" }], messages: [{ role: "user", content: "hi" }] })).toEqual([["system", "sys"], ["user", "hi"]])
    expect(texts({ type: "message", role: "assistant", content: [{ type: "thinking", thinking: "hmm" }, { type: "text", text: "yo" }] })).toEqual([["assistant", "hmm|yo"]])
    expect(texts({ choices: [{ index: 0, message: { role: "assistant", content: null, tool_calls: [{ id: "c" }] } }] })?.[0]?.[0]).toBe("assistant")
    expect(texts({ output: [{ type: "reasoning", summary: [] }, { type: "message", role: "assistant", content: [{ type: "output_text", text: "ok" }] }] })?.map((m) => m[0])).toEqual(["reasoning", "assistant"])
    expect(texts({ candidates: [{ content: { parts: [{ text: "g" }] } }] })).toEqual([["model", "g"]])
    expect(L.chatMessages({ model: "x", temperature: 1 })).toBeNull()
    expect(L.chatMessages([1, 2])).toBeNull()
    expect(L.chatMessages("text")).toBeNull()
    expect(L.chatMessages({ messages: [] })).toBeNull()
  })

  const ask = "what is the weather in Paris"
  const system = "answer briefly"

  it.live("on what the official SDKs send through the gateway, and on what the gateway records as output", () =>
    withGateway(() => ({ endpoints: ["chat", "responses", "anthropic", "gemini"].map((name) => ({ name, provider: { kind: "echo" } })) }), (h) =>
      Effect.gen(function*() {
        // One endpoint per API, so that each call's trace is the only one of its endpoint.
        const calls: ReadonlyArray<readonly [string, () => Promise<unknown>]> = [
          ["chat", () => new OpenAI({ apiKey: "k", baseURL: `${h.url}/gateway/openai/v1`, maxRetries: 0 }).chat.completions.create({ model: "chat", messages: [{ role: "system", content: system }, { role: "user", content: ask }] })],
          ["responses", () => new OpenAI({ apiKey: "k", baseURL: `${h.url}/gateway/openai/v1`, maxRetries: 0 }).responses.create({ model: "responses", instructions: system, input: [{ role: "user", content: [{ type: "input_text", text: ask }] }] })],
          ["anthropic", () => new Anthropic({ apiKey: "k", baseURL: `${h.url}/gateway/anthropic`, maxRetries: 0 }).messages.stream({ model: "anthropic", max_tokens: 50, system, messages: [{ role: "user", content: ask }] }).finalMessage()],
          ["gemini", () => new GoogleGenAI({ apiKey: "k", httpOptions: { baseUrl: `${h.url}/gateway/gemini` } }).models.generateContent({ model: "gemini", contents: ask, config: { systemInstruction: system } })]
        ]
        for (const [name, call] of calls) {
          yield* Effect.promise(call)
          const trace = yield* traceOf(h, name)
          const gateway = trace.spans.find((s) => s.parentSpanId === null)!
          const inputs = plain(L.chatMessages(JSON.parse(String(gateway.attributes[Attributes.SpanInputs]))))
          const outputs = plain(L.chatMessages(JSON.parse(String(gateway.attributes[Attributes.SpanOutputs]))))
          expect(inputs?.map((m) => [m.role, m.parts.map((p) => p.text).join("")]), name).toEqual([["system", system], ["user", ask]])
          expect(outputs?.length, name).toBe(1)
          expect(["assistant", "model"], name).toContain(outputs?.[0]?.role)
          expect(outputs?.[0]?.parts.map((p) => p.text).join(""), name).toBe(ask)
        }
      })))
})
