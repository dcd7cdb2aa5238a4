/**
 * Gateway hardening, request bodies: the limit (`server.maxBodyBytes`, default 32 MiB) holds while the body
 * arrives — streamed or declared — without buffering past it, the answer is a JSON 413 in the client's API shape,
 * and the server goes on answering. Real sockets on 127.0.0.1; the gateway runs in this test process, so its
 * resident memory is this process's.
 */
import { assert, describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { request as httpRequest } from "node:http"
import Anthropic from "@anthropic-ai/sdk"
import OpenAI from "openai"
import * as RequestBody from "../../src/gateway/internal/requestBody.js"
import { type Harness, withGateway } from "../support/gateway.js"

const MiB = 1024 * 1024
const echoOnly = () => ({ endpoints: [{ name: "echo", provider: { kind: "echo" } }] })

interface Answer {
  readonly status: number
  readonly body: unknown
  /** Bytes of request body the client had written when the answer came. */
  readonly sent: number
}

/**
 * POSTs a JSON body of `total` bytes generated on the fly (1 MiB pieces written as the socket drains, never the
 * whole), chunked or with its length declared; resolves with the gateway's answer and the bytes sent by then.
 */
const hugePost = (h: Harness, path: string, total: number, declared: boolean) =>
  Effect.async<Answer, Error>((resume) => {
    const headers: Record<string, string | number> = { "content-type": "application/json" }
    if (declared) headers["content-length"] = total
    const req = httpRequest({ host: "127.0.0.1", port: h.port, method: "POST", path, headers })
    const head = Buffer.from(`{"model":"echo","messages":[{"role":"user","content":"`)
    const piece = Buffer.alloc(MiB, "a")
    let sent = 0
    let answered = false
    const pump = (): void => {
      while (!answered && sent < total) {
        const part = sent === 0 ? head : piece.subarray(0, Math.min(piece.length, total - sent))
        sent += part.length
        if (!req.write(part)) return void req.once("drain", pump)
      }
      if (!answered) req.end()
    }
    req.on("response", (res) => {
      answered = true
      const sentThen = sent
      const parts: Array<Buffer> = []
      res.on("data", (b: Buffer) => parts.push(b))
      res.on("end", () => resume(Effect.succeed({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(parts).toString()), sent: sentThen })))
    })
    // Once answered, the gateway closes the connection under the rest of the upload: an error on our side then.
    req.on("error", (error) => {
      if (!answered) resume(Effect.fail(error))
    })
    pump()
    return Effect.sync(() => req.destroy())
  })

/** Samples this process's RSS every 20 ms while `effect` runs; returns its result and the peak growth in bytes. */
const peakRssGrowth = <A, E>(effect: Effect.Effect<A, E>) =>
  Effect.gen(function*() {
    const before = process.memoryUsage().rss
    let peak = before
    const timer = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss)
    }, 20)
    const result = yield* Effect.ensuring(effect, Effect.sync(() => clearInterval(timer)))
    return { result, growth: Math.max(peak, process.memoryUsage().rss) - before }
  })

/** The server still serves: an ordinary call answers. */
const stillServes = (h: Harness) =>
  Effect.promise(() =>
    new OpenAI({ apiKey: "k", baseURL: `${h.url}/gateway/openai/v1`, maxRetries: 0 }).chat.completions.create({
      model: "echo",
      messages: [{ role: "user", content: "still here" }]
    })
  ).pipe(Effect.map((completion) => expect(completion.choices[0]?.message.content).toBe("still here")))

const tooLarge = { error: { type: "request_too_large", message: `the request body is larger than ${32 * MiB} bytes` } }

