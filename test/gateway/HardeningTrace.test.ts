/**
 * Gateway hardening, the trace side: a user's own span inside a traced request is nested under the gateway span
 * and replayed with it (MLflow's hand-made child span); every recorded payload stays within
 * `tracing.maxPayloadBytes` as valid JSON that says it was truncated; the request payload is recorded once per
 * trace.
 */
import { assert, describe, expect, it } from "@effect/vitest"
import { Effect, Either, FastCheck, Option } from "effect"
import OpenAI from "openai"
import * as GatewayConfig from "../../src/gateway/GatewayConfig.js"
import * as OpenAiChat from "../../src/providers/OpenAiChat.js"
import * as Attributes from "../../src/tracing/Attributes.js"
import * as GatewaySpan from "../../src/tracing/GatewaySpan.js"
import * as Payload from "../../src/tracing/internal/payload.js"
import * as ProviderSpan from "../../src/tracing/ProviderSpan.js"
import * as Telemetry from "../../src/tracing/Telemetry.js"
import { type StoredSpan, type Trace, TraceStore } from "../../src/tracing/TraceStore.js"
import { type Harness, span, traceOf, withGateway } from "../support/gateway.js"

const byName = (trace: Trace, name: string): StoredSpan => {
  const found = trace.spans.filter((s) => s.name === name)
  expect(found.length, name).toBe(1)
  return found[0]!
}

const getTrace = (traceId: string) =>
  Effect.flatMap(TraceStore, (store) => store.getTrace(traceId)).pipe(Effect.map(Option.getOrThrow))

describe("A user span inside a traced request", () => {
  const endpoint: GatewaySpan.Endpoint = { id: "ep-guarded", name: "guarded", usageTracking: true }
  const completion = {
    id: "chatcmpl-1",
    object: "chat.completion",
    created: 1,
    model: "gpt-4",
    choices: [{ index: 0, message: { role: "assistant", content: "ok" }, finish_reason: "stop" }],
    usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 }
  }

  it.live("is a child of the gateway span, and its copy is nested under the replayed gateway span, timed exactly", () =>
    Effect.gen(function*() {
      const agent = yield* Effect.withSpan("agent-root")(Effect.map(Effect.currentSpan, (s) => ({ traceId: s.traceId, spanId: s.spanId }))).pipe(Effect.orDie)
      const traceparent = `00-${agent.traceId}-${agent.spanId}-01`
      // A guardrail step the user traces by hand, with a hand-made child of its own, then the provider call.
      const guardrail = Effect.withSpan("guardrail", { attributes: { "guardrail.verdict": "pass" } })(
        Effect.zipRight(Effect.sleep("2 millis"), Effect.withSpan("guardrail/classifier")(Effect.sleep("2 millis")))
      )
      const provider = ProviderSpan.traced(
        { api: OpenAiChat.api, provider: "openai", model: "gpt-4", stream: false, payload: { messages: [] } },
        () => Effect.succeed(completion)
      )
      yield* GatewaySpan.traced(endpoint, { payload: { input: "test" }, headers: { traceparent } })(Effect.zipRight(guardrail, provider))

      const store = yield* TraceStore
      const roots = (yield* store.searchTraces()).filter((t) => t.rootSpan?.name === "gateway/guarded" && t.rootSpan.parentSpanId === null)
      expect(roots.length).toBe(1)
      const own = yield* getTrace(roots[0]!.traceId)
      const gateway = byName(own, "gateway/guarded")
      expect(byName(own, "guardrail").parentSpanId).toBe(gateway.spanId)
      expect(byName(own, "guardrail/classifier").parentSpanId).toBe(byName(own, "guardrail").spanId)
      expect(byName(own, "provider/openai/gpt-4").parentSpanId).toBe(gateway.spanId)

      const caller = yield* getTrace(agent.traceId)
      expect(caller.spans.map((s) => s.name).sort()).toEqual(
        ["agent-root", "gateway/guarded", "guardrail", "guardrail/classifier", "provider/openai/gpt-4"]
      )
      const gatewayCopy = byName(caller, "gateway/guarded")
      expect(gatewayCopy.parentSpanId).toBe(agent.spanId)
      expect(gatewayCopy.attributes[Attributes.LinkedGatewayTraceId]).toBe(own.traceId)
      const nesting: Array<readonly [string, string]> = [
        ["guardrail", "gateway/guarded"],
        ["guardrail/classifier", "guardrail"],
        ["provider/openai/gpt-4", "gateway/guarded"]
      ]
      for (const [child, parent] of nesting) {
        const copy = byName(caller, child)
        const source = byName(own, child)
        expect(copy.parentSpanId, child).toBe(byName(caller, parent).spanId)
        expect([copy.startTimeUnixNano, copy.endTimeUnixNano], child).toEqual([source.startTimeUnixNano, source.endTimeUnixNano])
        expect(copy.status.code, child).toBe(source.status.code)
        expect(copy.attributes[Attributes.SpanInputs], child).toBeUndefined()
        expect(copy.attributes[Attributes.SpanOutputs], child).toBeUndefined()
      }
      expect(byName(caller, "guardrail").attributes["guardrail.verdict"]).toBe("pass")
      expect(JSON.parse(String(byName(caller, "provider/openai/gpt-4").attributes[Attributes.ChatTokenUsage])))
        .toEqual({ input_tokens: 10, output_tokens: 5, total_tokens: 15 })
    }).pipe(Effect.provide(Telemetry.layerTest)))
})

