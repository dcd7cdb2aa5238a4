import Anthropic from "@anthropic-ai/sdk"
import { GoogleGenAI } from "@google/genai"
import { assert, describe, expect, it } from "@effect/vitest"
import { Effect, Option } from "effect"
import { readFileSync } from "node:fs"
import { request as httpRequest } from "node:http"
import OpenAI from "openai"
import * as AnthropicMessages from "../../src/providers/AnthropicMessages.js"
import * as GeminiGenerateContent from "../../src/providers/GeminiGenerateContent.js"
import * as OpenAiChat from "../../src/providers/OpenAiChat.js"
import * as OpenAiResponses from "../../src/providers/OpenAiResponses.js"
import * as Attributes from "../../src/tracing/Attributes.js"
import type { StoredSpan, Summary, Trace } from "../../src/tracing/TraceStore.js"
import * as TokenUsage from "../../src/TokenUsage.js"
import { readSseFiles, withSharedFixtures } from "../support/chunking.js"
import * as Harness from "../support/gateway.js"
import { eventually, span, traceOf } from "../support/gateway.js"
import * as Upstreams from "../support/upstreams.js"

const fixture = (path: string) => new Uint8Array(readFileSync(new URL(`../fixtures/${path}`, import.meta.url)))
const json = (value: unknown) => JSON.stringify(value)

const replies: Record<string, Upstreams.Reply> = {
  "chat-stream": { body: fixture("openai-chat/tool-call.sse") },
  "chat-json": { body: json(Option.getOrThrow(OpenAiChat.aggregate([fixture("openai-chat/text-usage.sse")]))), contentType: "application/json" },
  "responses-stream": { body: fixture("openai-responses/function-call.sse") },
  "responses-json": { body: json(Option.getOrThrow(OpenAiResponses.aggregate([fixture("openai-responses/text.sse")]))), contentType: "application/json" },
  "messages-stream": { body: fixture("anthropic/tool-use.sse") },
  "messages-json": { body: json(Option.getOrThrow(AnthropicMessages.aggregate([fixture("anthropic/cache-read-write.sse")]))), contentType: "application/json" },
  "gemini-stream": { body: fixture("gemini/function-call-signature.sse") },
  "gemini-json": { body: json(Option.getOrThrow(GeminiGenerateContent.aggregate([fixture("gemini/text.sse")]))), contentType: "application/json" },
  "rate-limited": { status: 429, contentType: "application/json", body: json({ error: { message: "Rate limit reached", type: "rate_limit_error" } }) }
}

type Kind = "openai" | "anthropic" | "gemini" | "echo"
const versionPath: Record<Exclude<Kind, "echo">, string> = { openai: "/v1", anthropic: "/v1", gemini: "/v1beta" }

/** An endpoint named `name` whose provider replays `reply`. */
const replayEndpoint = (up: Upstreams.Upstream, name: string, kind: Exclude<Kind, "echo">, reply: string, extra: object = {}) => ({
  name,
  provider: { kind, model: `${kind}-model`, baseUrl: `${up.url}/replay/${reply}${versionPath[kind]}`, apiKeyEnv: "TEST_UPSTREAM_KEY" },
  ...extra
})

/** The gateway (served by `Server.layer`) in front of the upstream serving this file's replies. */
const withGateway = <A, E>(configure: (up: Upstreams.Upstream) => Record<string, unknown>, test: (h: Harness.Harness) => Effect.Effect<A, E>) =>
  Harness.withGateway(configure, test, replies)

const standard = (up: Upstreams.Upstream) => ({
  endpoints: [
    { name: "echo", provider: { kind: "echo" } },
    replayEndpoint(up, "chat-stream", "openai", "chat-stream"),
    replayEndpoint(up, "chat-json", "openai", "chat-json"),
    replayEndpoint(up, "responses-stream", "openai", "responses-stream"),
    replayEndpoint(up, "responses-json", "openai", "responses-json"),
    replayEndpoint(up, "messages-stream", "anthropic", "messages-stream"),
    replayEndpoint(up, "messages-json", "anthropic", "messages-json"),
    replayEndpoint(up, "gemini-stream", "gemini", "gemini-stream"),
    replayEndpoint(up, "gemini-json", "gemini", "gemini-json"),
    replayEndpoint(up, "rate-limited", "openai", "rate-limited"),
    { name: "faithful", provider: { kind: "openai", baseUrl: `${up.url}/faithful/v1`, apiKeyEnv: "TEST_UPSTREAM_KEY" } },
    { name: "slow", provider: { kind: "openai", baseUrl: `${up.url}/slow/v1`, apiKeyEnv: "TEST_UPSTREAM_KEY" } },
    { name: "untracked", usageTracking: false, provider: { kind: "echo" } }
  ]
})

