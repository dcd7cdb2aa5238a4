/**
 * README "Trace your own calls": both snippets, run for real from the sources against a local echo server (no key,
 * no network), with the base URL and where the console tree is written as parameters. If this test changes, so
 * does the README.
 */
import * as LanguageModel from "@effect/ai/LanguageModel"
import * as OpenAiClient from "@effect/ai-openai/OpenAiClient"
import * as OpenAiLanguageModel from "@effect/ai-openai/OpenAiLanguageModel"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, Redacted } from "effect"
import OpenAI from "openai"
import { ClientTracing, Telemetry } from "../../src/index.js"
import * as EchoServer from "../support/echoServer.js"

/** README: "With Effect and @effect/ai". */
const effectSnippet = (apiUrl: string, write: (text: string) => void) => {
  // Every call of this model is a provider span: ClientTracing.layer traces the HttpClient beneath it.
  const Model = OpenAiLanguageModel.layer({ model: "gpt-5-mini" }).pipe(
    Layer.provide(OpenAiClient.layer({ apiKey: Redacted.make(process.env["OPENAI_API_KEY"] ?? "none"), apiUrl })),
    Layer.provide(ClientTracing.layer()),
    Layer.provide(NodeHttpClient.layerUndici)
  )

  const program = LanguageModel.generateText({ prompt: "hello traced world" }).pipe(
    Effect.map((response) => response.text),
    Effect.withSpan("my-agent")
  )

  // Spans go to the embedded store, to stderr as a tree (`console`), and over OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set.
  const TelemetryLive = Telemetry.layerFromEnv({ serviceName: "my-agent", console: { write } })

  return program.pipe(Effect.provide(Model), Effect.provide(TelemetryLive), Effect.runPromise)
}

/** README: "With the official SDKs, no Effect". */
const sdkSnippet = async (baseURL: string, write: (text: string) => void) => {
  // A fetch that traces provider calls; its spans go through the Telemetry layer given (default `layerFromEnv()`).
  const fetch = ClientTracing.fetch({ telemetry: Telemetry.layerFromEnv({ serviceName: "my-agent", console: { write } }) })
  const openai = new OpenAI({ apiKey: process.env["OPENAI_API_KEY"] ?? "none", baseURL, fetch })

  const stream = await openai.chat.completions.create({
    model: "gpt-5-mini",
    messages: [{ role: "user", content: "hello traced world" }],
    stream: true,
    stream_options: { include_usage: true }
  })
  let text = ""
  for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? ""

  // Flushes the spans (also done when the process is about to exit).
  await fetch.shutdown()
  return text
}

describe("README: trace your own calls", () => {
  it.scopedLive("Effect + @effect/ai: the answer, and the provider span under @effect/ai's span in the printed tree", () =>
    Effect.gen(function*() {
      const server = yield* EchoServer.scoped()
      const printed: Array<string> = []
      const text = yield* Effect.promise(() => effectSnippet(`${server.url}/v1`, (t) => void printed.push(t)))
      expect(text).toBe("hello traced world")
      expect(printed).toHaveLength(1)
      expect(printed[0]).toMatch(/^trace [0-9a-f]{32}\n└─ my-agent .*\n {3}└─ LanguageModel\.generateText .*\n {6}└─ provider\/openai\/gpt-5-mini {2}[\d.]+ ms {2}OK/)
      expect(server.received[0]!.headers.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/)
    }))

  it.scopedLive("plain SDK with ClientTracing.fetch(): the streamed answer, one provider span printed", () =>
    Effect.gen(function*() {
      const server = yield* EchoServer.scoped()
      const printed: Array<string> = []
      const text = yield* Effect.promise(() => sdkSnippet(`${server.url}/v1`, (t) => void printed.push(t)))
      expect(text).toBe("hello traced world")
      expect(printed).toHaveLength(1)
      expect(printed[0]).toMatch(/^trace [0-9a-f]{32}\n└─ provider\/openai\/gpt-5-mini {2}[\d.]+ ms {2}OK {2}model=gpt-5-mini {2}tokens 3→3 {2}ttft [\d.]+ ms\n$/)
    }))
})
