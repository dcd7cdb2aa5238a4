import { assert, describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Fiber, Option, Stream } from "effect"
import * as Fold from "../../src/Fold.js"
import * as Attributes from "../../src/tracing/Attributes.js"
import * as GatewaySpan from "../../src/tracing/GatewaySpan.js"
import { TraceStore } from "../../src/tracing/TraceStore.js"
import * as Tracing from "../support/tracing.js"

const endpoint: GatewaySpan.Endpoint = { id: "test-endpoint-id", name: "test-endpoint", usageTracking: true }
const untracked: GatewaySpan.Endpoint = { ...endpoint, usageTracking: false }

const handler = (payload: unknown) => Effect.succeed({ result: "success", payload })

/** The only trace in the store, and its gateway span. */
const onlyTrace = Effect.gen(function*() {
  const store = yield* TraceStore
  const traces = yield* store.searchTraces()
  expect(traces.length).toBe(1)
  const trace = Option.getOrThrow(yield* store.getTrace(traces[0]!.traceId))
  const span = trace.spans.find((s) => s.name === "gateway/test-endpoint")
  assert(span !== undefined, "gateway span")
  return { trace, span }
})

const json = (value: unknown) => JSON.parse(String(value))

describe("GatewaySpan", () => {
  it.live("traces a call: endpoint attributes, unwrapped inputs, outputs, no user metadata", () =>
    Effect.gen(function*() {
      const result = yield* GatewaySpan.traced(endpoint, { payload: { input: "test" } })(handler({ input: "test" }))
      expect(result).toEqual({ result: "success", payload: { input: "test" } })
      const { trace, span } = yield* onlyTrace
      expect(span.kind).toBe("SERVER")
      expect(span.parentSpanId).toBeNull()
      expect(span.status.code).toBe("OK")
      expect(span.attributes[Attributes.EndpointId]).toBe("test-endpoint-id")
      expect(span.attributes[Attributes.EndpointName]).toBe("test-endpoint")
      expect(json(span.attributes[Attributes.SpanInputs])).toEqual({ input: "test" })
      expect(json(span.attributes[Attributes.SpanOutputs])).toEqual(result)
      expect(trace.metadata[Attributes.AuthUsername]).toBeUndefined()
      expect(trace.metadata[Attributes.AuthUserId]).toBeUndefined()
    }).pipe(Effect.provide(Tracing.layer)))

  it.live("user metadata is trace metadata, not a span attribute", () =>
    Effect.gen(function*() {
      yield* GatewaySpan.traced(endpoint, {
        payload: { input: "test" },
        metadata: { [Attributes.AuthUsername]: "alice", [Attributes.AuthUserId]: "123" }
      })(handler({ input: "test" }))
      const { trace, span } = yield* onlyTrace
      expect(trace.metadata[Attributes.AuthUsername]).toBe("alice")
      expect(trace.metadata[Attributes.AuthUserId]).toBe("123")
      expect(span.attributes[Attributes.AuthUsername]).toBeUndefined()
      expect(span.attributes[Attributes.AuthUserId]).toBeUndefined()
      expect(span.attributes[Attributes.EndpointId]).toBe("test-endpoint-id")
    }).pipe(Effect.provide(Tracing.layer)))

  it.live("usage tracking off: the same effect, function and stream come back, and nothing is recorded", () =>
    Effect.gen(function*() {
      const effect = handler({ input: "test" })
      const stream = Stream.make(1, 2, 3)
      const request = { payload: { input: "test" }, metadata: { [Attributes.AuthUsername]: "alice" } }
      expect(GatewaySpan.traced(untracked, request)(effect)).toBe(effect)
      expect(GatewaySpan.tracedFunction(untracked, request)(handler)).toBe(handler)
      expect(GatewaySpan.tracedStream(untracked, request)(stream)).toBe(stream)
      expect(yield* GatewaySpan.tracedFunction(untracked)(handler)({ input: "test" })).toEqual({
        result: "success",
        payload: { input: "test" }
      })
      const store = yield* TraceStore
      expect(yield* store.searchTraces()).toEqual([])
    }).pipe(Effect.provide(Tracing.layer)))

  it.live("a traced function records its payload argument, unwrapped", () =>
    Effect.gen(function*() {
      const passthrough = (payload: { readonly messages: ReadonlyArray<unknown> }) =>
        Effect.succeed({ result: "success", action: "test_action", payload })
      const traced = GatewaySpan.tracedFunction(endpoint)(passthrough)
      const result = yield* traced({ messages: [{ role: "user", content: "hi" }] })
      expect(result.result).toBe("success")
      const { span } = yield* onlyTrace
      expect(json(span.attributes[Attributes.SpanInputs])).toEqual({ messages: [{ role: "user", content: "hi" }] })
    }).pipe(Effect.provide(Tracing.layer)))

  it.live("message format and request type", () =>
    Effect.gen(function*() {
      yield* GatewaySpan.traced(endpoint, { payload: {}, messageFormat: "openai", requestType: "chat" })(handler({}))
      const { trace, span } = yield* onlyTrace
      expect(span.attributes[Attributes.MessageFormat]).toBe("openai")
      expect(trace.metadata[Attributes.GatewayRequestType]).toBe("chat")
      expect(trace.metadata[Attributes.GatewayEndpointId]).toBe("test-endpoint-id")
    }).pipe(Effect.provide(Tracing.layer)))

  it.live("a stream passes through unchanged and its output is the fold's result, not the chunks", () =>
    Effect.gen(function*() {
      const words = Fold.make<string, { text: string }, { readonly text: string }>({
        initial: () => ({ text: "" }),
        step: (s, w) => {
          s.text += w
          return s
        },
        done: (s) => Option.some({ text: s.text })
      })
      const chunks = yield* Stream.make("Hello", " ", "world").pipe(
        GatewaySpan.tracedStream(endpoint, { payload: { messages: [{ role: "user", content: "hi" }] } }, words),
        Stream.runCollect
      )
      expect([...chunks]).toEqual(["Hello", " ", "world"])
      const { span } = yield* onlyTrace
      expect(json(span.attributes[Attributes.SpanInputs])).toEqual({ messages: [{ role: "user", content: "hi" }] })
      expect(json(span.attributes[Attributes.SpanOutputs])).toEqual({ text: "Hello world" })
      expect(span.status.code).toBe("OK")
    }).pipe(Effect.provide(Tracing.layer)))

  it.live("a failure ends the span ERROR with an exception event and error.type", () =>
    Effect.gen(function*() {
      class Boom extends Error {
        override readonly name = "Boom"
      }
      const exit = yield* GatewaySpan.traced(endpoint, { payload: {} })(Effect.fail(new Boom("upstream exploded"))).pipe(Effect.exit)
      expect(Exit.isFailure(exit)).toBe(true)
      const { span } = yield* onlyTrace
      expect(span.status.code).toBe("ERROR")
      expect(span.attributes[Attributes.ErrorType]).toBe("Boom")
      expect(span.events.some((e) => e.name === "exception")).toBe(true)
      expect(span.attributes[Attributes.SpanOutputs]).toBeUndefined()
    }).pipe(Effect.provide(Tracing.layer)))

  it.live("a consumer that stops early ends the span cancelled with the partial output", () =>
    Effect.gen(function*() {
      const count = Fold.make<number, { n: number }, number>({
        initial: () => ({ n: 0 }),
        step: (s) => {
          s.n++
          return s
        },
        done: (s) => Option.some(s.n)
      })
      yield* Stream.iterate(0, (n) => n + 1).pipe(
        GatewaySpan.tracedStream(endpoint, { payload: {} }, count),
        Stream.take(3),
        Stream.runDrain
      )
      const { span } = yield* onlyTrace
      expect(span.status.code).toBe("ERROR")
      expect(span.attributes[Attributes.ErrorType]).toBe(Attributes.ErrorTypeCancelled)
      expect(json(span.attributes[Attributes.SpanOutputs])).toBeGreaterThanOrEqual(3)
    }).pipe(Effect.provide(Tracing.layer)))

  it.live("an interrupted call ends the span cancelled", () =>
    Effect.gen(function*() {
      const fiber = yield* GatewaySpan.traced(endpoint, { payload: {} })(Effect.never).pipe(Effect.fork)
      yield* Effect.sleep("20 millis")
      yield* Fiber.interrupt(fiber)
      const { span } = yield* onlyTrace
      expect(span.status.code).toBe("ERROR")
      expect(span.attributes[Attributes.ErrorType]).toBe("cancelled")
      const ledger = yield* Tracing.Ledger
      expect(ledger.open()).toEqual([])
    }).pipe(Effect.provide(Tracing.layer)))
})

