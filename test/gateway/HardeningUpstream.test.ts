/**
 * Gateway hardening, upstreams that misbehave on purpose (see `test/support/upstreams.ts`): timeouts (headers,
 * idle mid-stream, connect), truthful stream ends (a reset or a stall is never relayed as a clean end), encoded
 * bodies, and the status of the spans for every way a provider call can go wrong. Real sockets on 127.0.0.1.
 */
import { assert, describe, expect, it } from "@effect/vitest"
import { Effect, Option } from "effect"
import { readFileSync } from "node:fs"
import { request as httpRequest } from "node:http"
import OpenAI from "openai"
import * as OpenAiChat from "../../src/providers/OpenAiChat.js"
import * as Attributes from "../../src/tracing/Attributes.js"
import type { StoredSpan, Trace } from "../../src/tracing/TraceStore.js"
import * as TokenUsage from "../../src/TokenUsage.js"
import { eventually, type Harness, openaiEndpoint, rawExchange, rawPost, span, traceOf, withGateway } from "../support/gateway.js"
import * as Upstreams from "../support/upstreams.js"

process.env["TEST_UPSTREAM_KEY"] = "upstream-key-for-tests"

const fixture = (path: string) => new Uint8Array(readFileSync(new URL(`../fixtures/${path}`, import.meta.url)))
const chatJson = Option.getOrThrow(OpenAiChat.aggregate([fixture("openai-chat/text-usage.sse")]))
const replies: Record<string, Upstreams.Reply> = {
  "anthropic-error": { body: fixture("anthropic/error-midstream.sse") },
  "chat-json": { body: JSON.stringify(chatJson), contentType: "application/json" },
  "chat-cut": { body: fixture("openai-chat/truncated-no-finish.sse") }
}

const messages = [{ role: "user" as const, content: "Say hello" }]
const chatPath = "/gateway/openai/v1/chat/completions"
const streamBody = (model: string, extra: object = {}) => JSON.stringify({ model, stream: true, messages, ...extra })
const openai = (h: Harness) => new OpenAI({ apiKey: "client-key", baseURL: `${h.url}/gateway/openai/v1`, maxRetries: 0 })

/** POST with fetch: status, headers, decoded text, and the time to the answer's head. */
const post = (h: Harness, body: string, headers: Record<string, string> = {}) =>
  Effect.promise(async () => {
    const started = performance.now()
    const response = await fetch(h.url + chatPath, { method: "POST", headers: { "content-type": "application/json", ...headers }, body })
    const millis = performance.now() - started
    return { status: response.status, headers: response.headers, text: await response.text(), millis }
  })

/** Streams a chat completion with the official SDK: the text received, and the error that ended the iteration. */
const sdkStream = (client: OpenAI, model: string, extra: object = {}) =>
  Effect.promise(async () => {
    let text = ""
    try {
      const stream = await client.chat.completions.create({ model, messages, stream: true, ...extra })
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? ""
      return { text, error: undefined }
    } catch (error) {
      return { text, error: error as Error }
    }
  })

const expectError = (s: StoredSpan, errorType: string) => {
  expect(s.status.code, s.name).toBe("ERROR")
  expect(s.attributes[Attributes.ErrorType], s.name).toBe(errorType)
}

/** Both spans ERROR with `errorType`. */
const expectFailed = (trace: Trace, errorType: string) => {
  expect(trace.spans.length).toBe(2)
  for (const s of trace.spans) expectError(s, errorType)
}

const outputText = (s: StoredSpan): string =>
  JSON.parse(String(s.attributes[Attributes.SpanOutputs])).choices[0].message.content

/** The chunked transfer coding's last chunk: a truthful end of a response body. */
const lastChunk = "\r\n0\r\n\r\n"

/**
 * Two calls (the first pays for a cold gateway): each a 504 `upstream_timeout` no sooner than the configured 300 ms
 * and far sooner than the 300 s default, i.e. the configured value is the one in force.
 */
const expect504 = (h: Harness, model: string, what: string) =>
  Effect.gen(function*() {
    const millis: Array<number> = []
    for (let i = 0; i < 2; i++) {
      const res = yield* post(h, streamBody(model))
      expect(res.status).toBe(504)
      expect(JSON.parse(res.text)).toMatchObject({ error: { type: "upstream_timeout" } })
      expect(res.millis).toBeGreaterThanOrEqual(290)
      expect(res.millis).toBeLessThan(10_000)
      millis.push(res.millis)
    }
    console.log(`${what}: 504 after ${millis.map((m) => m.toFixed(0)).join(" ms (cold), ")} ms (warm)`)
  })

