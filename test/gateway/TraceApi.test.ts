/**
 * The trace API against real calls through the gateway (official SDKs, recorded fixtures, the echo provider),
 * on real sockets: every summary field, each filter, pagination, usage, bad parameters, refused requests, and a
 * file store that outlives the gateway.
 */
import Anthropic from "@anthropic-ai/sdk"
import { GoogleGenAI } from "@google/genai"
import { assert, describe, expect, it } from "@effect/vitest"
import { Effect, Layer, Option, Schema } from "effect"
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import OpenAI from "openai"
import * as GatewayConfig from "../../src/gateway/GatewayConfig.js"
import * as Server from "../../src/gateway/Server.js"
import * as Startup from "../../src/gateway/Startup.js"
import * as AnthropicMessages from "../../src/providers/AnthropicMessages.js"
import * as Attributes from "../../src/tracing/Attributes.js"
import type { Page, StoredSpan, Summary, Trace } from "../../src/tracing/TraceStore.js"
import * as Harness from "../support/gateway.js"
import type * as Upstreams from "../support/upstreams.js"

const fixture = (path: string) => new Uint8Array(readFileSync(new URL(`../fixtures/${path}`, import.meta.url)))

const replies: Record<string, Upstreams.Reply> = {
  "messages-json": {
    body: JSON.stringify(Option.getOrThrow(AnthropicMessages.aggregate([fixture("anthropic/cache-read-write.sse")]))),
    contentType: "application/json"
  },
  "gemini-stream": { body: fixture("gemini/text.sse") },
  "rate-limited": { status: 429, contentType: "application/json", body: JSON.stringify({ error: { message: "Rate limit reached", type: "rate_limit_error" } }) }
}

const withGateway = <A, E>(configure: (up: Upstreams.Upstream) => Record<string, unknown>, test: (h: Harness.Harness) => Effect.Effect<A, E>) =>
  Harness.withGateway(configure, test, replies)

const endpoints = (up: Upstreams.Upstream) => [
  { name: "echo", provider: { kind: "echo" } },
  { name: "claude", provider: { kind: "anthropic", model: "claude-x", baseUrl: `${up.url}/replay/messages-json/v1`, apiKeyEnv: "TEST_UPSTREAM_KEY" } },
  { name: "gem", provider: { kind: "gemini", model: "gemini-x", baseUrl: `${up.url}/replay/gemini-stream/v1beta`, apiKeyEnv: "TEST_UPSTREAM_KEY" } },
  { name: "limited", provider: { kind: "openai", model: "gpt-x", baseUrl: `${up.url}/replay/rate-limited/v1`, apiKeyEnv: "TEST_UPSTREAM_KEY" } }
]

const messages = [{ role: "user" as const, content: "count the words of this sentence please" }]
const caller = "0af7651916cd43dd8448eb211c80319c"

const openai = (h: Harness.Harness, headers: Record<string, string> = {}) =>
  new OpenAI({ apiKey: "k", baseURL: `${h.url}/gateway/openai/v1`, maxRetries: 0, defaultHeaders: { "x-mlflow-gateway-caller": "api-test", ...headers } })

const list = (h: Harness.Harness, query: string) =>
  Effect.map(h.get<Page>(`/api/traces?${query}`), (r) => {
    expect(r.status, query).toBe(200)
    return r.body
  })

/** Every trace of a query, following `nextCursor`. */
const walk = (h: Harness.Harness, query: string, limit: number) =>
  Effect.gen(function*() {
    const all: Array<Summary> = []
    let cursor: string | null = null
    do {
      const page: Page = yield* list(h, `${query}&limit=${limit}${cursor === null ? "" : `&cursor=${cursor}`}`)
      all.push(...page.traces)
      cursor = page.nextCursor
    } while (cursor !== null)
    return all
  })

const summaryOf = (h: Harness.Harness, endpoint: string) =>
  Effect.map(Harness.traceOf(h, endpoint), (trace) => trace.summary)

const gatewaySpan = (trace: Trace): StoredSpan => Harness.span(trace, "gateway/")

