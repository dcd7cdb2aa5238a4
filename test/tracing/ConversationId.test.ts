/**
 * `gen_ai.conversation.id` on provider spans: the trace's session (`mlflow.trace.session`) of the nearest
 * ancestor that carries it — the gateway span's metadata, or a span of the user's — and nothing without one.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Option } from "effect"
import * as OpenAiChat from "../../src/providers/OpenAiChat.js"
import * as Attributes from "../../src/tracing/Attributes.js"
import * as GatewaySpan from "../../src/tracing/GatewaySpan.js"
import * as ProviderSpan from "../../src/tracing/ProviderSpan.js"
import * as Telemetry from "../../src/tracing/Telemetry.js"
import { TraceStore } from "../../src/tracing/TraceStore.js"

const completion = {
  id: "chatcmpl-1",
  object: "chat.completion",
  created: 1,
  model: "gpt-4o",
  choices: [{ index: 0, message: { role: "assistant", content: "ok" }, finish_reason: "stop" }],
  usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 }
}

const call = (model: string) =>
  ProviderSpan.traced(
    { api: OpenAiChat.api, model, stream: false, payload: { model, messages: [], temperature: 0 } },
    () => Effect.succeed(completion)
  )

const providerSpan = (model: string) =>
  Effect.gen(function*() {
    const store = yield* TraceStore
    for (const summary of yield* store.searchTraces()) {
      const trace = Option.getOrThrow(yield* store.getTrace(summary.traceId))
      const found = trace.spans.find((s) => s.name === `provider/openai/${model}`)
      if (found !== undefined) return found
    }
    throw new Error(`no span for ${model}`)
  })

describe("gen_ai.conversation.id", () => {
  it.live("from the gateway span's session metadata, from a user span's session, and absent without one", () =>
    Effect.gen(function*() {
      const endpoint: GatewaySpan.Endpoint = { id: "ep", name: "chat", usageTracking: true }
      yield* GatewaySpan.traced(endpoint, { payload: {}, metadata: { [Attributes.TraceSession]: "session-42" } })(call("in-gateway"))
      yield* Effect.withSpan("agent", { attributes: { [Attributes.TraceSession]: "thread-7" } })(Effect.withSpan("step")(call("in-agent")))
      yield* Effect.withSpan("plain")(call("no-session"))

      expect((yield* providerSpan("in-gateway")).attributes[Attributes.GenAiConversationId]).toBe("session-42")
      expect((yield* providerSpan("in-agent")).attributes[Attributes.GenAiConversationId]).toBe("thread-7")
      const plain = yield* providerSpan("no-session")
      expect(plain.attributes[Attributes.GenAiConversationId]).toBeUndefined()
      // The request parameters come from the payload, whatever the parent.
      expect(plain.attributes[Attributes.GenAiRequestTemperature]).toBe(0)
    }).pipe(Effect.provide(Telemetry.layerTest)))
})
