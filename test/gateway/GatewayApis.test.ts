/**
 * The gateway's newer routes and span attributes, end to end over real sockets with the official SDKs:
 * - a stream request answered with JSON is traced as what it is (OK, with usage), the client's bytes unaltered;
 * - OpenAI embeddings and legacy completions (streamed and not, usage asked for and stripped), Gemini
 *   `:embedContent` / `:batchEmbedContents`, through the passthrough routes with usage;
 * - the request's parameters and the response's `openai.*` fields on the provider span;
 * - `tracing.captureContent: "none"`: no inputs, outputs or chunk events anywhere, usage and model kept.
 */
import { GoogleGenAI } from "@google/genai"
import { assert, describe, expect, it } from "@effect/vitest"
import { Effect, Option } from "effect"
import { readFileSync } from "node:fs"
import OpenAI from "openai"
import * as OpenAiChat from "../../src/providers/OpenAiChat.js"
import * as OpenAiCompletions from "../../src/providers/OpenAiCompletions.js"
import * as A from "../../src/tracing/Attributes.js"
import type { StoredSpan } from "../../src/tracing/TraceStore.js"
import * as Harness from "../support/gateway.js"
import { span, traceOf } from "../support/gateway.js"
import type * as Upstreams from "../support/upstreams.js"

const fixture = (path: string) => new Uint8Array(readFileSync(new URL(`../fixtures/${path}`, import.meta.url)))
const chatJson = Option.getOrThrow(OpenAiChat.aggregate([fixture("openai-chat/text-usage.sse")]))
const completionJson = Option.getOrThrow(OpenAiCompletions.aggregate([fixture("openai-completions/n2-logprobs-usage.sse")]))
const floats = [0.5, -0.25, 0.125]
const embeddingsJson = {
  object: "list",
  // What the API sends to the SDK's default `encoding_format: "base64"`: little-endian float32.
  data: [{ object: "embedding", index: 0, embedding: Buffer.from(new Float32Array(floats).buffer).toString("base64") }],
  model: "text-embedding-3-small",
  usage: { prompt_tokens: 4, total_tokens: 4 }
}

const replies: Record<string, Upstreams.Reply> = {
  "chat-json": { body: JSON.stringify(chatJson), contentType: "application/json" },
  "completions-stream": { body: fixture("openai-completions/n2-logprobs-usage.sse") },
  "completions-json": { body: JSON.stringify(completionJson), contentType: "application/json" },
  "embeddings": { body: JSON.stringify(embeddingsJson), contentType: "application/json" }
}

const replay = (up: Upstreams.Upstream, name: string) => ({
  name,
  provider: { kind: "openai", model: `${name}-model`, baseUrl: `${up.url}/replay/${name}/v1`, apiKeyEnv: "TEST_UPSTREAM_KEY" }
})

const endpoints = (up: Upstreams.Upstream) => ({
  endpoints: [{ name: "echo", provider: { kind: "echo" } }, ...Object.keys(replies).map((name) => replay(up, name))]
})

const withGateway = <A, E>(configure: (up: Upstreams.Upstream) => Record<string, unknown>, test: (h: Harness.Harness) => Effect.Effect<A, E>) =>
  Harness.withGateway(configure, test, replies)

const openai = (baseURL: string) => new OpenAI({ apiKey: "sk-client", baseURL, maxRetries: 0 })
const genai = (h: Harness.Harness) => new GoogleGenAI({ apiKey: "unused", httpOptions: { baseUrl: `${h.url}/gateway/gemini` } })

const usage = (s: StoredSpan) => [s.attributes[A.GenAiUsageInputTokens], s.attributes[A.GenAiUsageOutputTokens]]