/** Makes one call of each kind; returns what the SDKs saw. */
const calls = (h: Harness.Harness, callerTrace = caller) =>
  Effect.gen(function*() {
    const streamed = yield* Effect.promise(() =>
      openai(h).chat.completions.stream({ model: "echo", messages, stream_options: { include_usage: true } }).finalChatCompletion()
    )
    const claude = yield* Effect.promise(() =>
      new Anthropic({ apiKey: "k", baseURL: `${h.url}/gateway/anthropic`, maxRetries: 0 }).messages.create({ model: "claude", max_tokens: 50, messages })
    )
    const chunks: Array<{ readonly usageMetadata?: { readonly promptTokenCount?: number; readonly candidatesTokenCount?: number } | undefined }> = []
    yield* Effect.promise(async () => {
      const genai = new GoogleGenAI({ apiKey: "k", httpOptions: { baseUrl: `${h.url}/gateway/gemini` } })
      for await (const chunk of await genai.models.generateContentStream({ model: "gem", contents: "hi" })) chunks.push(chunk)
    })
    const failed = yield* Effect.promise(() => openai(h).chat.completions.create({ model: "limited", messages }).then(() => undefined, (e: unknown) => e))
    assert(failed instanceof OpenAI.APIError)
    const replayed = yield* Effect.promise(() =>
      openai(h, { traceparent: `00-${callerTrace}-b7ad6b7169203331-01` }).chat.completions.create({ model: "echo", messages: [{ role: "user", content: "two words" }] })
    )
    return { streamed, claude, gemini: chunks.filter((c) => c.usageMetadata !== undefined).at(-1)?.usageMetadata, failed, replayed }
  })

