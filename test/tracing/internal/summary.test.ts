import { describe, expect, it } from "@effect/vitest"
import { FastCheck } from "effect"
import * as Attributes from "../../../src/tracing/Attributes.js"
import * as Summaries from "../../../src/tracing/internal/summary.js"
import type { StoredSpan, Summary } from "../../../src/tracing/TraceStore.js"

const base = 1_796_000_000_000_000_000n // ns since the epoch

const span = (spec: {
  readonly id: string
  readonly parent?: string
  readonly name?: string
  readonly start: number // ms after base
  readonly end: number
  readonly status?: StoredSpan["status"]["code"]
  readonly attributes?: StoredSpan["attributes"]
}): StoredSpan => ({
  traceId: "a".repeat(32),
  spanId: spec.id,
  parentSpanId: spec.parent ?? null,
  name: spec.name ?? spec.id,
  kind: "INTERNAL",
  startTimeUnixNano: (base + BigInt(spec.start) * 1_000_000n).toString(),
  endTimeUnixNano: (base + BigInt(spec.end) * 1_000_000n).toString(),
  status: { code: spec.status ?? "OK" },
  attributes: spec.attributes ?? {},
  events: []
})

const gateway = span({
  id: "g",
  start: 0,
  end: 250,
  status: "ERROR",
  attributes: {
    [Attributes.EndpointName]: "chat",
    [Attributes.HttpResponseStatusCode]: 200,
    [Attributes.ErrorType]: "rate_limit_error"
  }
})
const provider = (id: string, start: number, model: string, extra: StoredSpan["attributes"] = {}) =>
  span({
    id,
    parent: "g",
    start,
    end: start + 100,
    attributes: {
      [Attributes.LlmProvider]: "anthropic",
      [Attributes.GenAiRequestModel]: model,
      [Attributes.GenAiUsageInputTokens]: 10,
      [Attributes.GenAiUsageOutputTokens]: 3,
      ...extra
    }
  })

describe("summarize", () => {
  it("a gateway trace: endpoint, caller, times, status of the root, tokens summed, models and providers once", () => {
    const summary = Summaries.summarize("t1", { [Attributes.GatewayCaller]: "my-app" }, [
      provider("p2", 120, "claude-b", { [Attributes.GenAiUsageCacheReadInputTokens]: 7, [Attributes.GenAiUsageReasoningOutputTokens]: 2 }),
      gateway,
      provider("p1", 10, "claude-a", {
        [Attributes.GenAiRequestStream]: true,
        [Attributes.GenAiResponseTimeToFirstChunk]: 0.0425,
        [Attributes.GenAiResponseModel]: "claude-a-2026",
        [Attributes.GenAiUsageCacheWriteInputTokens]: 5
      })
    ])
    expect(summary).toEqual({
      traceId: "t1",
      kind: "gateway",
      endpoint: "chat",
      caller: "my-app",
      startTime: new Date(Number(base / 1_000_000n)).toISOString(),
      startTimeUnixNano: base.toString(),
      durationMs: 250,
      status: "error",
      errorType: "rate_limit_error",
      statusCode: 200,
      providers: ["anthropic"],
      models: ["claude-a", "claude-a-2026", "claude-b"],
      streamed: true,
      tokens: { input: 20, output: 6, cacheRead: 7, cacheCreation: 5, reasoning: 2 },
      ttftMs: 42.5,
      spanCount: 3,
      metadata: { [Attributes.GatewayCaller]: "my-app" }
    } satisfies Summary)
  })

  it("a replayed copy: kind replay, described by the copy of the gateway span, not the caller's root", () => {
    const caller = span({ id: "c", start: 0, end: 1000, status: "OK" })
    const copy = span({
      id: "g2",
      parent: "c",
      start: 100,
      end: 300,
      status: "ERROR",
      attributes: { [Attributes.EndpointName]: "chat", [Attributes.LinkedGatewayTraceId]: "b".repeat(32), [Attributes.ErrorType]: "500", [Attributes.HttpResponseStatusCode]: 500 }
    })
    const summary = Summaries.summarize("t2", {}, [caller, copy])
    expect([summary.kind, summary.endpoint, summary.status, summary.errorType, summary.statusCode, summary.durationMs])
      .toEqual(["replay", "chat", "error", "500", 500, 1000])
  })

  it("a remote parent: the root is the earliest span whose parent is not in the trace", () => {
    const summary = Summaries.summarize("t3", {}, [
      span({ id: "r", parent: "remote", start: 5, end: 10, status: "UNSET", attributes: { [Attributes.EndpointName]: "e" } }),
      span({ id: "k", parent: "r", start: 6, end: 9, status: "ERROR", attributes: { [Attributes.ErrorType]: "x" } })
    ])
    expect([summary.kind, summary.status, summary.errorType, summary.endpoint]).toEqual(["gateway", "unset", null, "e"])
  })

  it("no spans, no tokens: zeros and nulls, never undefined", () => {
    const summary = Summaries.summarize("t4", {}, [])
    expect(summary.tokens).toEqual(Summaries.emptyTokens)
    expect([summary.endpoint, summary.caller, summary.ttftMs, summary.statusCode, summary.spanCount]).toEqual([null, null, null, null, 0])
  })

  it.prop("the summary does not depend on the order spans arrive in", [FastCheck.array(FastCheck.nat(1000), { minLength: 1, maxLength: 8 })], ([starts]) => {
    const spans = [gateway, ...starts.map((s, i) => provider(`p${i}`, s, `m${i % 3}`))]
    const reversed = Summaries.summarize("t", {}, [...spans].reverse())
    expect(Summaries.summarize("t", {}, spans)).toEqual(reversed)
  })
})

describe("cursor", () => {
  it.prop("a key survives its cursor; anything else is refused", [FastCheck.nat(), FastCheck.hexaString({ minLength: 1, maxLength: 32 })], ([us, id]) => {
    expect(Summaries.decodeCursor(Summaries.encodeCursor({ startUs: us, traceId: id }))).toEqual({ startUs: us, traceId: id })
  })

  it("garbage is not a cursor", () => {
    for (const text of ["", "abc", Buffer.from("12.").toString("base64url"), Buffer.from("x.y").toString("base64url")]) {
      expect(Summaries.decodeCursor(text)).toBeUndefined()
    }
  })
})