describe("Upstream timeouts (configured small)", () => {
  it.live("headers never sent → 504 upstream_timeout after headersMs; spans ERROR", () =>
    withGateway((up) => ({ endpoints: [openaiEndpoint(up, "hang", "/hang", { timeouts: { headersMs: 300 } })] }), (h) =>
      Effect.gen(function*() {
        yield* expect504(h, "hang", "headers timeout (headersMs 300)")
        expectFailed(yield* traceOf(h, "hang"), "upstream_timeout")
      })))

  it.live("connect to a blackhole → 504 upstream_timeout after connectMs (server.timeouts)", () =>
    Effect.gen(function*() {
      const port = yield* Upstreams.blackhole
      yield* withGateway(() => ({
        server: { timeouts: { connectMs: 300 } },
        endpoints: [{ name: "blackhole", provider: { kind: "openai", baseUrl: `http://127.0.0.1:${port}/v1` } }]
      }), (h) =>
        Effect.gen(function*() {
          yield* expect504(h, "blackhole", "connect timeout (connectMs 300)")
          expectFailed(yield* traceOf(h, "blackhole"), "upstream_timeout")
        }))
    }).pipe(Effect.scoped))

  it.live("idle mid-stream → the client's connection is broken (no last chunk); spans ERROR upstream_timeout with the partial output", () =>
    withGateway((up) => ({ endpoints: [openaiEndpoint(up, "stall", "/stall/3", { timeouts: { idleMs: 300 } })] }), (h) =>
      Effect.gen(function*() {
        const started = performance.now()
        const raw = yield* rawExchange(h.port, rawPost(chatPath, streamBody("stall")))
        console.log(`idle timeout (idleMs 300): connection broken after ${(performance.now() - started).toFixed(0)} ms`)
        expect(raw.text).toMatch(/^HTTP\/1\.1 200 /)
        expect(raw.text.toLowerCase()).toContain("transfer-encoding: chunked")
        expect(raw.text).toContain('"content":"Hel"')
        expect(raw.text).not.toContain(lastChunk)
        const trace = yield* traceOf(h, "stall")
        expectFailed(trace, "upstream_timeout")
        expect(outputText(span(trace, "provider/"))).toBe("Hello ")
        expect(outputText(span(trace, "gateway/"))).toBe("Hello ")
        // The official SDK's stream iteration throws: the truncated answer does not pass for a whole one.
        const sdk = yield* sdkStream(openai(h), "stall")
        expect(sdk.text).toBe("Hello ")
        assert(sdk.error !== undefined, "the SDK's iteration must throw")
      })))
})

describe("Truthful stream ends", () => {
  it.live("an upstream reset mid-stream → no last chunk at the socket, the SDK's iteration throws; spans ERROR", () =>
    withGateway((up) => ({ endpoints: [openaiEndpoint(up, "reset", "/reset/3")] }), (h) =>
      Effect.gen(function*() {
        const raw = yield* rawExchange(h.port, rawPost(chatPath, streamBody("reset")))
        expect(raw.text).toMatch(/^HTTP\/1\.1 200 /)
        expect(raw.text).toContain('"content":"lo "')
        expect(raw.text).not.toContain(lastChunk)
        const trace = yield* traceOf(h, "reset")
        expectFailed(trace, "upstream_body_error")
        expect(outputText(span(trace, "provider/"))).toBe("Hello ")
        const sdk = yield* sdkStream(openai(h), "reset")
        expect(sdk.text).toBe("Hello ")
        assert(sdk.error !== undefined, "the SDK's iteration must throw")
        // fetch, too, reports the broken body instead of a complete text.
        const fetched = yield* Effect.either(Effect.tryPromise(() =>
          fetch(h.url + chatPath, { method: "POST", headers: { "content-type": "application/json" }, body: streamBody("reset") }).then((r) => r.text())
        ))
        assert(fetched._tag === "Left", "fetch must fail to read the body")
      })))

  it.live("a complete stream ends with the last chunk (the raw check above is not vacuous)", () =>
    withGateway((up) => ({ endpoints: [openaiEndpoint(up, "faithful", "/faithful")] }), (h) =>
      Effect.gen(function*() {
        const raw = yield* rawExchange(h.port, rawPost(chatPath, streamBody("faithful")))
        expect(raw.text.endsWith(lastChunk)).toBe(true)
        expect(raw.error).toBeUndefined()
      })))
})

