/**
 * The README's library snippet, run for real from the sources: a streamed OpenAI chat call through
 * `@effect/platform`'s HttpClient to a local server with no key, traced by a provider span into the embedded
 * TraceStore and printed by the console exporter. (`test/package/Package.test.ts` runs the README's own text
 * against the packed package.) If this test changes, so does the README.
 */
import * as HttpBody from "@effect/platform/HttpBody"
import * as HttpClient from "@effect/platform/HttpClient"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, Option, Stream } from "effect"
import { OpenAiChat, ProviderSpan, Telemetry, TraceStore } from "../src/index.js"
import * as EchoServer from "./support/echoServer.js"

/** README: "Trace a provider call in your own Effect program", with the base URL and key as parameters. */
const chat = (baseUrl: string, apiKey: string | undefined, prompt: string) => {
  const body = {
    model: "gpt-5-mini",
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
          client.post(`${baseUrl}/chat/completions`, {
            headers: {
              traceparent: span.traceparent,
              ...(apiKey === undefined ? {} : { authorization: `Bearer ${apiKey}` })
            },
            body: HttpBody.unsafeJson(body)
          })
        ),
        Effect.map((response) => response.stream)
      )
  )
}

describe("README quickstart", () => {
  const printed: Array<string> = []
  const telemetry = Telemetry.layerConsole({ console: { write: (text) => void printed.push(text) } })

  it.scopedLive("the bytes pass through untouched; the span holds the response and usage, and is printed", () =>
    Effect.gen(function*() {
      const server = yield* EchoServer.scoped()
      const bytes = yield* chat(`${server.url}/v1`, undefined, "hello traced world").pipe(
        Stream.decodeText(),
        Stream.mkString
      )
      expect(bytes).toContain("data: [DONE]")

      const store = yield* TraceStore.TraceStore
      const { traces: [summary] } = yield* store.listTraces({ limit: 1 })
      const trace = Option.getOrThrow(yield* store.getTrace(summary!.traceId))
      const span = trace.spans[0]!
      expect(trace.spans).toHaveLength(1)
      expect(summary).toMatchObject({ spanCount: 1, models: ["gpt-5-mini"], streamed: true, status: "ok" })
      expect(span.name).toBe("provider/openai/gpt-5-mini")
      expect(span.status.code).toBe("OK")
      expect(JSON.parse(String(span.attributes["mlflow.spanOutputs"])).choices[0].message.content).toBe(
        "hello traced world"
      )
      expect(JSON.parse(String(span.attributes["mlflow.chat.tokenUsage"]))).toMatchObject({ output_tokens: 3 })
      // The upstream saw the provider span's own trace context, and no `authorization` without a key.
      expect(server.received[0]!.headers.traceparent).toContain(span.spanId)
      expect(server.received[0]!.headers.authorization).toBeUndefined()
      expect(printed).toEqual([
        expect.stringMatching(
          new RegExp(`^trace ${span.traceId}\\n└─ provider/openai/gpt-5-mini  [\\d.]+ ms  OK  model=gpt-5-mini  tokens \\d+→3  ttft [\\d.]+ ms\\n$`)
        )
      ])
    }).pipe(Effect.provide(Layer.mergeAll(telemetry, NodeHttpClient.layerUndici))))

  it.scopedLive("with a key, it is sent as the bearer token", () =>
    Effect.gen(function*() {
      const server = yield* EchoServer.scoped()
      yield* chat(`${server.url}/v1`, "sk-test", "hi").pipe(Stream.runDrain)
      expect(server.received[0]!.headers.authorization).toBe("Bearer sk-test")
    }).pipe(Effect.provide(Layer.mergeAll(Telemetry.layer(), NodeHttpClient.layerUndici))))
})