describe("Stream detection by Content-Type", () => {
  it.live("a stream request answered with JSON: the client gets the JSON as sent; the span is OK with usage", () =>
    withGateway(endpoints, (h) =>
      Effect.gen(function*() {
        const body = JSON.stringify({ model: "chat-json", stream: true, messages: [{ role: "user", content: "hi" }] })
        const response = yield* Effect.promise(() =>
          fetch(`${h.url}/gateway/openai/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body })
        )
        expect(response.headers.get("content-type")).toBe("application/json")
        expect(yield* Effect.promise(() => response.text())).toBe(JSON.stringify(chatJson))
        const provider = span(yield* traceOf(h, "chat-json"), "provider/")
        expect(provider.status.code).toBe("OK")
        expect(provider.attributes[A.ErrorType]).toBeUndefined()
        expect(provider.attributes[A.GenAiRequestStream]).toBe(true)
        expect(usage(provider)).toEqual([chatJson.usage?.prompt_tokens, chatJson.usage?.completion_tokens])
        expect(provider.attributes[A.GenAiResponseFinishReasons]).toEqual(["stop"])
        expect(provider.attributes[A.GenAiResponseTimeToFirstChunk]).toBeUndefined()
      })))
})

describe("Embeddings and legacy completions through the gateway", () => {
  it.live("OpenAI embeddings (client.embeddings.create): the SDK's result as direct; the span has usage, model and the encoding", () =>
    withGateway(endpoints, (h) =>
      Effect.gen(function*() {
        const create = (base: string) => Effect.promise(() => openai(base).embeddings.create({ model: "embeddings", input: "the quick brown fox" }))
        const via = yield* create(`${h.url}/gateway/openai/v1`)
        expect(via).toEqual(yield* create(`${h.upstream.url}/replay/embeddings/v1`))
        expect(via.data[0]!.embedding).toEqual(floats)
        const provider = span(yield* traceOf(h, "embeddings"), "provider/")
        expect(provider.status.code).toBe("OK")
        expect(provider.attributes[A.GenAiOperationName]).toBe("embeddings")
        expect(usage(provider)).toEqual([4, undefined])
        expect(JSON.parse(String(provider.attributes[A.ChatTokenUsage]))).toMatchObject({ input_tokens: 4, total_tokens: 4 })
        expect(provider.attributes[A.GenAiResponseModel]).toBe("text-embedding-3-small")
        expect(provider.attributes[A.GenAiRequestEncodingFormats]).toEqual(["base64"])
        const sent = h.upstream.requests.find((r) => r.url === "/replay/embeddings/v1/embeddings" && r.headers["traceparent"] !== undefined)
        assert(sent !== undefined)
        expect(JSON.parse(sent.body).model).toBe("embeddings-model")
      })))

  it.live("OpenAI completions (client.completions.create), streamed and not: the SDK's results as direct; usage, finish reasons, fingerprint", () =>
    withGateway(endpoints, (h) =>
      Effect.gen(function*() {
        const streamed = (base: string) =>
          Effect.promise(async () => {
            const chunks: Array<OpenAI.Completion> = []
            // The recorded stream has include_usage's chunks: asked for here, so the gateway passes them on as sent.
            const stream = await openai(base).completions.create({
              model: "completions-stream",
              prompt: "Say hello",
              stream: true,
              stream_options: { include_usage: true },
              n: 2,
              logprobs: 1
            })
            for await (const chunk of stream) chunks.push(chunk)
            return chunks
          })
        const viaStream = yield* streamed(`${h.url}/gateway/openai/v1`)
        expect(viaStream).toEqual(yield* streamed(`${h.upstream.url}/replay/completions-stream/v1`))
        const streamedSpan = span(yield* traceOf(h, "completions-stream"), "provider/")
        expect(streamedSpan.status.code).toBe("OK")
        expect(streamedSpan.attributes[A.GenAiOperationName]).toBe("text_completion")
        expect(usage(streamedSpan)).toEqual([5, 5])
        expect(streamedSpan.attributes[A.GenAiResponseFinishReasons]).toEqual(["stop", "length"])
        expect(streamedSpan.attributes[A.OpenAiResponseSystemFingerprint]).toBe("fp_44709d6fcb")
        expect(streamedSpan.attributes[A.GenAiRequestChoiceCount]).toBe(2)
        expect(JSON.parse(String(streamedSpan.attributes[A.SpanOutputs]))).toEqual(completionJson)

        const create = (base: string) => Effect.promise(() => openai(base).completions.create({ model: "completions-json", prompt: "Say hello", max_tokens: 7 }))
        const via = yield* create(`${h.url}/gateway/openai/v1`)
        expect(via).toEqual(yield* create(`${h.upstream.url}/replay/completions-json/v1`))
        const jsonSpan = span(yield* traceOf(h, "completions-json"), "provider/")
        expect([jsonSpan.status.code, ...usage(jsonSpan), jsonSpan.attributes[A.GenAiRequestMaxTokens]]).toEqual(["OK", 5, 5, 7])
      })))

  it.live("a completions stream without include_usage: the gateway asks for usage and strips it from the client's stream", () =>
    withGateway(endpoints, (h) =>
      Effect.gen(function*() {
        const run = (includeUsage: boolean) =>
          Effect.promise(async () => {
            const chunks: Array<OpenAI.Completion> = []
            const stream = await openai(`${h.url}/gateway/openai/v1`).completions.create({
              model: "echo",
              prompt: "one two three",
              stream: true,
              ...(includeUsage ? { stream_options: { include_usage: true } } : {})
            })
            for await (const chunk of stream) chunks.push(chunk)
            return chunks
          })
        const plain = yield* run(false)
        expect(plain.map((c) => c.choices[0]?.text ?? "").join("")).toBe("one two three")
        expect(plain.every((c) => c.choices.length === 1 && !("usage" in c))).toBe(true)
        const provider = span(yield* traceOf(h, "echo"), "provider/")
        expect(usage(provider)).toEqual([3, 3])
        const withUsage = yield* run(true)
        expect(withUsage.at(-1)).toMatchObject({ choices: [], usage: { prompt_tokens: 3, completion_tokens: 3, total_tokens: 6 } })
      })))

  it.live("the echo provider answers embeddings: base64 (the SDK's default) and float give the same vectors; usage counts the inputs", () =>
    withGateway(endpoints, (h) =>
      Effect.gen(function*() {
        const client = openai(`${h.url}/gateway/openai/v1`)
        const input = ["red green", "blue"]
        const viaBase64 = yield* Effect.promise(() => client.embeddings.create({ model: "echo", input, dimensions: 6 }))
        const viaFloat = yield* Effect.promise(() => client.embeddings.create({ model: "echo", input, dimensions: 6, encoding_format: "float" }))
        expect(viaBase64.data.map((d) => d.embedding)).toEqual(viaFloat.data.map((d) => d.embedding))
        expect(viaFloat.data.map((d) => [d.index, d.embedding.length])).toEqual([[0, 6], [1, 6]])
        expect(viaFloat.usage).toEqual({ prompt_tokens: 3, total_tokens: 3 })
        const provider = span(yield* traceOf(h, "echo"), "provider/")
        expect(usage(provider)).toEqual([3, undefined])
        expect(provider.attributes[A.GenAiEmbeddingsDimensionCount]).toBe(6)
      })))

  it.live("Gemini embeddings (models.embedContent → :batchEmbedContents, and :embedContent): vectors of the asked size, traced", () =>
    withGateway(endpoints, (h) =>
      Effect.gen(function*() {
        const result = yield* Effect.promise(() =>
          genai(h).models.embedContent({ model: "echo", contents: ["alpha beta", "gamma"], config: { outputDimensionality: 4 } })
        )
        expect(result.embeddings?.map((e) => e.values?.length)).toEqual([4, 4])
        const batch = span(yield* traceOf(h, "echo"), "provider/")
        expect(batch.status.code).toBe("OK")
        expect([batch.attributes[A.GenAiProviderName], batch.attributes[A.GenAiOperationName]]).toEqual(["gcp.gemini", "embeddings"])
        expect(batch.attributes[A.GenAiEmbeddingsDimensionCount]).toBe(4)

        const single = yield* Effect.promise(() =>
          fetch(`${h.url}/gateway/gemini/v1beta/models/echo:embedContent`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ content: { parts: [{ text: "alpha beta" }] }, outputDimensionality: 4 })
          }).then((r) => r.json() as Promise<{ embedding: { values: Array<number> } }>)
        )
        // Same text, same echo vector.
        expect(single.embedding.values).toEqual(result.embeddings?.[0]?.values)
      })))
})

describe("Request parameters and content capture through the gateway", () => {
  it.live("a chat request's parameters are the provider span's gen_ai.request.* attributes, typed", () =>
    withGateway(endpoints, (h) =>
      Effect.gen(function*() {
        yield* Effect.promise(() =>
          openai(`${h.url}/gateway/openai/v1`).chat.completions.create({
            model: "echo",
            messages: [{ role: "user", content: "hello there" }],
            max_completion_tokens: 50,
            temperature: 0.3,
            top_p: 0.8,
            seed: 11,
            stop: ["END", "STOP"],
            n: 1,
            response_format: { type: "json_object" }
          })
        )
        const provider = span(yield* traceOf(h, "echo"), "provider/")
        expect(provider.attributes).toMatchObject({
          [A.GenAiRequestMaxTokens]: 50,
          [A.GenAiRequestTemperature]: 0.3,
          [A.GenAiRequestTopP]: 0.8,
          [A.GenAiRequestSeed]: 11,
          [A.GenAiRequestStopSequences]: ["END", "STOP"],
          [A.GenAiOutputType]: "json"
        })
        expect(provider.attributes[A.GenAiRequestChoiceCount]).toBeUndefined()
      })))

  it.live("captureContent none: no inputs, outputs or chunk events on any span; usage, model and parameters kept", () =>
    withGateway((up) => ({ ...endpoints(up), tracing: { captureContent: "none", maxChunkEvents: 10 } }), (h) =>
      Effect.gen(function*() {
        const text = yield* Effect.promise(async () => {
          let out = ""
          const stream = await openai(`${h.url}/gateway/openai/v1`).completions.create({ model: "echo", prompt: "secret words here", stream: true, temperature: 0.5 })
          for await (const chunk of stream) out += chunk.choices[0]?.text ?? ""
          return out
        })
        expect(text).toBe("secret words here")
        const trace = yield* traceOf(h, "echo")
        expect(trace.spans.length).toBe(2)
        for (const s of trace.spans) {
          expect(s.attributes[A.SpanInputs], s.name).toBeUndefined()
          expect(s.attributes[A.SpanOutputs], s.name).toBeUndefined()
          expect(s.events.filter((e) => e.name.startsWith("mlflow.chunk.")), s.name).toEqual([])
        }
        expect(JSON.stringify(trace)).not.toContain("secret")
        const provider = span(trace, "provider/")
        expect(usage(provider)).toEqual([3, 3])
        expect(provider.attributes[A.GenAiResponseModel]).toBe("echo")
        expect(provider.attributes[A.GenAiRequestTemperature]).toBe(0.5)
        expect(provider.status.code).toBe("OK")
      })))
})