describe("Content encodings", () => {
  it.live("upstream is asked for identity unless the client asked otherwise", () =>
    withGateway((up) => ({ endpoints: [openaiEndpoint(up, "faithful", "/faithful")] }), (h) =>
      Effect.gen(function*() {
        yield* rawExchange(h.port, rawPost(chatPath, streamBody("faithful")))
        yield* rawExchange(h.port, rawPost(chatPath, streamBody("faithful", { stream_options: { include_usage: true } }), { "accept-encoding": "br;q=1, gzip;q=0.5" }))
        expect(h.upstream.requests.map((r) => r.headers["accept-encoding"])).toEqual(["identity", "br;q=1, gzip;q=0.5"])
      })))

  for (const coding of ["gzip", "deflate", "br"]) {
    it.live(`an upstream that answers ${coding} anyway: the client decodes the same text as directly, the header is relayed, the span has the usage`, () =>
      withGateway((up) => ({ endpoints: [openaiEndpoint(up, "encoded", `/encoded/${coding}`)] }), (h) =>
        Effect.gen(function*() {
          const withUsage = { stream_options: { include_usage: true } }
          const direct = yield* Effect.promise(() =>
            fetch(`${h.upstream.url}/encoded/${coding}/v1/chat/completions`, { method: "POST", body: streamBody("encoded", withUsage) })
              .then(async (r) => ({ encoding: r.headers.get("content-encoding"), text: await r.text() }))
          )
          expect(direct).toEqual({ encoding: coding, text: Upstreams.faithfulChat(true) })
          for (const headers of [{}, { "accept-encoding": "identity" }]) {
            const via = yield* post(h, streamBody("encoded", withUsage), headers)
            expect(via.status).toBe(200)
            expect(via.headers.get("content-encoding")).toBe(coding)
            expect(via.text).toBe(direct.text)
          }
          expect(yield* sdkStream(openai(h), "encoded", withUsage)).toEqual({ text: "Hello world", error: undefined })
          const provider = span(yield* traceOf(h, "encoded"), "provider/")
          expect(provider.status.code).toBe("OK")
          expect(JSON.parse(String(provider.attributes[Attributes.ChatTokenUsage]))).toEqual({ input_tokens: 9, output_tokens: 4, total_tokens: 13 })
          expect(outputText(provider)).toBe("Hello world")
        })))
  }

  it.live("a body that does not follow its content-encoding: relayed whole as it came; spans ERROR upstream_body_undecodable", () =>
    withGateway((up) => ({ endpoints: [openaiEndpoint(up, "garbled", "/garbled/gzip")] }), (h) =>
      Effect.gen(function*() {
        const raw = yield* rawExchange(h.port, rawPost(chatPath, streamBody("garbled")))
        expect(raw.text.toLowerCase()).toContain("content-encoding: gzip")
        expect(raw.text).toContain("data: [DONE]")
        expect(raw.text.endsWith(lastChunk)).toBe(true)
        expectFailed(yield* traceOf(h, "garbled"), "upstream_body_undecodable")
      })))

  it.live("an encoded body reset mid-stream: the client's connection breaks, both spans ERROR, the gateway serves on", () =>
    withGateway((up) => ({ endpoints: [openaiEndpoint(up, "cut", "/encoded-reset/gzip"), openaiEndpoint(up, "faithful", "/faithful")] }), (h) =>
      Effect.gen(function*() {
        const raw = yield* rawExchange(h.port, rawPost(chatPath, streamBody("cut")))
        expect(raw.text).toMatch(/^HTTP\/1\.1 200 /)
        expect(raw.text.toLowerCase()).toContain("content-encoding: gzip")
        // Chunked, and never terminated: the broken body is not passed off as a whole one.
        expect(raw.text.endsWith("\r\n0\r\n\r\n")).toBe(false)
        expectFailed(yield* traceOf(h, "cut"), "upstream_body_error")
        const next = yield* rawExchange(h.port, rawPost(chatPath, streamBody("faithful")))
        expect(next.text.endsWith(lastChunk)).toBe(true)
      })))

  it.live("usage injected: upstream is asked for identity whatever the client accepts; one that encodes anyway is relayed untouched", () =>
    withGateway((up) => ({ endpoints: [openaiEndpoint(up, "encoded", "/encoded/gzip")] }), (h) =>
      Effect.gen(function*() {
        // fetch accepts gzip; the gateway must strip what it injects, so it asks for a plain body.
        const via = yield* post(h, streamBody("encoded"))
        expect(h.upstream.requests.map((r) => r.headers["accept-encoding"])).toEqual(["identity"])
        // This upstream encodes anyway: the body cannot be rewritten, so it passes as it came — a whole, decodable
        // stream that shows the usage chunk the client did not ask for, never a corrupted or held-back one.
        expect(via.headers.get("content-encoding")).toBe("gzip")
        expect(via.text).toBe(Upstreams.faithfulChat(true))
        expect(yield* sdkStream(openai(h), "encoded")).toEqual({ text: "Hello world", error: undefined })
        const provider = span(yield* traceOf(h, "encoded"), "provider/")
        expect(JSON.parse(String(provider.attributes[Attributes.ChatTokenUsage]))).toEqual({ input_tokens: 9, output_tokens: 4, total_tokens: 13 })
      })))
})