// ---------------------------------------------------------------------------------------------------------------

/** The truncation note `fit` records for a payload over the budget. */
interface Truncated {
  readonly truncated: true
  readonly bytes: number
  readonly head: string
}

const bytesOf = (text: string) => Buffer.byteLength(text, "utf8")

/** A recorded payload over budget: valid JSON within `max` bytes, a truncation note. */
const expectTruncated = (value: unknown, max: number): Truncated => {
  assert(typeof value === "string", "a recorded payload")
  expect(bytesOf(value)).toBeLessThanOrEqual(max)
  const note = JSON.parse(value) as Truncated
  expect(note.truncated).toBe(true)
  expect(note.head.length).toBeGreaterThan(0)
  return note
}

describe("Trace budgets", () => {
  const MB = 1_000_000
  const prompt = "x".repeat(MB)
  const echoEndpoints = { endpoints: [{ name: "echo", provider: { kind: "echo" } }] }
  const askEcho = (h: Harness, stream: boolean) =>
    Effect.promise((): Promise<OpenAI.ChatCompletion> => {
      const client = new OpenAI({ apiKey: "k", baseURL: `${h.url}/gateway/openai/v1`, maxRetries: 0 })
      const messages = [{ role: "user" as const, content: prompt }]
      return stream
        ? client.chat.completions.stream({ model: "echo", messages }).finalChatCompletion()
        : client.chat.completions.create({ model: "echo", messages })
    })

  it.live("a 1 MB prompt: inputs and outputs capped at 256 KiB as valid JSON; the payload is recorded once per trace", () =>
    withGateway(() => ({ ...echoEndpoints, tracing: { maxChunkEvents: 3 } }), (h) =>
      Effect.gen(function*() {
        const answer = yield* askEcho(h, true)
        // The client's answer is whole: budgets apply to the trace only.
        expect(answer.choices[0]?.message.content).toBe(prompt)
        const trace = yield* traceOf(h, "echo")
        const gateway = span(trace, "gateway/")
        const provider = span(trace, "provider/")
        const max = Payload.defaultMaxPayloadBytes
        const requestBytes = bytesOf(JSON.stringify({ model: "echo", messages: [{ role: "user", content: prompt }], stream: true }))
        const inputs = expectTruncated(gateway.attributes[Attributes.SpanInputs], max)
        expect(inputs.bytes).toBe(requestBytes)
        expect(inputs.head.startsWith(`{"model":"echo","messages":[{"role":"user","content":"xxx`)).toBe(true)
        // The provider span holds only what the gateway changed (the usage it asked for), flagged as such.
        expect(provider.attributes[Attributes.InputsFromParent]).toBe(true)
        expect(JSON.parse(String(provider.attributes[Attributes.SpanInputs]))).toEqual({ stream_options: { include_usage: true } })
        // The output (the 1 MB echo) is capped on both spans, as the same note.
        const outputs = expectTruncated(provider.attributes[Attributes.SpanOutputs], max)
        expect(outputs.bytes).toBeGreaterThan(MB)
        expect(gateway.attributes[Attributes.SpanOutputs]).toBe(provider.attributes[Attributes.SpanOutputs])
        // Chunk events: the 1 MB word is one event, its recorded value capped too.
        const chunks = provider.events.filter((e) => e.name.startsWith("mlflow.chunk.item."))
        expect(chunks.length).toBe(3)
        const values = chunks.map((e) => String(e.attributes[Attributes.ChunkValue]))
        for (const value of values) expect(bytesOf(value)).toBeLessThanOrEqual(max)
        expect(values.some((v) => JSON.parse(v).truncated === true)).toBe(true)
      })))

  it.live("tracing.maxPayloadBytes sets the budget; captureContent none records no payload at all", () =>
    Effect.gen(function*() {
      yield* withGateway(() => ({ ...echoEndpoints, tracing: { maxPayloadBytes: 2000, maxChunkEvents: 10 } }), (h) =>
        Effect.gen(function*() {
          yield* askEcho(h, true)
          const trace = yield* traceOf(h, "echo")
          for (const s of trace.spans) {
            for (const key of [Attributes.SpanInputs, Attributes.SpanOutputs]) {
              const value = s.attributes[key]
              if (value !== undefined) expect(bytesOf(String(value)), `${s.name} ${key}`).toBeLessThanOrEqual(2000)
            }
            for (const e of s.events) for (const v of Object.values(e.attributes)) expect(bytesOf(String(v))).toBeLessThanOrEqual(2000)
          }
          expect(JSON.parse(String(span(trace, "gateway/").attributes[Attributes.SpanInputs])).truncated).toBe(true)
        }))
      yield* withGateway(() => ({ ...echoEndpoints, tracing: { captureContent: "none", maxChunkEvents: 10 } }), (h) =>
        Effect.gen(function*() {
          yield* askEcho(h, false)
          const trace = yield* traceOf(h, "echo")
          expect(trace.spans.length).toBe(2)
          for (const s of trace.spans) {
            expect(s.attributes[Attributes.SpanInputs], s.name).toBeUndefined()
            expect(s.attributes[Attributes.SpanOutputs], s.name).toBeUndefined()
            expect(s.events.filter((e) => e.name.startsWith("mlflow.chunk.")), s.name).toEqual([])
          }
          expect(JSON.stringify(trace)).not.toContain("xxxxxxxx")
        }))
    }))
})

