/**
 * `ClientTracing.fetch()` given to the official SDKs (openai, @anthropic-ai/sdk, @google/genai), with no Effect in
 * the calling code, against local upstreams replaying fixed bytes: each call's span exported over OTLP/JSON to a
 * local receiver with its usage; the SDK's results identical to an untraced client's; early stops, aborts and
 * upstream errors end the span once; no credential in any exported byte; `enabled: false` traces nothing.
 */
import Anthropic from "@anthropic-ai/sdk"
import { GoogleGenAI } from "@google/genai"
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks"
import { context, ROOT_CONTEXT, trace } from "@opentelemetry/api"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Option } from "effect"
import { readFileSync } from "node:fs"
import OpenAI from "openai"
import * as OpenAiChat from "../../src/providers/OpenAiChat.js"
import * as ClientTracing from "../../src/tracing/ClientTracing.js"
import * as Telemetry from "../../src/tracing/Telemetry.js"
import * as OtlpReceiver from "../support/otlpReceiver.js"
import * as PacedUpstream from "../support/pacedUpstream.js"
import * as Upstreams from "../support/upstreams.js"

const fixture = (path: string) => readFileSync(new URL(`../fixtures/${path}`, import.meta.url), "utf8")
const dataLines = (sse: string) => sse.split("\n").filter((l) => l.startsWith("data: ")).map((l) => l.slice(6))

const chatSse = fixture("openai-chat/text-usage.sse")
const chatJson = JSON.stringify(Option.getOrThrow(OpenAiChat.aggregate([new TextEncoder().encode(chatSse)])))
const chatUsage = JSON.parse(dataLines(chatSse).filter((d) => d.includes("\"usage\":{"))[0]!).usage

const replies = {
  chat: { body: chatSse },
  chatjson: { body: chatJson, contentType: "application/json" },
  resp: { body: fixture("openai-responses/text.sse") },
  ant: { body: fixture("anthropic/text.sse") },
  gem: { body: fixture("gemini/text.sse") }
}

const secrets = ["sk-openai-secret-0001", "sk-ant-secret-0002", "AIza-gemini-secret-0003", "AIza-query-secret-0004"]

/** A traced fetch exporting over OTLP/JSON to the receiver. */
const tracedFetch = (receiver: OtlpReceiver.OtlpReceiver, options: ClientTracing.Options = {}) =>
  ClientTracing.fetch({ ...options, telemetry: Telemetry.layer({ otlp: { url: receiver.url, protocol: "http/json" } }) })

const clients = (url: string, fetch: typeof globalThis.fetch | undefined) => ({
  openai: new OpenAI({ apiKey: secrets[0], baseURL: `${url}/replay/chat/v1`, maxRetries: 0, ...(fetch ? { fetch } : {}) }),
  openaiJson: new OpenAI({ apiKey: secrets[0], baseURL: `${url}/replay/chatjson/v1`, maxRetries: 0, ...(fetch ? { fetch } : {}) }),
  responses: new OpenAI({ apiKey: secrets[0], baseURL: `${url}/replay/resp/v1`, maxRetries: 0, ...(fetch ? { fetch } : {}) }),
  anthropic: new Anthropic({ apiKey: secrets[1], baseURL: `${url}/replay/ant`, maxRetries: 0, ...(fetch ? { fetch } : {}) }),
  genai: new GoogleGenAI({ apiKey: secrets[2]!, httpOptions: { baseUrl: `${url}/replay/gem`, ...(fetch ? { fetch } : {}) } })
})

/** The same calls through either set of clients, their results as plain data. */
const calls = async (c: ReturnType<typeof clients>) => {
  const collect = async <A>(stream: AsyncIterable<A>) => {
    const out: Array<A> = []
    for await (const item of stream) out.push(item)
    return out
  }
  const messages = [{ role: "user" as const, content: "hi" }]
  return {
    chatStream: await collect(await c.openai.chat.completions.create({ model: "gpt-4o-mini", messages, stream: true, stream_options: { include_usage: true } })),
    chat: await c.openaiJson.chat.completions.create({ model: "gpt-4o-mini", messages }),
    responsesStream: await collect(await c.responses.responses.create({ model: "gpt-4.1", input: "hi", stream: true })),
    anthropicStream: await collect(await c.anthropic.messages.create({ model: "claude-sonnet-5-5", max_tokens: 64, messages, stream: true })),
    genaiStream: (await collect(await c.genai.models.generateContentStream({ model: "gemini-2.0-flash", contents: "hi" }))).map((r) => r.text)
  }
}