const clientKey = "sk-client-SECRET-0123456789"
const openai = (baseURL: string, defaultHeaders: Record<string, string> = {}) =>
  new OpenAI({ apiKey: clientKey, baseURL, defaultHeaders, maxRetries: 0 })
const anthropic = (baseURL: string) => new Anthropic({ apiKey: clientKey, baseURL, maxRetries: 0 })
const genai = (baseUrl: string) => new GoogleGenAI({ apiKey: clientKey, httpOptions: { baseUrl } })

/** A Gemini SDK result without `sdkHttpResponse` (the HTTP headers it attaches differ by hop: date, server-timing). */
const withoutHttp = <A extends object>(result: A): Omit<A, "sdkHttpResponse"> => {
  const { sdkHttpResponse: _, ...rest } = result as A & { readonly sdkHttpResponse?: unknown }
  return rest
}

const messages = [{ role: "user" as const, content: "What is the weather in Paris?" }]

const usageOf = (s: StoredSpan) => JSON.parse(String(s.attributes[Attributes.ChatTokenUsage]))

process.env["TEST_UPSTREAM_KEY"] = "upstream-key-for-tests"

for (const mount of Harness.mounts) {
  /** The gateway, served as `mount`, in front of the upstream serving this file's replies. */
  const withGateway = <A, E>(configure: (up: Upstreams.Upstream) => Record<string, unknown>, test: (h: Harness.Harness) => Effect.Effect<A, E>) =>
    Harness.withGateway(configure, test, replies, mount)

  describe(`Gateway with the official SDKs (${mount})`, () => {
    it.live("OpenAI chat, streamed with tools: the same completion as directly, and the trace has the usage", () =>
      withGateway(standard, (h) =>
        Effect.gen(function*() {
          const ask = (client: OpenAI, model: string) =>
            Effect.promise(() =>
              client.chat.completions.stream({ model, messages, stream_options: { include_usage: true } }).finalChatCompletion()
            )
          const via = yield* ask(openai(`${h.url}/gateway/openai/v1`), "chat-stream")
          const direct = yield* ask(openai(`${h.upstream.url}/replay/chat-stream/v1`), "chat-stream")
          expect(via).toEqual(direct)
          expect(via.choices[0]?.message.tool_calls?.length).toBeGreaterThan(0)
          const trace = yield* traceOf(h, "chat-stream")
          const gateway = span(trace, "gateway/")
          const provider = span(trace, "provider/openai/openai-model")
          expect(provider.parentSpanId).toBe(gateway.spanId)
          expect(gateway.attributes[Attributes.ServerUrl]).toBe(h.url)
          // The request payload is stored once: the provider span holds only what the gateway changed.
          expect(provider.attributes[Attributes.InputsFromParent]).toBe(true)
          expect(JSON.parse(String(provider.attributes[Attributes.SpanInputs]))).toEqual({ model: "openai-model" })
          const expected = Option.getOrThrow(OpenAiChat.aggregate([fixture("openai-chat/tool-call.sse")]))
          expect(usageOf(provider)).toEqual(TokenUsage.toMlflow(OpenAiChat.usage(expected)))
          expect(provider.attributes[Attributes.GenAiResponseFinishReasons]).toEqual(["tool_calls"])
          expect(JSON.parse(String(gateway.attributes[Attributes.SpanOutputs]))).toEqual(expected)
          // The upstream got the configured model, the provider's key, and the provider span's trace context.
          const sent = h.upstream.requests.find((r) => r.url.startsWith("/replay/chat-stream/v1/chat/completions") && r.headers["traceparent"] !== undefined)
          assert(sent !== undefined)
          expect(JSON.parse(sent.body).model).toBe("openai-model")
          expect(sent.headers["authorization"]).toBe("Bearer upstream-key-for-tests")
          expect(sent.headers["traceparent"]).toBe(`00-${provider.traceId}-${provider.spanId}-01`)
        })))

    it.live("OpenAI chat, not streamed", () =>
      withGateway(standard, (h) =>
        Effect.gen(function*() {
          const via = yield* Effect.promise(() => openai(`${h.url}/gateway/openai/v1`).chat.completions.create({ model: "chat-json", messages }))
          const direct = yield* Effect.promise(() => openai(`${h.upstream.url}/replay/chat-json/v1`).chat.completions.create({ model: "chat-json", messages }))
          expect(via).toEqual(direct)
          const provider = span(yield* traceOf(h, "chat-json"), "provider/")
          expect(usageOf(provider)).toEqual(TokenUsage.toMlflow(TokenUsage.fromOpenAiChat(direct.usage)))
          expect(provider.attributes[Attributes.GenAiRequestStream]).toBe(false)
        })))

    it.live("OpenAI Responses, streamed and not", () =>
      withGateway(standard, (h) =>
        Effect.gen(function*() {
          const stream = (base: string) =>
            Effect.promise(() => openai(base).responses.stream({ model: "responses-stream", input: "hi" }).finalResponse())
          expect(yield* stream(`${h.url}/gateway/openai/v1`)).toEqual(yield* stream(`${h.upstream.url}/replay/responses-stream/v1`))
          const create = (base: string) => Effect.promise(() => openai(base).responses.create({ model: "responses-json", input: "hi" }))
          expect(yield* create(`${h.url}/gateway/openai/v1`)).toEqual(yield* create(`${h.upstream.url}/replay/responses-json/v1`))
          const expected = Option.getOrThrow(OpenAiResponses.aggregate([fixture("openai-responses/function-call.sse")]))
          expect(usageOf(span(yield* traceOf(h, "responses-stream"), "provider/"))).toEqual(
            TokenUsage.toMlflow(OpenAiResponses.usage(expected))
          )
          expect(span(yield* traceOf(h, "responses-json"), "provider/").status.code).toBe("OK")
        })))

    it.live("Anthropic messages, streamed and not", () =>
      withGateway(standard, (h) =>
        Effect.gen(function*() {
          const params = { model: "messages-stream", max_tokens: 100, messages }
          const stream = (base: string) => Effect.promise(() => anthropic(base).messages.stream(params).finalMessage())
          expect(yield* stream(`${h.url}/gateway/anthropic`)).toEqual(yield* stream(`${h.upstream.url}/replay/messages-stream`))
          const create = (base: string) => Effect.promise(() => anthropic(base).messages.create({ ...params, model: "messages-json" }))
          const direct = yield* create(`${h.upstream.url}/replay/messages-json`)
          expect(yield* create(`${h.url}/gateway/anthropic`)).toEqual(direct)
          const streamed = span(yield* traceOf(h, "messages-stream"), "provider/anthropic/")
          const expected = Option.getOrThrow(AnthropicMessages.aggregate([fixture("anthropic/tool-use.sse")]))
          expect(usageOf(streamed)).toEqual(TokenUsage.toMlflow(AnthropicMessages.usage(expected)))
          const cached = usageOf(span(yield* traceOf(h, "messages-json"), "provider/"))
          expect(cached["cache_read_input_tokens"]).toBe(direct.usage.cache_read_input_tokens)
          // The gateway's request (the one with trace context) carries the provider key, not the client's credential.
          const sent = h.upstream.requests.find((r) => r.url === "/replay/messages-json/v1/messages" && r.headers["traceparent"] !== undefined)
          expect(sent?.headers["x-api-key"]).toBe("upstream-key-for-tests")
          expect(sent?.headers["authorization"]).toBeUndefined()
          expect(sent?.headers["anthropic-version"]).toBeDefined()
        })))

    it.live("Gemini generateContent and generateContentStream", () =>
      withGateway(standard, (h) =>
        Effect.gen(function*() {
          const streamed = (base: string) =>
            Effect.promise(async () => {
              const chunks = []
              for await (const c of await genai(base).models.generateContentStream({ model: "gemini-stream", contents: "hi" })) chunks.push(withoutHttp(c))
              return chunks
            })
          expect(yield* streamed(`${h.url}/gateway/gemini`)).toEqual(yield* streamed(`${h.upstream.url}/replay/gemini-stream`))
          const once = (base: string) =>
            Effect.promise(() => genai(base).models.generateContent({ model: "gemini-json", contents: "hi" }).then(withoutHttp))
          expect(yield* once(`${h.url}/gateway/gemini`)).toEqual(yield* once(`${h.upstream.url}/replay/gemini-json`))
          const expected = Option.getOrThrow(GeminiGenerateContent.aggregate([fixture("gemini/function-call-signature.sse")]))
          const provider = span(yield* traceOf(h, "gemini-stream"), "provider/gemini/")
          expect(usageOf(provider)).toEqual(TokenUsage.toMlflow(GeminiGenerateContent.usage(expected)))
          const sent = h.upstream.requests.find((r) => r.url.startsWith("/replay/gemini-stream/v1beta/models/gemini-model:streamGenerateContent"))
          expect(sent?.headers["x-goog-api-key"]).toBe("upstream-key-for-tests")
          expect(sent?.url).not.toContain(clientKey)
        })))

    it.live("the embedded echo endpoint answers every API with no upstream at all", () =>
      withGateway(standard, (h) =>
        Effect.gen(function*() {
          const chat = yield* Effect.promise(() =>
            openai(`${h.url}/gateway/openai/v1`).chat.completions.stream({ model: "echo", messages: [{ role: "user", content: "one two three" }] })
              .finalChatCompletion()
          )
          expect(chat.choices[0]?.message.content).toBe("one two three")
          // The client did not ask for usage; the gateway asked upstream for it and the trace has it.
          expect(chat.usage ?? undefined).toBeUndefined()
          expect(usageOf(span(yield* traceOf(h, "echo"), "provider/echo/"))).toEqual({
            input_tokens: 3,
            output_tokens: 3,
            total_tokens: 6,
            cache_read_input_tokens: 0
          })
          const message = yield* Effect.promise(() =>
            anthropic(`${h.url}/gateway/anthropic`).messages.create({ model: "echo", max_tokens: 10, messages: [{ role: "user", content: "hi you" }] })
          )
          expect(message.content).toEqual([{ type: "text", text: "hi you" }])
        })))
  })

  describe(`Gateway tracing (${mount})`, () => {
    it.live("server-timing names the gateway span; a client traceparent gets the spans replayed into its trace", () =>
      withGateway(standard, (h) =>
        Effect.gen(function*() {
          const callerTrace = "4bf92f3577b34da6a3ce929d0e0e4736"
          const response = yield* Effect.promise(() =>
            fetch(`${h.url}/gateway/openai/v1/chat/completions`, {
              method: "POST",
              headers: { "content-type": "application/json", traceparent: `00-${callerTrace}-00f067aa0ba902b7-01` },
              body: JSON.stringify({ model: "chat-stream", stream: true, messages })
            }).then(async (r) => ({ headers: r.headers, text: await r.text() }))
          )
          const own = yield* traceOf(h, "chat-stream")
          const gateway = span(own, "gateway/")
          expect(response.headers.get("server-timing")).toBe(`traceparent;desc="00-${own.traceId}-${gateway.spanId}-01"`)
          const replayed = yield* h.get<Trace>(`/api/traces/${callerTrace}`)
          expect(replayed.status).toBe(200)
          const copy = span(replayed.body, "gateway/")
          expect(copy.parentSpanId).toBe("00f067aa0ba902b7")
          expect(copy.attributes[Attributes.LinkedGatewayTraceId]).toBe(own.traceId)
          const provider = span(replayed.body, "provider/")
          expect(provider.parentSpanId).toBe(copy.spanId)
          expect(provider.startTimeUnixNano).toBe(span(own, "provider/").startTimeUnixNano)
          expect(provider.attributes[Attributes.SpanInputs]).toBeUndefined()
        })))

    it.live("a client that destroys its socket mid-stream: upstream aborted, spans cancelled, replay done", () =>
      withGateway(standard, (h) =>
        Effect.gen(function*() {
          const callerTrace = "0af7651916cd43dd8448eb211c80319c"
          yield* Effect.async<void>((resume) => {
            const req = httpRequest(`${h.url}/gateway/openai/v1/chat/completions`, {
              method: "POST",
              headers: { "content-type": "application/json", traceparent: `00-${callerTrace}-b7ad6b7169203331-01` }
            }, (res) => {
              res.once("data", () => {
                req.destroy()
                resume(Effect.void)
              })
            })
            req.end(JSON.stringify({ model: "slow", stream: true, messages }))
          })
          // The abort travels gateway → upstream, and the spans end: both asynchronously, so wait for them.
          yield* eventually(Effect.sync(() => h.upstream.aborted.length > 0))
          expect(h.upstream.aborted).toEqual(["/slow/v1/chat/completions"])
          yield* eventually(Effect.map(h.get<{ traces: Array<unknown> }>("/api/traces?endpoint=slow"), (r) => r.body.traces.length > 0))
          const own = yield* traceOf(h, "slow")
          for (const s of own.spans) {
            expect(s.status.code, s.name).toBe("ERROR")
            expect(s.attributes[Attributes.ErrorType], s.name).toBe("cancelled")
          }
          expect(JSON.parse(String(span(own, "provider/").attributes[Attributes.SpanOutputs])).choices[0].message.content).toMatch(/^w0 /)
          const replayed = yield* h.get<Trace>(`/api/traces/${callerTrace}`)
          expect(replayed.body.spans.map((s) => [s.name, s.status.code]).sort()).toEqual([
            ["gateway/slow", "ERROR"],
            ["provider/openai/slow", "ERROR"]
          ])
        })))

    it.live("credentials never reach the trace API; only the provider's own key goes upstream", () =>
      withGateway(standard, (h) =>
        Effect.gen(function*() {
          yield* Effect.promise(() =>
            fetch(`${h.url}/gateway/openai/v1/chat/completions`, {
              method: "POST",
              headers: {
                "content-type": "application/json",
                authorization: `Bearer ${clientKey}`,
                "x-api-key": "xak-SECRET-1",
                cookie: "session=SECRET-2",
                "x-goog-api-key": "AIza-SECRET-3",
                "x-custom-token": "SECRET-4"
              },
              body: JSON.stringify({ model: "chat-json", messages })
            }).then((r) => r.text())
          )
          const summary = yield* h.get<unknown>("/api/traces")
          const trace = yield* traceOf(h, "chat-json")
          const text = JSON.stringify([summary.body, trace])
          expect(text).not.toContain("SECRET")
          const sent = h.upstream.requests.find((r) => r.url === "/replay/chat-json/v1/chat/completions")
          assert(sent !== undefined)
          expect(JSON.stringify(sent.headers)).not.toContain("SECRET")
          expect(sent.headers["authorization"]).toBe("Bearer upstream-key-for-tests")
          // The client's own encoding preference goes upstream (fetch asks for gzip); an encoded reply is relayed as is.
          expect(sent.headers["accept-encoding"]).toMatch(/gzip/)
        })))

    it.live("usage injection is invisible: the client gets exactly the bytes upstream sends without it", () =>
      withGateway(standard, (h) =>
        Effect.gen(function*() {
          const body = JSON.stringify({ model: "faithful", stream: true, messages })
          const post = (url: string) =>
            Effect.promise(() =>
              fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body }).then((r) => r.arrayBuffer())
            )
          const via = new Uint8Array(yield* post(`${h.url}/gateway/openai/v1/chat/completions`))
          const direct = new Uint8Array(yield* post(`${h.upstream.url}/faithful/v1/chat/completions`))
          expect(Buffer.from(via).toString()).toBe(Upstreams.faithfulChat(false))
          expect(Buffer.from(via).equals(Buffer.from(direct))).toBe(true)
          const asked = h.upstream.requests.filter((r) => r.url === "/faithful/v1/chat/completions").map((r) => JSON.parse(r.body).stream_options)
          expect(asked).toEqual([{ include_usage: true }, undefined])
          expect(usageOf(span(yield* traceOf(h, "faithful"), "provider/"))).toEqual({ input_tokens: 9, output_tokens: 4, total_tokens: 13 })
        })))

    it.live("usage tracking off: answers, no trace, no server-timing", () =>
      withGateway(standard, (h) =>
        Effect.gen(function*() {
          const response = yield* Effect.promise(() =>
            fetch(`${h.url}/gateway/openai/v1/chat/completions`, {
              method: "POST",
              headers: { "content-type": "application/json" },
              body: JSON.stringify({ model: "untracked", messages: [{ role: "user", content: "quiet" }] })
            })
          )
          expect(response.status).toBe(200)
          expect(response.headers.get("server-timing")).toBeNull()
          expect((yield* h.get<{ traces: Array<unknown> }>("/api/traces?endpoint=untracked")).body.traces).toEqual([])
        })))
  })

  describe(`Gateway errors (${mount})`, () => {
    const post = (h: Harness.Harness, path: string, body: string) =>
      Effect.promise(() =>
        fetch(h.url + path, { method: "POST", headers: { "content-type": "application/json" }, body }).then(async (r) => ({
          status: r.status,
          body: await r.json() as Record<string, unknown>
        }))
      )

    it.live("malformed JSON → 400 with a JSON error; unknown endpoint → 404; unknown trace → 404; wrong API → 400", () =>
      withGateway(standard, (h) =>
        Effect.gen(function*() {
          const bad = yield* post(h, "/gateway/openai/v1/chat/completions", "{not json")
          expect(bad.status).toBe(400)
          expect(bad.body["error"]).toMatchObject({ type: "invalid_request_error" })
          const unknown = yield* post(h, "/gateway/anthropic/v1/messages", JSON.stringify({ model: "nope", messages }))
          expect(unknown.status).toBe(404)
          expect(unknown.body).toMatchObject({ type: "error", error: { type: "not_found_error" } })
          expect((yield* h.get("/api/traces/0123456789abcdef0123456789abcdef")).status).toBe(404)
          const wrong = yield* post(h, "/gateway/anthropic/v1/messages", JSON.stringify({ model: "chat-json", messages }))
          expect(wrong.status).toBe(400)
          const method = yield* post(h, "/gateway/gemini/v1beta/models/gemini-json:countTokens", "{}")
          expect(method.status).toBe(404)
        })))

    it.live("an upstream 429 passes through with its status and body; the spans are ERROR 429", () =>
      withGateway(standard, (h) =>
        Effect.gen(function*() {
          const res = yield* post(h, "/gateway/openai/v1/chat/completions", JSON.stringify({ model: "rate-limited", messages }))
          expect(res.status).toBe(429)
          expect(res.body).toEqual({ error: { message: "Rate limit reached", type: "rate_limit_error" } })
          const trace = yield* traceOf(h, "rate-limited")
          for (const s of trace.spans) {
            expect(s.status.code, s.name).toBe("ERROR")
            expect(s.attributes[Attributes.ErrorType], s.name).toBe("429")
          }
        })))

    it.live("an unreachable upstream → 502, spans ERROR", () =>
      Effect.gen(function*() {
        const port = yield* Upstreams.closedPort
        yield* withGateway(() => ({
          endpoints: [{ name: "down", provider: { kind: "openai", baseUrl: `http://127.0.0.1:${port}/v1` } }]
        }), (h) =>
          Effect.gen(function*() {
            const res = yield* post(h, "/gateway/openai/v1/chat/completions", JSON.stringify({ model: "down", stream: true, messages }))
            expect(res.status).toBe(502)
            expect(res.body["error"]).toMatchObject({ type: "upstream_unreachable" })
            const trace = yield* traceOf(h, "down")
            for (const s of trace.spans) {
              expect(s.status.code, s.name).toBe("ERROR")
              expect(s.attributes[Attributes.ErrorType], s.name).toBe("upstream_unreachable")
            }
          }))
      }))

    it.live("auth keys: 401 without a key; a key's user becomes trace metadata; replay never", () =>
      withGateway((up) => ({
        ...standard(up),
        replay: "never",
        auth: { keys: [{ key: "gw-key-1", username: "alice", userId: "u-1" }] }
      }), (h) =>
        Effect.gen(function*() {
          const denied = yield* post(h, "/gateway/openai/v1/chat/completions", JSON.stringify({ model: "echo", messages }))
          expect(denied.status).toBe(401)
          expect((yield* h.get("/api/traces")).status).toBe(401)
          const caller = "4bf92f3577b34da6a3ce929d0e0e4736"
          const rejected = yield* Effect.tryPromise({
            try: () => openai(`${h.url}/gateway/openai/v1`).chat.completions.create({ model: "echo", messages }),
            catch: (error) => error
          }).pipe(Effect.flip)
          // The client's own key is not a gateway key: the SDK surfaces the 401.
          assert(rejected instanceof OpenAI.APIError)
          expect(rejected.status).toBe(401)
          const ok = yield* Effect.promise(() =>
            new OpenAI({ apiKey: "gw-key-1", baseURL: `${h.url}/gateway/openai/v1`, maxRetries: 0, defaultHeaders: { traceparent: `00-${caller}-00f067aa0ba902b7-01` } })
              .chat.completions.create({ model: "echo", messages })
          )
          expect(ok.choices[0]?.message.content).toBe("What is the weather in Paris?")
          const list = yield* Effect.promise(() => fetch(`${h.url}/api/traces?endpoint=echo`, { headers: { "x-api-key": "gw-key-1" } }).then((r) => r.json()))
          const trace = (list as { traces: Array<Summary> }).traces[0]
          expect(trace?.metadata[Attributes.AuthUsername]).toBe("alice")
          expect(trace?.metadata[Attributes.AuthUserId]).toBe("u-1")
          expect(JSON.stringify(list)).not.toContain("gw-key-1")
          const replayed = yield* Effect.promise(() => fetch(`${h.url}/api/traces/${caller}`, { headers: { "x-api-key": "gw-key-1" } }))
          expect(replayed.status).toBe(404)
        })))
  })
}

