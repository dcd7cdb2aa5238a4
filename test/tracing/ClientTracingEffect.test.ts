/**
 * `ClientTracing.layer` under `@effect/ai` (unchanged `@effect/ai-openai` and `@effect/ai-anthropic` clients) against
 * local upstreams on 127.0.0.1: one provider span per call, nested under `@effect/ai`'s span for `generateText` and
 * under the caller's span for `streamText`, with the usage and output the upstream sent and the `traceparent` the
 * upstream saw; early stops, upstream errors and interruptions end the span once; other requests pass untouched.
 */
import * as LanguageModel from "@effect/ai/LanguageModel"
import * as AnthropicClient from "@effect/ai-anthropic/AnthropicClient"
import * as AnthropicLanguageModel from "@effect/ai-anthropic/AnthropicLanguageModel"
import * as OpenAiClient from "@effect/ai-openai/OpenAiClient"
import * as OpenAiLanguageModel from "@effect/ai-openai/OpenAiLanguageModel"
import * as HttpClient from "@effect/platform/HttpClient"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { describe, expect, it } from "@effect/vitest"
import { Chunk, Effect, Exit, Fiber, Layer, Option, Redacted, Stream } from "effect"
import { readFileSync } from "node:fs"
import * as ClientTracing from "../../src/tracing/ClientTracing.js"
import * as TraceStore from "../../src/tracing/TraceStore.js"
import * as EchoServer from "../support/echoServer.js"
import * as Tracing from "../support/tracing.js"
import * as Upstreams from "../support/upstreams.js"

const fixture = (path: string) => readFileSync(new URL(`../fixtures/${path}`, import.meta.url), "utf8")

const openAi = (apiUrl: string, tracing: ClientTracing.Options = {}) =>
  OpenAiLanguageModel.layer({ model: "gpt-4.1" }).pipe(
    Layer.provide(OpenAiClient.layer({ apiKey: Redacted.make("sk-client-secret-1234"), apiUrl })),
    Layer.provide(ClientTracing.layer(tracing)),
    Layer.provide(NodeHttpClient.layerUndici)
  )

const anthropic = (apiUrl: string) =>
  AnthropicLanguageModel.layer({ model: "claude-sonnet-4-5" }).pipe(
    Layer.provide(AnthropicClient.layer({ apiKey: Redacted.make("sk-ant-secret-5678"), apiUrl })),
    Layer.provide(ClientTracing.layer()),
    Layer.provide(NodeHttpClient.layerUndici)
  )

/** Every span recorded so far, flattened. */
const allSpans = Effect.gen(function*() {
  const store = yield* TraceStore.TraceStore
  const summaries = yield* store.searchTraces({ limit: 1000 })
  const traces = yield* Effect.forEach(summaries, (s) => store.getTrace(s.traceId))
  return traces.flatMap((t) => Option.isSome(t) ? t.value.spans : [])
})

const providerSpans = Effect.map(allSpans, (spans) => spans.filter((s) => s.name.startsWith("provider/")))

const attr = (span: { readonly attributes: Readonly<Record<string, unknown>> }, key: string) => span.attributes[key]

describe("ClientTracing.layer with @effect/ai", () => {
  it.scopedLive("generateText (OpenAI Responses): one provider span under LanguageModel.generateText", () =>
    Effect.gen(function*() {
      const server = yield* EchoServer.scoped()
      const response = yield* LanguageModel.generateText({ prompt: "hello traced world" }).pipe(
        Effect.withSpan("caller"),
        Effect.provide(openAi(`${server.url}/v1`))
      )
      const spans = yield* allSpans
      const provider = spans.filter((s) => s.name.startsWith("provider/"))
      expect(provider.map((s) => s.name)).toEqual(["provider/openai/gpt-4.1"])
      const span = provider[0]!
      const generate = spans.find((s) => s.name === "LanguageModel.generateText")!
      expect(span.parentSpanId).toBe(generate.spanId)
      expect(span.status.code).toBe("OK")
      expect(attr(span, "gen_ai.usage.input_tokens")).toBe(response.usage.inputTokens)
      expect(attr(span, "gen_ai.usage.output_tokens")).toBe(response.usage.outputTokens)
      expect(JSON.parse(String(attr(span, "mlflow.spanOutputs"))).output[0].content[0].text).toBe(response.text)
      expect(server.received).toHaveLength(1)
      expect(server.received[0]!.headers.traceparent).toBe(`00-${span.traceId}-${span.spanId}-01`)
      expect(spans.some((s) => s.name.startsWith("http.client"))).toBe(false)
      expect(JSON.stringify(spans)).not.toContain("sk-client-secret-1234")
    }).pipe(Effect.provide(Tracing.layer)))
})
