/**
 * The README's quickstart, run for real: a streamed OpenAI chat call through `@effect/platform`'s HttpClient to a
 * local server, traced by a provider span into the embedded TraceStore. If this test changes, so does the README.
 */
import * as HttpBody from "@effect/platform/HttpBody"
import * as HttpClient from "@effect/platform/HttpClient"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, Option, Stream } from "effect"
import { OpenAiChat, ProviderSpan, Telemetry, TraceStore } from "../src/index.js"
import * as EchoServer from "./support/echoServer.js"

/** README: "Trace a provider call in your own program". */
const chat = (baseUrl: string, prompt: string) => {
  const body = {
    model: "gpt-4o-mini",
    stream: true,
    stream_options: { include_usage: true },
    messages: [{ role: "user", content: prompt }]
  }
  return ProviderSpan.tracedStream(
    { api: OpenAiChat.api, model: body.model, stream: true, payload: body },
    (span) =>
      HttpClient.HttpClient.pipe(
        // The provider span is the call's span: no second `http.client` span, and upstream gets this span's id.
        Effect.map(HttpClient.withTracerDisabledWhen(() => true)),
        Effect.flatMap((client) =>
          client.post(`${baseUrl}/v1/chat/completions`, {
            headers: { traceparent: span.traceparent },
            body: HttpBody.unsafeJson(body)
          })
        ),
        Effect.map((response) => response.stream)
      )
  )
}

describe("README quickstart", () => {
  it.scopedLive("the bytes pass through untouched and the span holds the aggregated response and usage", () =>
    Effect.gen(function*() {
      const server = yield* EchoServer.scoped()
      const bytes = yield* chat(server.url, "hello traced world").pipe(
        Stream.decodeText(),
        Stream.mkString
      )
      expect(bytes).toContain("data: [DONE]")

      const store = yield* TraceStore.TraceStore
      const [summary] = yield* store.searchTraces()
      const trace = Option.getOrThrow(yield* store.getTrace(summary!.traceId))
      const span = trace.spans[0]!
      expect(span.name).toBe("provider/openai/gpt-4o-mini")
      expect(span.status.code).toBe("OK")
      expect(JSON.parse(String(span.attributes["mlflow.spanOutputs"])).choices[0].message.content).toBe(
        "hello traced world"
      )
      expect(JSON.parse(String(span.attributes["mlflow.chat.tokenUsage"]))).toMatchObject({ output_tokens: 3 })
      // The upstream saw the provider span's own trace context, nothing of the caller's.
      expect(server.received[0]!.headers.traceparent).toContain(span.spanId)
    }).pipe(Effect.provide(Layer.mergeAll(Telemetry.layer(), NodeHttpClient.layerUndici))))
})