describe("Request bodies", () => {
  for (const declared of [false, true]) {
    const how = declared ? "with its length declared" : "streamed (chunked, no length)"
    it.live(`a 600 MB body ${how} → 413 JSON, early, with bounded memory; the server goes on`, () =>
      withGateway(echoOnly, (h) =>
        Effect.gen(function*() {
          const { result, growth } = yield* peakRssGrowth(hugePost(h, "/gateway/openai/v1/chat/completions", 600 * 1e6, declared))
          console.log(`600 MB body ${how}: 413 after ${(result.sent / MiB).toFixed(1)} MiB sent; peak RSS growth ${(growth / MiB).toFixed(1)} MiB`)
          expect(result.status).toBe(413)
          expect(result.body).toMatchObject(tooLarge)
          // The gateway stopped reading at the limit (or at once, for a declared length): the client could not push
          // much more than the limit before the answer.
          expect(result.sent).toBeLessThan(100 * MiB)
          expect(growth).toBeLessThan(100 * MiB)
          yield* stillServes(h)
        })))
  }

  it.live("33 MiB → 413 in the client's API shape, which its SDK surfaces; 32 MiB minus a little passes", () =>
    withGateway(echoOnly, (h) =>
      Effect.gen(function*() {
        const big = "a".repeat(33 * MiB)
        const openaiError = yield* Effect.flip(Effect.tryPromise(() =>
          new OpenAI({ apiKey: "k", baseURL: `${h.url}/gateway/openai/v1`, maxRetries: 0 }).chat.completions.create({
            model: "echo",
            messages: [{ role: "user", content: big }]
          })
        ))
        const openaiCause = openaiError.cause
        assert(openaiCause instanceof OpenAI.APIError, String(openaiCause))
        expect(openaiCause.status).toBe(413)
        expect(openaiCause.error).toMatchObject({ type: "request_too_large" })
        const anthropicError = yield* Effect.flip(Effect.tryPromise(() =>
          new Anthropic({ apiKey: "k", baseURL: `${h.url}/gateway/anthropic`, maxRetries: 0 }).messages.create({
            model: "echo",
            max_tokens: 1,
            messages: [{ role: "user", content: big }]
          })
        ))
        const anthropicCause = anthropicError.cause
        assert(anthropicCause instanceof Anthropic.APIError, String(anthropicCause))
        expect(anthropicCause.status).toBe(413)
        expect(anthropicCause.error).toMatchObject({ type: "error", error: { type: "request_too_large" } })
        const fits = yield* Effect.promise(() =>
          new OpenAI({ apiKey: "k", baseURL: `${h.url}/gateway/openai/v1`, maxRetries: 0 }).chat.completions.create({
            model: "echo",
            messages: [{ role: "user", content: "b".repeat(32 * MiB - 1024) }]
          })
        )
        expect(fits.choices[0]?.message.content?.length).toBe(32 * MiB - 1024)
      })))

  it.live("server.maxBodyBytes sets the limit", () =>
    withGateway(() => ({ ...echoOnly(), server: { maxBodyBytes: 1000 } }), (h) =>
      Effect.gen(function*() {
        const post = (content: string) =>
          Effect.promise(() =>
            fetch(`${h.url}/gateway/openai/v1/chat/completions`, {
              method: "POST",
              headers: { "content-type": "application/json" },
              body: JSON.stringify({ model: "echo", messages: [{ role: "user", content }] })
            }).then(async (r) => ({ status: r.status, body: await r.json() as unknown }))
          )
        expect((yield* post("a".repeat(900))).status).toBe(200)
        const refused = yield* post("a".repeat(1000))
        expect(refused.status).toBe(413)
        expect(refused.body).toMatchObject({ error: { message: "the request body is larger than 1000 bytes" } })
      })))

  it.live("JSON nested 5,000 deep → 400 with a JSON body; the server goes on", () =>
    withGateway(echoOnly, (h) =>
      Effect.gen(function*() {
        const deep = `{"model":"echo","messages":${"[".repeat(5000)}${"]".repeat(5000)}}`
        const response = yield* Effect.promise(() =>
          fetch(`${h.url}/gateway/openai/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: deep })
            .then(async (r) => ({ status: r.status, body: await r.json() as unknown }))
        )
        expect(response.status).toBe(400)
        expect(response.body).toMatchObject({ error: { type: "invalid_request_error", message: `the request body nests deeper than ${RequestBody.maxDepth} levels` } })
        // Brackets inside strings are text, not nesting.
        const text = yield* Effect.promise(() =>
          new OpenAI({ apiKey: "k", baseURL: `${h.url}/gateway/openai/v1`, maxRetries: 0 }).chat.completions.create({
            model: "echo",
            messages: [{ role: "user", content: "[".repeat(5000) }]
          })
        )
        expect(text.choices[0]?.message.content).toBe("[".repeat(5000))
        yield* stillServes(h)
      })))
})