// ---------------------------------------------------------------------------------------------------------------

withSharedFixtures("Gateway", (dir) => {
  describe("Gateway over every recorded stream in ../shared/fixtures", () => {
    const sets = [["openai-chat", "openai"], ["openai-responses", "openai"], ["anthropic", "anthropic"], ["gemini", "gemini"]] as const
    for (const [folder, kind] of sets) {
      it.live(`${folder}: the SDK gets the same result (or the same error) through the gateway as directly`, () =>
        Effect.gen(function*() {
          const files = readSseFiles(`${dir}/${folder}`)
          for (const [name, bytes] of files) replies[`${folder}--${name}`] = { body: bytes }
          yield* withGateway((up) => ({
            endpoints: files.map(([name]) => replayEndpoint(up, `${folder}--${name}`.replace(/[^A-Za-z0-9._-]/g, "_"), kind, `${folder}--${name}`))
          }), (h) =>
            Effect.forEach(files, ([name]) => {
              const endpoint = `${folder}--${name}`.replace(/[^A-Za-z0-9._-]/g, "_")
              const call = (base: string): Promise<unknown> => {
                switch (folder) {
                  case "openai-chat":
                    return openai(`${base}/v1`).chat.completions.stream({ model: endpoint, messages, stream_options: { include_usage: true } }).finalChatCompletion()
                  case "openai-responses":
                    return openai(`${base}/v1`).responses.stream({ model: endpoint, input: "hi" }).finalResponse()
                  case "anthropic":
                    return anthropic(base).messages.stream({ model: endpoint, max_tokens: 10, messages }).finalMessage()
                  case "gemini":
                    return genai(base).models.generateContentStream({ model: endpoint, contents: "hi" }).then(async (s) => {
                      const out = []
                      for await (const c of s) out.push(withoutHttp(c))
                      return out
                    })
                }
              }
              const gatewayBase = { "openai-chat": "/gateway/openai", "openai-responses": "/gateway/openai", anthropic: "/gateway/anthropic", gemini: "/gateway/gemini" }[folder]
              const settle = (p: Promise<unknown>) => p.then((value) => ({ value }), (error: Error) => ({ error: error.message }))
              return Effect.promise(async () => {
                const via = await settle(call(h.url + gatewayBase))
                const direct = await settle(call(`${h.upstream.url}/replay/${folder}--${name}`))
                expect(via, `${folder}/${name}`).toEqual(direct)
              }).pipe(Effect.zipRight(traceOf(h, endpoint)), Effect.map((trace) => expect(trace.spans.length, name).toBe(2)))
            }, { discard: true }))
        }))
    }
  })
})
