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
import * as PacedUpstream from "../support/pacedUpstream.js"
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
  AnthropicLanguageModel.layer({ model: "claude-sonnet-5-5" }).pipe(
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

  it.scopedLive("streamText (OpenAI Responses): the provider span is a child of the caller's span, with the fixture's usage", () =>
    Effect.gen(function*() {
      const upstream = yield* Upstreams.start({ resp: { body: fixture("openai-responses/text.sse") } })
      const parts = yield* LanguageModel.streamText({ prompt: "hello" }).pipe(
        Stream.runCollect,
        Effect.withSpan("caller"),
        Effect.provide(openAi(`${upstream.url}/replay/resp/v1`))
      )
      const text = Chunk.toArray(parts).flatMap((p) => p.type === "text-delta" ? [p.delta] : []).join("")
      const spans = yield* allSpans
      const provider = spans.filter((s) => s.name.startsWith("provider/"))
      expect(provider).toHaveLength(1)
      const span = provider[0]!
      expect(span.parentSpanId).toBe(spans.find((s) => s.name === "caller")!.spanId)
      expect(span.status.code).toBe("OK")
      expect(attr(span, "gen_ai.request.stream")).toBe(true)
      const sent = JSON.parse(fixture("openai-responses/text.sse").split("\n").filter((l) => l.startsWith("data: ") && l.includes("response.completed"))[0]!.slice(6))
      expect(attr(span, "gen_ai.usage.input_tokens")).toBe(sent.response.usage.input_tokens)
      expect(attr(span, "gen_ai.usage.output_tokens")).toBe(sent.response.usage.output_tokens)
      expect(JSON.parse(String(attr(span, "mlflow.spanOutputs"))).output).toEqual(sent.response.output)
      expect(text).toBe(sent.response.output[0].content[0].text)
      expect(upstream.requests[0]!.headers.traceparent).toBe(`00-${span.traceId}-${span.spanId}-01`)
      const ledger = yield* Tracing.Ledger
      expect(ledger.open()).toEqual([])
      expect(ledger.endedMoreThanOnce()).toEqual([])
    }).pipe(Effect.provide(Tracing.layer)))

  it.scopedLive("Anthropic generateText and streamText: one span each, with usage", () =>
    Effect.gen(function*() {
      const server = yield* EchoServer.scoped()
      const upstream = yield* Upstreams.start({ msg: { body: fixture("anthropic/text.sse") } })
      const response = yield* LanguageModel.generateText({ prompt: "hello anthropic" }).pipe(
        Effect.provide(anthropic(server.url))
      )
      yield* LanguageModel.streamText({ prompt: "hi" }).pipe(
        Stream.runDrain,
        Effect.withSpan("caller"),
        Effect.provide(anthropic(`${upstream.url}/replay/msg`))
      )
      const spans = yield* allSpans
      const [unary, streamed] = spans.filter((s) => s.name.startsWith("provider/")).sort((a, b) =>
        Number(attr(a, "gen_ai.request.stream")) - Number(attr(b, "gen_ai.request.stream"))
      )
      expect(unary!.name).toBe("provider/anthropic/claude-sonnet-5-5")
      expect(unary!.parentSpanId).toBe(spans.find((s) => s.name === "LanguageModel.generateText")!.spanId)
      expect(attr(unary!, "gen_ai.usage.output_tokens")).toBe(response.usage.outputTokens)
      expect(server.received[0]!.headers.traceparent).toBe(`00-${unary!.traceId}-${unary!.spanId}-01`)
      expect(streamed!.status.code).toBe("OK")
      expect(streamed!.parentSpanId).toBe(spans.find((s) => s.name === "caller")!.spanId)
      expect(attr(streamed!, "gen_ai.usage.output_tokens")).toBe(9)
      expect(attr(streamed!, "gen_ai.response.finish_reasons")).toEqual(["end_turn"])
      expect(JSON.stringify(spans)).not.toContain("sk-ant-secret-5678")
    }).pipe(Effect.provide(Tracing.layer)))

  it.scopedLive("an early stop (Stream.takeUntil the first text delta) ends the span once, cancelled, with the partial output", () =>
    Effect.gen(function*() {
      const events = fixture("openai-responses/text.sse").split("\n").filter((l) => l.startsWith("data: ")).map((l) => l.slice(6))
      const first = events.findIndex((e) => e.includes("output_text.delta"))
      // The deltas at once, then a long pause before the rest: the consumer stops in between.
      const upstream = yield* PacedUpstream.start(events, events.map((_, i) => i === first + 2 ? 5_000 : 0))
      const parts = yield* LanguageModel.streamText({ prompt: "hello" }).pipe(
        Stream.takeUntil((part) => part.type === "text-delta"),
        Stream.runCollect,
        Effect.provide(openAi(`${upstream.url}/v1`))
      )
      expect(Chunk.toArray(parts).filter((p) => p.type === "text-delta")).toHaveLength(1)
      const [span] = yield* providerSpans
      expect(span!.status.code).toBe("ERROR")
      expect(attr(span!, "error.type")).toBe("cancelled")
      expect(JSON.parse(String(attr(span!, "mlflow.spanOutputs"))).output[0].content[0].text).toContain("Olá")
      const ledger = yield* Tracing.Ledger
      expect(ledger.open()).toEqual([])
      expect(ledger.endedMoreThanOnce()).toEqual([])
    }).pipe(Effect.provide(Tracing.layer)))

  it.scopedLive("an upstream error: the call fails as untraced, the span is ERROR with the status, the echoed key masked", () =>
    Effect.gen(function*() {
      const upstream = yield* Upstreams.start({})
      const exit = yield* LanguageModel.generateText({ prompt: "hello" }).pipe(
        Effect.provide(openAi(`${upstream.url}/echo-key/v1`)),
        Effect.exit
      )
      expect(Exit.isFailure(exit)).toBe(true)
      expect(JSON.stringify(exit)).toContain("Incorrect API key provided")
      const spans = yield* allSpans
      const [span] = spans.filter((s) => s.name.startsWith("provider/"))
      expect(span!.status.code).toBe("ERROR")
      expect(attr(span!, "error.type")).toBe("401")
      expect(JSON.stringify(span)).toContain("Incorrect API key provided: ***")
      // (@effect/ai's own span records its error, which quotes the upstream's body as it came.)
      expect(JSON.stringify(spans.filter((s) => s.name !== "LanguageModel.generateText"))).not.toContain("sk-client-secret-1234")
      expect((yield* Tracing.Ledger).endedMoreThanOnce()).toEqual([])
    }).pipe(Effect.provide(Tracing.layer)))

  it.scopedLive("an interrupted stream ends its span once, cancelled; the upstream connection is closed", () =>
    Effect.gen(function*() {
      const upstream = yield* Upstreams.start({})
      const fiber = yield* LanguageModel.streamText({ prompt: "hello" }).pipe(
        Stream.runDrain,
        Effect.provide(openAi(`${upstream.url}/slow/v1`)),
        Effect.fork
      )
      yield* Effect.repeat(Effect.sync(() => upstream.requests.length), { until: (n) => n > 0 })
      yield* Effect.sleep("50 millis")
      yield* Fiber.interrupt(fiber)
      const [span] = yield* providerSpans
      expect(span!.status.code).toBe("ERROR")
      expect(attr(span!, "error.type")).toBe("cancelled")
      const ledger = yield* Tracing.Ledger
      expect(ledger.open()).toEqual([])
      expect(ledger.endedMoreThanOnce()).toEqual([])
      yield* Effect.repeat(Effect.sync(() => upstream.aborted.length), { until: (n) => n > 0 })
    }).pipe(Effect.provide(Tracing.layer)))

  it.scopedLive("captureContent: none records no inputs, outputs or chunks (usage still); maxChunkEvents records the first events", () =>
    Effect.gen(function*() {
      const upstream = yield* Upstreams.start({ resp: { body: fixture("openai-responses/text.sse") } })
      const url = `${upstream.url}/replay/resp/v1`
      yield* LanguageModel.streamText({ prompt: "secret prompt" }).pipe(
        Stream.runDrain,
        Effect.withSpan("none"),
        Effect.provide(openAi(url, { captureContent: "none", maxChunkEvents: 5 }))
      )
      yield* LanguageModel.streamText({ prompt: "hello" }).pipe(
        Stream.runDrain,
        Effect.withSpan("full"),
        Effect.provide(openAi(url, { maxChunkEvents: 2 }))
      )
      const spans = yield* allSpans
      const under = (name: string) => {
        const parent = spans.find((s) => s.name === name)!
        return spans.find((s) => s.name.startsWith("provider/") && s.parentSpanId === parent.spanId)!
      }
      const none = under("none")
      expect(attr(none, "mlflow.spanInputs")).toBeUndefined()
      expect(attr(none, "mlflow.spanOutputs")).toBeUndefined()
      expect(none.events.filter((e) => e.name.startsWith("mlflow.chunk.item."))).toEqual([])
      expect(attr(none, "gen_ai.usage.input_tokens")).toBeGreaterThan(0)
      expect(JSON.stringify(none)).not.toContain("secret prompt")
      const full = under("full")
      expect(String(attr(full, "mlflow.spanInputs"))).toContain("hello")
      expect(full.events.filter((e) => e.name.startsWith("mlflow.chunk.item.")).map((e) => e.name)).toEqual([
        "mlflow.chunk.item.0",
        "mlflow.chunk.item.1"
      ])
    }).pipe(Effect.provide(Tracing.layer)))

  it.scopedLive("other requests pass through untouched; enabled: false traces nothing", () =>
    Effect.gen(function*() {
      const server = yield* EchoServer.scoped()
      const client = (yield* HttpClient.HttpClient).pipe(ClientTracing.withTracing())
      const other = yield* client.get(`${server.url}/v1/models`)
      expect(other.status).toBe(404)
      // A GET to a provider path is not a call either.
      yield* client.get(`${server.url}/v1/chat/completions`)
      const off = yield* LanguageModel.generateText({ prompt: "hello" }).pipe(
        Effect.provide(openAi(`${server.url}/v1`, { enabled: false }))
      )
      const on = yield* LanguageModel.generateText({ prompt: "hello" }).pipe(Effect.provide(openAi(`${server.url}/v1`)))
      expect(off.text).toBe(on.text)
      const spans = yield* providerSpans
      expect(spans).toHaveLength(1)
    }).pipe(Effect.provide(Layer.merge(Tracing.layer, NodeHttpClient.layerUndici))))
})