const num = (value: unknown) => Number(value)

describe("ClientTracing.fetch with the official SDKs", () => {
  it.scopedLive("openai (chat stream and not, responses stream), anthropic and genai streams: spans with usage over OTLP; results identical", () =>
    Effect.gen(function*() {
      const upstream = yield* Upstreams.start(replies)
      const receiver = yield* OtlpReceiver.make
      const fetch = tracedFetch(receiver)
      const plain = yield* Effect.promise(() => calls(clients(upstream.url, undefined)))
      const traced = yield* Effect.promise(() => calls(clients(upstream.url, fetch)))
      expect(JSON.stringify(traced)).toBe(JSON.stringify(plain))
      yield* Effect.promise(() => fetch.shutdown())

      const spans = receiver.spans()
      expect(spans.map((s) => s.name).sort()).toEqual([
        "provider/anthropic/claude-sonnet-5-5",
        "provider/gemini/gemini-2.0-flash",
        "provider/openai/gpt-4.1",
        "provider/openai/gpt-4o-mini",
        "provider/openai/gpt-4o-mini"
      ])
      for (const span of spans) {
        expect(span.kind).toBe(3) // CLIENT
        expect(span.status.code).toBe(1) // OK
        expect(num(span.attributes["gen_ai.usage.input_tokens"])).toBeGreaterThan(0)
        expect(num(span.attributes["gen_ai.usage.output_tokens"])).toBeGreaterThan(0)
      }
      const [chatStream, chat] = spans.filter((s) => s.name === "provider/openai/gpt-4o-mini")
        .sort((a, b) => Number(b.attributes["gen_ai.request.stream"]) - Number(a.attributes["gen_ai.request.stream"]))
      expect(num(chatStream!.attributes["gen_ai.usage.input_tokens"])).toBe(chatUsage.prompt_tokens)
      expect(num(chat!.attributes["gen_ai.usage.output_tokens"])).toBe(chatUsage.completion_tokens)
      // The request's parameters, as the GenAI attributes.
      expect(num(spans.find((s) => s.name.startsWith("provider/anthropic/"))!.attributes["gen_ai.request.max_tokens"])).toBe(64)
      // Each upstream request carried its own span's traceparent, once.
      const traced_ = upstream.requests.slice(5)
      for (const request of traced_) {
        const span = spans.find((s) => request.headers.traceparent === `00-${s.traceId}-${s.spanId}-01`)
        expect(span).toBeDefined()
      }
      expect(upstream.requests.slice(0, 5).every((r) => r.headers.traceparent === undefined)).toBe(true)
      const exported = Buffer.concat(receiver.requests.map((r) => r.body)).toString("utf8")
      for (const secret of secrets) expect(exported).not.toContain(secret)
    }))

  it.scopedLive("a JSON answer to a stream request is an OK span with usage; ?key= is never recorded", () =>
    Effect.gen(function*() {
      const upstream = yield* Upstreams.start(replies)
      const receiver = yield* OtlpReceiver.make
      const fetch = tracedFetch(receiver)
      const text = yield* Effect.promise(async () => {
        const response = await fetch(`${upstream.url}/replay/chatjson/v1/chat/completions`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ model: "gpt-4o-mini", stream: true, messages: [] })
        })
        await fetch(`${upstream.url}/replay/gem/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse&key=${secrets[3]}`, {
          method: "POST",
          body: JSON.stringify({ contents: [] })
        }).then((r) => r.text())
        return response.text()
      })
      expect(text).toBe(chatJson)
      yield* Effect.promise(() => fetch.shutdown())
      const spans = receiver.spans()
      const chat = spans.find((s) => s.name === "provider/openai/gpt-4o-mini")!
      expect(chat.status.code).toBe(1)
      expect(chat.attributes["gen_ai.request.stream"]).toBe(true)
      expect(num(chat.attributes["gen_ai.usage.output_tokens"])).toBe(chatUsage.completion_tokens)
      expect(spans.find((s) => s.name === "provider/gemini/gemini-2.0-flash")!.status.code).toBe(1)
      expect(Buffer.concat(receiver.requests.map((r) => r.body)).toString("utf8")).not.toContain(secrets[3])
    }))

  it.scopedLive("break out of an SDK stream, an aborted request, an upstream error: each span ends once, cancelled or ERROR", () =>
    Effect.gen(function*() {
      const events = dataLines(chatSse)
      const paced = yield* PacedUpstream.start(events, events.map((_, i) => i === 3 ? 5_000 : 0))
      const upstream = yield* Upstreams.start(replies)
      const receiver = yield* OtlpReceiver.make
      const fetch = tracedFetch(receiver)
      const openai = new OpenAI({ apiKey: secrets[0], baseURL: `${paced.url}/v1`, maxRetries: 0, fetch })
      const outcome = yield* Effect.promise(async () => {
        const first: Array<string> = []
        for await (const chunk of await openai.chat.completions.create({ model: "gpt-break", messages: [], stream: true })) {
          first.push(chunk.choices[0]?.delta.content ?? "")
          if (first.length === 2) break
        }
        const controller = new AbortController()
        const aborted = await (async () => {
          const stream = await openai.chat.completions.create({ model: "gpt-abort", messages: [], stream: true }, { signal: controller.signal })
          let seen = 0
          // The SDK ends the iteration quietly when its request is aborted.
          for await (const _ of stream) {
            seen++
            controller.abort()
          }
          return seen
        })()
        const failing = new OpenAI({ apiKey: secrets[0], baseURL: `${upstream.url}/echo-key/v1`, maxRetries: 0, fetch })
        const failed = await failing.chat.completions.create({ model: "gpt-denied", messages: [] }).then(() => "ok", (e: Error) => e.constructor.name)
        return { first, aborted, failed }
      })
      expect(outcome.first).toHaveLength(2)
      expect(outcome.aborted).toBeLessThan(events.length)
      expect(outcome.failed).toBe("AuthenticationError")
      yield* Effect.promise(() => fetch.shutdown())
      const spans = receiver.spans()
      // Ended once each: every exported span id is unique.
      expect(new Set(spans.map((s) => s.spanId)).size).toBe(spans.length)
      const byName = (model: string) => spans.filter((s) => s.name === `provider/openai/${model}`)
      for (const model of ["gpt-break", "gpt-abort"]) {
        expect(byName(model)).toHaveLength(1)
        expect(byName(model)[0]!.status.code).toBe(2)
        expect(byName(model)[0]!.attributes["error.type"]).toBe("cancelled")
      }
      expect(JSON.parse(String(byName("gpt-break")[0]!.attributes["mlflow.spanOutputs"])).choices[0].message.content).toBeTypeOf("string")
      const [denied] = byName("gpt-denied")
      expect(denied!.status.code).toBe(2)
      expect(denied!.attributes["error.type"]).toBe("401")
      expect(Buffer.concat(receiver.requests.map((r) => r.body)).toString("utf8")).not.toContain(secrets[0])
    }))

  it.scopedLive("embeddings (OpenAI, Gemini) and legacy completions (streamed): spans with usage", () =>
    Effect.gen(function*() {
      const embedding = {
        object: "list",
        data: [{ object: "embedding", index: 0, embedding: [0.25, -0.5, 0.125] }],
        model: "text-embedding-3-small",
        usage: { prompt_tokens: 7, total_tokens: 7 }
      }
      const completion = (text: string, finish: string | null) =>
        `data: ${JSON.stringify({ id: "cmpl-1", object: "text_completion", created: 1760000000, model: "gpt-3.5-turbo-instruct", choices: [{ text, index: 0, logprobs: null, finish_reason: finish }], usage: null })}\n\n`
      const completions = completion("Hello", null) + completion(" there", "stop") +
        `data: ${JSON.stringify({ id: "cmpl-1", object: "text_completion", created: 1760000000, model: "gpt-3.5-turbo-instruct", choices: [], usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 } })}\n\ndata: [DONE]\n\n`
      const upstream = yield* Upstreams.start({
        emb: { body: JSON.stringify(embedding), contentType: "application/json" },
        cmpl: { body: completions },
        gemb: { body: JSON.stringify({ embeddings: [{ values: [0.5, 0.25] }] }), contentType: "application/json" }
      })
      const receiver = yield* OtlpReceiver.make
      const fetch = tracedFetch(receiver)
      const result = yield* Effect.promise(async () => {
        const openai = (name: string) => new OpenAI({ apiKey: secrets[0], baseURL: `${upstream.url}/replay/${name}/v1`, maxRetries: 0, fetch })
        const vectors = await openai("emb").embeddings.create({ model: "text-embedding-3-small", input: "hi", encoding_format: "float" })
        let text = ""
        for await (const chunk of await openai("cmpl").completions.create({ model: "gpt-3.5-turbo-instruct", prompt: "Say", stream: true, stream_options: { include_usage: true } })) {
          text += chunk.choices[0]?.text ?? ""
        }
        const genai = new GoogleGenAI({ apiKey: secrets[2]!, httpOptions: { baseUrl: `${upstream.url}/replay/gemb`, fetch } })
        const gemini = await genai.models.embedContent({ model: "gemini-embedding-001", contents: "hi" })
        return { vectors: vectors.data[0]!.embedding, text, gemini: gemini.embeddings?.[0]?.values }
      })
      expect(result).toEqual({ vectors: [0.25, -0.5, 0.125], text: "Hello there", gemini: [0.5, 0.25] })
      yield* Effect.promise(() => fetch.shutdown())
      const spans = receiver.spans()
      const byName = (name: string) => spans.find((s) => s.name === name)!
      const emb = byName("provider/openai/text-embedding-3-small")
      expect(emb.attributes["gen_ai.operation.name"]).toBe("embeddings")
      expect(num(emb.attributes["gen_ai.usage.input_tokens"])).toBe(7)
      const cmpl = byName("provider/openai/gpt-3.5-turbo-instruct")
      expect(cmpl.status.code).toBe(1)
      expect(num(cmpl.attributes["gen_ai.usage.output_tokens"])).toBe(2)
      const gemb = byName("provider/gemini/gemini-embedding-001")
      expect(gemb.attributes["gen_ai.operation.name"]).toBe("embeddings")
      expect(gemb.status.code).toBe(1)
    }))

  it.scopedLive("the span's parent is the active OpenTelemetry context", () =>
    Effect.gen(function*() {
      const upstream = yield* Upstreams.start(replies)
      const receiver = yield* OtlpReceiver.make
      const fetch = tracedFetch(receiver)
      const manager = new AsyncLocalStorageContextManager().enable()
      context.setGlobalContextManager(manager)
      yield* Effect.addFinalizer(() => Effect.sync(() => context.disable()))
      const parent = { traceId: "4bf92f3577b34da6a3ce929d0e0e4736", spanId: "00f067aa0ba902b7", traceFlags: 1 }
      const openai = new OpenAI({ apiKey: secrets[0], baseURL: `${upstream.url}/replay/chatjson/v1`, maxRetries: 0, fetch })
      yield* Effect.promise(() =>
        context.with(trace.setSpanContext(ROOT_CONTEXT, parent), () => openai.chat.completions.create({ model: "gpt-4o-mini", messages: [] }))
      )
      yield* Effect.promise(() => fetch.shutdown())
      const [span] = receiver.spans()
      expect(span!.traceId).toBe(parent.traceId)
      expect(span!.parentSpanId).toBe(parent.spanId)
      expect(upstream.requests[0]!.headers.traceparent).toBe(`00-${parent.traceId}-${span!.spanId}-01`)
    }))

  it.scopedLive("enabled: false: no spans, the same results", () =>
    Effect.gen(function*() {
      const upstream = yield* Upstreams.start(replies)
      const receiver = yield* OtlpReceiver.make
      const fetch = tracedFetch(receiver, { enabled: false })
      const plain = yield* Effect.promise(() => calls(clients(upstream.url, undefined)))
      const off = yield* Effect.promise(() => calls(clients(upstream.url, fetch)))
      expect(JSON.stringify(off)).toBe(JSON.stringify(plain))
      yield* Effect.promise(() => fetch.shutdown())
      expect(receiver.spans()).toEqual([])
      expect(upstream.requests.every((r) => r.headers.traceparent === undefined)).toBe(true)
    }))
})