describe("Payload.fit", () => {
  /** One character of any kind, with the awkward ones often: quotes, backslashes, controls, astral, lone surrogates. */
  const unit = FastCheck.oneof(
    { arbitrary: FastCheck.string({ unit: "binary", minLength: 1, maxLength: 1 }), weight: 3 },
    { arbitrary: FastCheck.constantFrom("\ud83d", "\ude00", "😀", "\"", "\\", "\u0000", "\n", "é"), weight: 1 }
  )
  const jsonText = FastCheck.jsonValue({ stringUnit: unit, maxDepth: 3 }).map((value) => JSON.stringify(value))

  it.prop("valid JSON within the budget (≥ 64 bytes), and the text itself when it fits", [jsonText, FastCheck.integer({ min: 64, max: 4096 })], ([json, max]) => {
    const out = Payload.fit(json, max)
    expect(bytesOf(out)).toBeLessThanOrEqual(max)
    if (bytesOf(json) <= max) {
      expect(out).toBe(json)
    } else {
      const note = JSON.parse(out) as Truncated
      expect(note.truncated).toBe(true)
      expect(note.bytes).toBe(bytesOf(json))
      expect(json.startsWith(note.head)).toBe(true)
    }
  })

  it.prop("a truncated text keeps a head of at least a sixth of the budget", [FastCheck.string({ unit, minLength: 3000, maxLength: 6000 }), FastCheck.integer({ min: 256, max: 2048 })], ([text, max]) => {
    const json = JSON.stringify(text)
    const out = Payload.fit(json, max)
    expect(bytesOf(out)).toBeLessThanOrEqual(max)
    const note = JSON.parse(out) as Truncated
    expect(json.startsWith(note.head)).toBe(true)
    // A unit of JSON text is at most 3 bytes once escaped again: the head starts at a third of the room, halved at
    // most once (a cut surrogate pair).
    expect(note.head.length).toBeGreaterThanOrEqual(Math.floor((max - 64) / 6))
  })

  it("the gateway config refuses a budget too small for the truncation note", () => {
    const decode = (maxPayloadBytes: number) =>
      GatewayConfig.decode({ tracing: { maxPayloadBytes }, endpoints: [{ name: "echo", provider: { kind: "echo" } }] })
    expect(decode(64)._tag).toBe("Right")
    expect(decode(63)).toEqual(Either.left("tracing.maxPayloadBytes: expected an integer number of bytes, at least 64, got 63"))
    // The smallest note, for the largest byte count a JSON text can have, fits in 64 bytes.
    expect(bytesOf(JSON.stringify({ truncated: true, bytes: Number.MAX_SAFE_INTEGER, head: "" }))).toBeLessThanOrEqual(64)
  })
})