describe("Trace API", () => {
  it.live("every summary field, against real calls (openai stream, anthropic JSON, gemini stream, a failure, a replay)", () =>
    withGateway((up) => ({ endpoints: endpoints(up) }), (h) =>
      Effect.gen(function*() {
        const seen = yield* calls(h)
        const started = Date.now()

        // OpenAI through the SDK, streamed, to the echo provider.
        yield* Harness.eventually(Effect.map(list(h, "endpoint=echo"), (p) => p.traces.length === 2))
        const echoTraces = (yield* list(h, "endpoint=echo")).traces
        const echo = echoTraces.find((t) => t.tokens.input === seen.streamed.usage?.prompt_tokens)
        assert(echo !== undefined)
        expect(echo).toMatchObject({
          kind: "gateway",
          endpoint: "echo",
          caller: "api-test",
          status: "ok",
          errorType: null,
          statusCode: 200,
          providers: ["echo"],
          streamed: true,
          spanCount: 2,
          tokens: { input: seen.streamed.usage!.prompt_tokens, output: seen.streamed.usage!.completion_tokens, cacheRead: 0, cacheCreation: 0, reasoning: 0 }
        })
        expect(echo.models).toContain("echo")
        expect(echo.ttftMs).toBeGreaterThan(0)
        expect(echo.durationMs).toBeGreaterThanOrEqual(echo.ttftMs!)
        expect(Date.parse(echo.startTime)).toBeLessThanOrEqual(started)
        expect(new Date(Date.parse(echo.startTime)).toISOString()).toBe(echo.startTime)

        // Anthropic, JSON, with cache reads and writes.
        const claude = yield* summaryOf(h, "claude")
        expect(claude).toMatchObject({
          kind: "gateway",
          status: "ok",
          statusCode: 200,
          providers: ["anthropic"],
          streamed: false,
          ttftMs: null,
          tokens: {
            // gen_ai.usage.input_tokens counts the cached tokens too (the semantic conventions' definition).
            input: seen.claude.usage.input_tokens + (seen.claude.usage.cache_read_input_tokens ?? 0) +
              (seen.claude.usage.cache_creation_input_tokens ?? 0),
            output: seen.claude.usage.output_tokens,
            cacheRead: seen.claude.usage.cache_read_input_tokens ?? 0,
            cacheCreation: seen.claude.usage.cache_creation_input_tokens ?? 0
          }
        })
        expect(claude.tokens.cacheRead + claude.tokens.cacheCreation).toBeGreaterThan(0)
        expect(claude.models).toEqual(expect.arrayContaining(["claude-x", seen.claude.model]))

        // Gemini, streamed.
        const gem = yield* summaryOf(h, "gem")
        expect(gem).toMatchObject({ providers: ["gemini"], streamed: true, status: "ok", tokens: { input: seen.gemini?.promptTokenCount } })
        expect(gem.ttftMs).not.toBeNull()

        // A failed call: the upstream's 429.
        const limited = yield* summaryOf(h, "limited")
        expect(limited).toMatchObject({ status: "error", statusCode: seen.failed.status, errorType: String(seen.failed.status) })

        // The replayed call: its own trace under ?endpoint=, the caller's copy only with kind=replay.
        expect(echoTraces.every((t) => t.kind === "gateway" && t.traceId !== caller)).toBe(true)
        const replays = (yield* list(h, "endpoint=echo&kind=replay")).traces
        expect(replays.map((t) => [t.traceId, t.kind, t.endpoint, t.status, t.statusCode])).toEqual([[caller, "replay", "echo", "ok", 200]])
        const own = echoTraces.find((t) => t !== echo)!
        expect(replays[0]!.tokens).toEqual(own.tokens)
        expect(own.tokens.input).toBe(seen.replayed.usage?.prompt_tokens)
        expect((yield* list(h, "kind=replay")).traces).toHaveLength(1)

        // server_url: the gateway as the client reached it, on the gateway span and its replayed copy.
        const full = yield* h.get<Trace>(`/api/traces/${echo.traceId}`)
        expect(full.body.summary).toEqual(echo)
        expect(gatewaySpan(full.body).attributes[Attributes.ServerUrl]).toBe(`http://127.0.0.1:${h.port}`)
        const copy = yield* h.get<Trace>(`/api/traces/${caller}`)
        expect(copy.body.summary.kind).toBe("replay")
        expect(gatewaySpan(copy.body).attributes[Attributes.ServerUrl]).toBe(`http://127.0.0.1:${h.port}`)
        const missing = yield* h.get<{ readonly error: { readonly type: string } }>("/api/traces/0123456789abcdef0123456789abcdef")
        expect([missing.status, missing.body.error.type]).toEqual([404, "not_found"])
      })), { timeout: 60_000 })

  it.live("filters, pages that walk every trace exactly once, usage per endpoint and model", () =>
    withGateway((up) => ({ endpoints: endpoints(up) }), (h) =>
      Effect.gen(function*() {
        for (let i = 0; i < 3; i++) yield* calls(h, `${i}`.repeat(32).replace(/^./, "a"))
        yield* Harness.eventually(Effect.map(list(h, "limit=1000"), (p) => p.traces.length === 18))
        const all = (yield* list(h, "limit=1000")).traces
        for (const limit of [1, 4, 17]) {
          const walked = yield* walk(h, "", limit)
          expect(walked.map((t) => t.traceId)).toEqual(all.map((t) => t.traceId))
        }
        const starts = all.map((t) => BigInt(t.startTimeUnixNano))
        expect(starts.every((s, i) => i === 0 || s <= starts[i - 1]!)).toBe(true)
        const ids = (traces: ReadonlyArray<Summary>) => traces.map((t) => t.traceId).sort()
        const check = (query: string, keep: (t: Summary) => boolean) =>
          Effect.map(walk(h, query, 5), (found) => expect(ids(found), query).toEqual(ids(all.filter(keep))))
        yield* check("endpoint=claude", (t) => t.endpoint === "claude" && t.kind === "gateway")
        yield* check("status=error", (t) => t.status === "error")
        yield* check("status=ok&kind=gateway", (t) => t.status === "ok" && t.kind === "gateway")
        yield* check("model=gemini-x", (t) => t.models.includes("gemini-x"))
        yield* check("kind=replay", (t) => t.kind === "replay")
        const median = [...all].sort((a, b) => a.durationMs - b.durationMs)[9]!.durationMs
        yield* check(`minDurationMs=${median}`, (t) => t.durationMs >= median)
        const middle = all[9]!
        const ms = Date.parse(middle.startTime)
        yield* check(`since=${ms}`, (t) => Date.parse(t.startTime) >= ms)
        yield* check(`until=${encodeURIComponent(middle.startTime)}`, (t) => Date.parse(t.startTime) < ms)
        yield* check(`endpoint=echo&status=ok&since=${encodeURIComponent(new Date(ms - 60_000).toISOString())}`, (t) =>
          t.endpoint === "echo" && t.kind === "gateway" && t.status === "ok" && Date.parse(t.startTime) >= ms - 60_000)

        const usage = yield* h.get<{ groupBy: string; bucket: string; groups: Array<{ key: string; calls: number; errors: number; tokens: Summary["tokens"] }>; series: Array<{ time: string; key: string; calls: number }> }>("/api/usage?groupBy=endpoint&bucket=minute")
        expect([usage.status, usage.body.groupBy, usage.body.bucket]).toEqual([200, "endpoint", "minute"])
        const gateways = all.filter((t) => t.kind === "gateway")
        for (const endpoint of ["echo", "claude", "gem", "limited"]) {
          const mine = gateways.filter((t) => t.endpoint === endpoint)
          const group = usage.body.groups.find((g) => g.key === endpoint)
          expect(group, endpoint).toEqual({
            key: endpoint,
            calls: mine.length,
            errors: mine.filter((t) => t.status === "error").length,
            tokens: {
              input: mine.reduce((n, t) => n + t.tokens.input, 0),
              output: mine.reduce((n, t) => n + t.tokens.output, 0),
              cacheRead: mine.reduce((n, t) => n + t.tokens.cacheRead, 0),
              cacheCreation: mine.reduce((n, t) => n + t.tokens.cacheCreation, 0),
              reasoning: 0
            }
          })
        }
        expect(usage.body.series.reduce((n, p) => n + p.calls, 0)).toBe(gateways.length)
        expect(usage.body.series.every((p) => new Date(p.time).getUTCSeconds() === 0)).toBe(true)
        const byModel = yield* h.get<{ groups: Array<{ key: string; calls: number }> }>("/api/usage?groupBy=model")
        expect(byModel.body.groups.find((g) => g.key === "gemini-x")?.calls).toBe(3)
      })), { timeout: 60_000 })

  it.live("bad parameters: 400 naming the parameter", () =>
    withGateway((up) => ({ endpoints: endpoints(up) }), (h) =>
      Effect.gen(function*() {
        const bad: ReadonlyArray<readonly [string, string]> = [
          ["/api/traces?limit=abc", "limit"],
          ["/api/traces?limit=0", "limit"],
          ["/api/traces?limit=1001", "limit"],
          ["/api/traces?limit=2.5", "limit"],
          ["/api/traces?limit=1&limit=2", "limit"],
          ["/api/traces?status=failed", "status"],
          ["/api/traces?kind=other", "kind"],
          ["/api/traces?since=yesterday", "since"],
          ["/api/traces?until=2026-13-45T99:00:00Z", "until"],
          ["/api/traces?minDurationMs=-1", "minDurationMs"],
          ["/api/traces?minDurationMs=fast", "minDurationMs"],
          ["/api/traces?cursor=not-a-cursor", "cursor"],
          ["/api/traces?endpoint=", "endpoint"],
          ["/api/usage?groupBy=region", "groupBy"],
          ["/api/usage?bucket=day", "bucket"],
          ["/api/usage?since=soon", "since"]
        ]
        for (const [path, parameter] of bad) {
          const answer = yield* h.get<{ readonly error: { readonly type: string; readonly parameter: string; readonly message: string } }>(path)
          expect([answer.status, answer.body.error.type, answer.body.error.parameter], path).toEqual([400, "invalid_parameter", parameter])
          expect(answer.body.error.message, path).toContain(parameter)
        }
        for (const good of ["/api/traces?limit=1000&since=2026-01-01&until=1893456000000", "/api/usage?groupBy=caller&bucket=hour&since=2026-01-01T00:00:00%2B02:00"]) {
          expect((yield* h.get(good)).status, good).toBe(200)
        }
      })))

  it.live("requests the gateway refuses (400, 404, 413, 415) are short error traces without payload", () =>
    withGateway((up) => ({ server: { maxBodyBytes: 2000 }, endpoints: endpoints(up) }), (h) =>
      Effect.gen(function*() {
        const post = (body: string, contentType = "application/json") =>
          Effect.promise(() =>
            fetch(`${h.url}/gateway/openai/v1/chat/completions`, { method: "POST", headers: { "content-type": contentType, "x-mlflow-gateway-caller": "refused-app" }, body })
              .then((r) => r.status)
          )
        expect(yield* post(JSON.stringify({ model: "nowhere", messages }))).toBe(404)
        expect(yield* post("{not json")).toBe(400)
        expect(yield* post(JSON.stringify({ model: "claude", messages }))).toBe(400) // an anthropic endpoint on the openai route
        expect(yield* post(JSON.stringify({ model: "echo", messages, pad: "x".repeat(5000) }))).toBe(413)
        expect(yield* post("hello", "text/plain")).toBe(415)
        yield* Harness.eventually(Effect.map(list(h, "status=error"), (p) => p.traces.length === 5))
        const refused = (yield* list(h, "status=error")).traces
        expect(refused.map((t) => t.statusCode).sort()).toEqual([400, 400, 404, 413, 415])
        expect(refused.map((t) => t.errorType).sort()).toEqual(["400", "400", "404", "413", "415"])
        expect(refused.every((t) => t.spanCount === 1 && t.caller === "refused-app" && t.tokens.input === 0)).toBe(true)
        expect(refused.find((t) => t.statusCode === 404)?.endpoint).toBe("nowhere")
        for (const summary of refused) {
          const trace = (yield* h.get<Trace>(`/api/traces/${summary.traceId}`)).body
          const [only] = trace.spans
          expect(only?.attributes[Attributes.SpanInputs]).toBeUndefined()
          expect(only?.attributes[Attributes.ServerUrl]).toBe(`http://127.0.0.1:${h.port}`)
        }
        const usage = yield* h.get<{ groups: Array<{ key: string; calls: number; errors: number }> }>("/api/usage")
        expect(usage.body.groups.find((g) => g.key === "(none)")).toEqual(expect.objectContaining({ calls: 3, errors: 3 }))
      })))

  it.live("a call in flight is listed as in_progress from its start, then as what it became, once", () =>
    withGateway(() => ({ endpoints: [{ name: "slow", provider: { kind: "echo", delayMs: 100 } }] }), (h) =>
      Effect.gen(function*() {
        const client = openai(h)
        // Six words at 100 ms each: the call runs for about half a second.
        const call = Effect.promise(async () => {
          const stream = await client.chat.completions.create({ model: "slow", stream: true, messages: [{ role: "user", content: "one two three four five six" }] })
          let text = ""
          for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? ""
          return text
        })
        const fiber = yield* Effect.fork(call)
        yield* Harness.eventually(Effect.map(list(h, "endpoint=slow"), (p) => p.traces.some((t) => t.status === "in_progress")))
        const running = (yield* list(h, "endpoint=slow")).traces
        expect(running).toHaveLength(1)
        expect(running[0]).toEqual(expect.objectContaining({ status: "in_progress", endpoint: "slow", kind: "gateway", spanCount: 1 }))
        expect((yield* list(h, "status=in_progress")).traces.map((t) => t.traceId)).toEqual([running[0]!.traceId])
        expect((yield* list(h, "status=ok")).traces).toEqual([])
        expect(yield* Effect.fromFiber(fiber)).toContain("six")
        yield* Harness.eventually(Effect.map(list(h, "endpoint=slow"), (p) => p.traces[0]?.status === "ok"))
        const done = (yield* list(h, "endpoint=slow")).traces
        expect(done.map((t) => [t.traceId, t.status])).toEqual([[running[0]!.traceId, "ok"]])
        expect(done[0]!.durationMs).toBeGreaterThanOrEqual(running[0]!.durationMs)
      })))

  it.live("a file store: the gateway's traces are still there after a restart", () =>
    Effect.gen(function*() {
      const path = join(mkdtempSync(join(tmpdir(), "llm-trace-api-")), "traces.db")
      const configure = (up: Upstreams.Upstream) => ({ tracing: { store: { path } }, endpoints: endpoints(up) })
      const first = yield* withGateway(configure, (h) =>
        Effect.gen(function*() {
          yield* Effect.promise(() => openai(h).chat.completions.create({ model: "echo", messages }))
          return yield* summaryOf(h, "echo")
        }))
      const again = yield* withGateway(configure, (h) => summaryOf(h, "echo"))
      expect(again).toEqual(first)
    }))

  it.live("a corrupt store file: the gateway does not start, and says why in one line naming the file", () =>
    Effect.gen(function*() {
      const path = join(mkdtempSync(join(tmpdir(), "llm-trace-api-")), "traces.db")
      writeFileSync(path, Buffer.alloc(4096, 0x21))
      const config = Schema.decodeUnknownSync(GatewayConfig.Config)({
        server: { port: 0 },
        tracing: { store: { path } },
        endpoints: [{ name: "echo", provider: { kind: "echo" } }]
      })
      const error = yield* Effect.flip(Effect.scoped(Layer.build(Server.layer(config))))
      assert(error._tag === "TraceStoreError")
      const line = Startup.storeError(error)
      expect(line.reason).toBe("TraceStore")
      expect(line.message).toContain(path)
      expect(line.message).toMatch(/not a database/)
      expect(line.message).not.toContain("\n")
    }))
})
