import { assert, describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Option, Stream } from "effect"
import * as AnthropicMessages from "../../src/providers/AnthropicMessages.js"
import * as OpenAiChat from "../../src/providers/OpenAiChat.js"
import * as Attributes from "../../src/tracing/Attributes.js"
import * as GatewaySpan from "../../src/tracing/GatewaySpan.js"
import * as ProviderSpan from "../../src/tracing/ProviderSpan.js"
import { type StoredSpan, type Trace, TraceStore } from "../../src/tracing/TraceStore.js"
import { utf8 } from "../support/chunking.js"
import * as Tracing from "../support/tracing.js"

const endpoint: GatewaySpan.Endpoint = { id: "test-endpoint-id", name: "test-endpoint", usageTracking: true }

const chatCompletion = (usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number }) => ({
  id: "chatcmpl-1",
  object: "chat.completion",
  created: 1,
  model: "gpt-4",
  choices: [{ index: 0, message: { role: "assistant", content: "ok" }, finish_reason: "stop" }],
  usage
})

const chatStream = (usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number }) =>
  ["Hello", " world"].map((text, i) =>
    utf8(`data: ${JSON.stringify({
      id: "chatcmpl-2",
      object: "chat.completion.chunk",
      created: 1,
      model: "gpt-4",
      choices: [{ index: 0, delta: { content: text }, finish_reason: i === 1 ? "stop" : null }]
    })}\n\n`)
  ).concat([
    utf8(`data: ${JSON.stringify({ id: "chatcmpl-2", object: "chat.completion.chunk", created: 1, model: "gpt-4", choices: [], usage })}\n\n`),
    utf8("data: [DONE]\n\n")
  ])

const openai = { api: OpenAiChat.api, provider: "openai", model: "gpt-4", payload: { messages: [] } }
const anthropic = { api: AnthropicMessages.api, provider: "anthropic", model: "claude-3", stream: false, payload: {} }

/** An agent's root span, ended; returns its ids and the traceparent it would send. */
const agentRoot = Effect.withSpan("agent-root")(Effect.map(Effect.currentSpan, (span) => ({
  traceId: span.traceId,
  spanId: span.spanId,
  traceparent: `00-${span.traceId}-${span.spanId}-01`
}))).pipe(Effect.orDie)

const trace = (traceId: string) =>
  Effect.flatMap(TraceStore, (store) => store.getTrace(traceId)).pipe(Effect.map((t) => Option.getOrThrow(t)))

const byName = (t: Trace, name: string): StoredSpan => {
  const found = t.spans.filter((s) => s.name === name)
  expect(found.length, name).toBe(1)
  return found[0]!
}

/** The gateway's own trace: the one holding a gateway span with no parent. */
const gatewayTrace = Effect.gen(function*() {
  const store = yield* TraceStore
  const roots = (yield* store.searchTraces()).filter((t) => t.rootSpan?.name === "gateway/test-endpoint" && t.rootSpan.parentSpanId === null)
  expect(roots.length).toBe(1)
  return yield* trace(roots[0]!.traceId)
})

/** Everything the seeds check of a replay, for the given provider spans. */
const expectReplay = (agent: { readonly traceId: string; readonly spanId: string }, providers: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const own = yield* gatewayTrace
    expect(own.traceId).not.toBe(agent.traceId)
    const caller = yield* trace(agent.traceId)
    byName(caller, "agent-root")
    const gateway = byName(caller, "gateway/test-endpoint")
    const original = byName(own, "gateway/test-endpoint")
    expect(gateway.parentSpanId).toBe(agent.spanId)
    expect(gateway.attributes[Attributes.EndpointId]).toBe("test-endpoint-id")
    expect(gateway.attributes[Attributes.EndpointName]).toBe("test-endpoint")
    expect(gateway.attributes[Attributes.LinkedGatewayTraceId]).toBe(own.traceId)
    expect([gateway.startTimeUnixNano, gateway.endTimeUnixNano]).toEqual([original.startTimeUnixNano, original.endTimeUnixNano])
    expect(gateway.status.code).toBe(original.status.code)
    expect(gateway.kind).toBe("SERVER")
    for (const name of providers) {
      const copy = byName(caller, name)
      const source = byName(own, name)
      expect(copy.parentSpanId).toBe(gateway.spanId)
      expect(copy.startTimeUnixNano).toBe(source.startTimeUnixNano)
      expect(copy.endTimeUnixNano).toBe(source.endTimeUnixNano)
      expect(copy.status.code).toBe(source.status.code)
      expect(copy.kind).toBe(source.kind)
      for (const key of [Attributes.ChatTokenUsage, Attributes.LlmModel, Attributes.LlmProvider, Attributes.GenAiResponseFinishReasons]) {
        expect(copy.attributes[key], key).toEqual(source.attributes[key])
      }
      expect(source.attributes[Attributes.SpanInputs]).toBeDefined()
    }
    for (const span of caller.spans.filter((s) => s.name !== "agent-root")) {
      expect(span.attributes[Attributes.SpanInputs], span.name).toBeUndefined()
      expect(span.attributes[Attributes.SpanOutputs], span.name).toBeUndefined()
    }
    return { own, caller }
  })