describe("Span statuses", () => {
  const replayed = (up: Upstreams.Upstream, name: string, kind: "openai" | "anthropic", reply: string) => ({
    name,
    provider: { kind, model: `${kind}-model`, baseUrl: `${up.url}/replay/${reply}/v1`, apiKeyEnv: "TEST_UPSTREAM_KEY" }
  })

  it.live("an Anthropic `event: error` inside a 200 stream → both spans ERROR with the provider's error type", () =>
    withGateway((up) => ({ endpoints: [replayed(up, "claude", "anthropic", "anthropic-error")] }), (h) =>
      Effect.gen(function*() {
        const res = yield* Effect.promise(() =>
          fetch(`${h.url}/gateway/anthropic/v1/messages`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ model: "claude", max_tokens: 10, stream: true, messages })
          }).then((r) => r.status)
        )
        expect(res).toBe(200)
        const trace = yield* traceOf(h, "claude")
        expectFailed(trace, "overloaded_error")
        expect(span(trace, "provider/").attributes[Attributes.GenAiResponseFinishReasons]).toEqual(["error"])
      }), replies))

  it.live("a JSON answer to a stream request → OK with the usage (the content type decides)", () =>
    withGateway((up) => ({ endpoints: [replayed(up, "json", "openai", "chat-json")] }), (h) =>
      Effect.gen(function*() {
        const res = yield* post(h, streamBody("json"))
        expect(JSON.parse(res.text)).toEqual(chatJson)
        const trace = yield* traceOf(h, "json")
        for (const s of trace.spans) expect(s.status.code, s.name).toBe("OK")
        expect(JSON.parse(String(span(trace, "provider/").attributes[Attributes.ChatTokenUsage]))).toEqual(
          TokenUsage.toMlflow(OpenAiChat.usage(chatJson))
        )
      }), replies))

  it.live("a stream cut before its final event → incomplete_stream, with what arrived", () =>
    withGateway((up) => ({ endpoints: [replayed(up, "cut", "openai", "chat-cut")] }), (h) =>
      Effect.gen(function*() {
        expect((yield* post(h, streamBody("cut"))).status).toBe(200)
        const trace = yield* traceOf(h, "cut")
        expectFailed(trace, "incomplete_stream")
        expect(outputText(span(trace, "provider/"))).toMatch(/^Partial answ/)
      }), replies))

  it.live("an SSE line over the parser's 16 MiB limit → sse_line_too_long; the client still gets every byte", () =>
    withGateway((up) => ({ endpoints: [openaiEndpoint(up, "long", `/long-line/${17 * 1024 * 1024}`)] }), (h) =>
      Effect.gen(function*() {
        const res = yield* post(h, streamBody("long"))
        expect(res.status).toBe(200)
        expect(res.text.length).toBe("data: ".length + 17 * 1024 * 1024 + 2 + Upstreams.faithfulChat(false).length)
        expectFailed(yield* traceOf(h, "long"), "sse_line_too_long")
      })))

  it.live("a client gone before the upstream's headers → cancelled (not _OTHER); the upstream request is aborted", () =>
    withGateway((up) => ({ endpoints: [openaiEndpoint(up, "hang", "/hang")] }), (h) =>
      Effect.gen(function*() {
        const req = httpRequest({ host: "127.0.0.1", port: h.port, method: "POST", path: chatPath, headers: { "content-type": "application/json" } })
        req.on("error", () => {})
        req.end(streamBody("hang"))
        yield* eventually(Effect.sync(() => h.upstream.requests.length === 1))
        req.destroy()
        yield* eventually(Effect.sync(() => h.upstream.aborted.length === 1))
        expectFailed(yield* traceOf(h, "hang"), "cancelled")
      })))
})