describe("GatewaySpan.caller", () => {
  const cases: ReadonlyArray<readonly [string, Record<string, string>, string | undefined]> = [
    ["explicit header wins over user-agent", { "x-mlflow-gateway-caller": "my-agent", "user-agent": "python-requests/2.31" }, "my-agent"],
    ["user-agent product token", { "user-agent": "python-requests/2.31.0" }, "python-requests"],
    ["user-agent without version", { "user-agent": "curl" }, "curl"],
    ["header names are case-insensitive", { "X-MLflow-Gateway-Caller": "Agent", "User-Agent": "x/1" }, "Agent"],
    ["upper-case user-agent", { "USER-AGENT": "OpenAI/JS 6.49.0" }, "OpenAI"],
    ["trimmed", { "x-mlflow-gateway-caller": "  spaced  " }, "spaced"],
    ["whitespace-only caller falls back to user-agent", { "x-mlflow-gateway-caller": "   ", "user-agent": "ua/1" }, "ua"],
    ["whitespace-only everywhere is none", { "x-mlflow-gateway-caller": " ", "user-agent": "  /1" }, undefined],
    ["nothing is none", {}, undefined]
  ]
  for (const [name, headers, expected] of cases) {
    it(name, () => {
      expect(Option.getOrUndefined(GatewaySpan.caller(headers))).toBe(expected)
    })
  }

  it.live("the caller is trace metadata", () =>
    Effect.gen(function*() {
      yield* GatewaySpan.traced(endpoint, { payload: {}, headers: { "User-Agent": "OpenAI/JS 6.49.0" } })(handler({}))
      const { trace, span } = yield* onlyTrace
      expect(trace.metadata[Attributes.GatewayCaller]).toBe("OpenAI")
      expect(span.attributes[Attributes.GatewayCaller]).toBeUndefined()
    }).pipe(Effect.provide(Tracing.layer)))
})