const usage = (span: StoredSpan) => JSON.parse(String(span.attributes[Attributes.ChatTokenUsage]))

describe("Replay into the caller's trace", () => {
  it.live("non-streaming call", () =>
    Effect.gen(function*() {
      const agent = yield* agentRoot
      const result = yield* GatewaySpan.traced(endpoint, { payload: { input: "test" }, headers: { traceparent: agent.traceparent } })(
        ProviderSpan.traced({ ...openai, stream: false }, () =>
          Effect.succeed(chatCompletion({ prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 })))
      )
      expect(result.usage.total_tokens).toBe(15)
      const { caller } = yield* expectReplay(agent, ["provider/openai/gpt-4"])
      const provider = byName(caller, "provider/openai/gpt-4")
      expect(usage(provider)).toEqual({ input_tokens: 10, output_tokens: 5, total_tokens: 15 })
      expect(provider.attributes[Attributes.LlmModel]).toBe("gpt-4")
      expect(provider.attributes[Attributes.LlmProvider]).toBe("openai")
    }).pipe(Effect.provide(Tracing.layer)))

  it.live("streaming call", () =>
    Effect.gen(function*() {
      const agent = yield* agentRoot
      const chunks = yield* ProviderSpan.tracedStream({ ...openai, stream: true }, () =>
        Effect.succeed(Stream.fromIterable(chatStream({ prompt_tokens: 20, completion_tokens: 10, total_tokens: 30 })))).pipe(
          GatewaySpan.tracedStream(endpoint, { payload: { input: "test" }, headers: { traceparent: agent.traceparent } }),
          Stream.runCollect
        )
      expect(chunks.length).toBe(4)
      const { caller } = yield* expectReplay(agent, ["provider/openai/gpt-4"])
      expect(usage(byName(caller, "provider/openai/gpt-4"))).toEqual({ input_tokens: 20, output_tokens: 10, total_tokens: 30 })
    }).pipe(Effect.provide(Tracing.layer)))

  it.live("two providers in one call (a fallback): both replayed under the gateway span", () =>
    Effect.gen(function*() {
      const agent = yield* agentRoot
      yield* GatewaySpan.traced(endpoint, { payload: { input: "test" }, headers: { traceparent: agent.traceparent } })(
        Effect.zipRight(
          ProviderSpan.traced({ ...openai, stream: false }, () =>
            Effect.succeed(chatCompletion({ prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 }))),
          ProviderSpan.traced(anthropic, () =>
            Effect.succeed({
              id: "msg_1",
              type: "message",
              role: "assistant",
              model: "claude-3",
              content: [{ type: "text", text: "ok" }],
              stop_reason: "end_turn",
              stop_sequence: null,
              usage: { input_tokens: 20, output_tokens: 10 }
            }))
        )
      )
      const { caller } = yield* expectReplay(agent, ["provider/openai/gpt-4", "provider/anthropic/claude-3"])
      expect(usage(byName(caller, "provider/openai/gpt-4"))).toEqual({ input_tokens: 10, output_tokens: 5, total_tokens: 15 })
      expect(usage(byName(caller, "provider/anthropic/claude-3"))).toEqual({ input_tokens: 20, output_tokens: 10, total_tokens: 30 })
      expect(byName(caller, "provider/anthropic/claude-3").attributes[Attributes.LlmProvider]).toBe("anthropic")
    }).pipe(Effect.provide(Tracing.layer)))

  it.live("an upstream error: the replayed provider and gateway spans are ERROR", () =>
    Effect.gen(function*() {
      const agent = yield* agentRoot
      const exit = yield* GatewaySpan.traced(endpoint, { payload: {}, headers: { traceparent: agent.traceparent } })(
        ProviderSpan.traced({ ...openai, stream: false }, () => Effect.fail(new Error("429 rate limited")))
      ).pipe(Effect.exit)
      assert(Exit.isFailure(exit))
      const { caller } = yield* expectReplay(agent, ["provider/openai/gpt-4"])
      expect(byName(caller, "provider/openai/gpt-4").status.code).toBe("ERROR")
      expect(byName(caller, "gateway/test-endpoint").status.code).toBe("ERROR")
      expect(byName(caller, "gateway/test-endpoint").attributes[Attributes.ErrorType]).toBeDefined()
    }).pipe(Effect.provide(Tracing.layer)))

  it.live("a consumer that stops mid-stream: the replay still happens, cancelled, timed up to the stop", () =>
    Effect.gen(function*() {
      const agent = yield* agentRoot
      yield* ProviderSpan.tracedStream({ ...openai, stream: true }, () =>
        Effect.succeed(Stream.concat(Stream.fromIterable(chatStream({ prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 }).slice(0, 1)), Stream.never))).pipe(
          GatewaySpan.tracedStream(endpoint, { payload: {}, headers: { traceparent: agent.traceparent } }),
          Stream.take(1),
          Stream.runDrain
        )
      const { caller } = yield* expectReplay(agent, ["provider/openai/gpt-4"])
      for (const name of ["provider/openai/gpt-4", "gateway/test-endpoint"]) {
        expect(byName(caller, name).status.code).toBe("ERROR")
        expect(byName(caller, name).attributes[Attributes.ErrorType]).toBe("cancelled")
      }
    }).pipe(Effect.provide(Tracing.layer)))

  const noReplay = (headers: Record<string, string>, replay: "always" | "never" = "always") =>
    Effect.gen(function*() {
      yield* GatewaySpan.traced(endpoint, { payload: {}, headers, replay })(
        ProviderSpan.traced({ ...openai, stream: false }, () => Effect.succeed(chatCompletion({ prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 })))
      )
      const store = yield* TraceStore
      const traces = yield* store.searchTraces()
      // Only the gateway's own trace: no replay and no orphan trace.
      expect(traces.length).toBe(1)
      expect(traces[0]!.rootSpan?.name).toBe("gateway/test-endpoint")
      expect(traces[0]!.rootSpan?.parentSpanId).toBeNull()
    }).pipe(Effect.provide(Tracing.layer))

  const valid = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
  it.live("no traceparent: no replay", () => noReplay({}))
  it.live("an invalid traceparent (uppercase hex): no replay, no orphan trace", () => noReplay({ traceparent: valid.toUpperCase() }))
  it.live("an invalid traceparent (zero trace id): no replay", () => noReplay({ traceparent: `00-${"0".repeat(32)}-00f067aa0ba902b7-01` }))
  it.live("policy never: no replay even with a valid traceparent", () => noReplay({ traceparent: valid }, "never"))

  it.live("an unsampled caller (flags 00): its sampling decision is kept, nothing is recorded in its trace", () =>
    noReplay({ traceparent: valid.replace(/-01$/, "-00") }))

  for (const name of ["traceparent", "Traceparent", "TRACEPARENT", "TraceParent"]) {
    it.live(`header name ${name} is found`, () =>
      Effect.gen(function*() {
        yield* GatewaySpan.traced(endpoint, { payload: {}, headers: { [name]: valid } })(Effect.void)
        const caller = yield* trace("4bf92f3577b34da6a3ce929d0e0e4736")
        expect(byName(caller, "gateway/test-endpoint").parentSpanId).toBe("00f067aa0ba902b7")
      }).pipe(Effect.provide(Tracing.layer)))
  }

  it.live("no request header but traceparent, tracestate and the caller reaches any span", () =>
    Effect.gen(function*() {
      const secrets = ["sk-live-SECRET-1", "SECRET-api-key-2", "session=SECRET-3", "SECRET-4", "Bearer SECRET-5"]
      yield* GatewaySpan.traced(endpoint, {
        payload: { input: "test" },
        headers: {
          traceparent: valid,
          tracestate: "vendor=abc",
          authorization: `Bearer ${secrets[0]}`,
          "X-Api-Key": secrets[1]!,
          Cookie: secrets[2]!,
          "x-goog-api-key": secrets[3]!,
          "proxy-authorization": secrets[4]!,
          "user-agent": "agent/1.0"
        }
      })(ProviderSpan.traced({ ...openai, stream: false }, () => Effect.succeed(chatCompletion({ prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 }))))
      const store = yield* TraceStore
      const all = []
      for (const summary of yield* store.searchTraces()) all.push(yield* trace(summary.traceId))
      expect(all.length).toBe(2)
      const text = JSON.stringify(all)
      expect(text).not.toContain("SECRET")
      expect(text).toContain("agent")
    }).pipe(Effect.provide(Tracing.layer)))
})
