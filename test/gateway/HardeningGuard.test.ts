/**
 * Gateway hardening, what the gateway lets in and out: every error answer is a JSON body; a foreign `Host` (DNS
 * rebinding), a foreign `Origin` (a web page) and a non-JSON POST (a page's preflight-free form post) are refused
 * before anything goes upstream; credential-like headers never reach the upstream or a span, and an upstream that
 * echoes the provider key does not get it recorded; keep-alive sockets survive idle gaps longer than Node's old
 * 5 s default. Real sockets on 127.0.0.1.
 */
import { assert, describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { Agent, type IncomingHttpHeaders, request as httpRequest } from "node:http"
import type { Socket } from "node:net"
import { gzipSync } from "node:zlib"
import * as Attributes from "../../src/tracing/Attributes.js"
import type { Trace } from "../../src/tracing/TraceStore.js"
import { type Harness, mounts, openaiEndpoint, rawExchange, rawPost, span, traceOf, withGateway, withGateway as withGatewayAs } from "../support/gateway.js"
import type * as Upstreams from "../support/upstreams.js"

const upstreamKey = "sk-upstream-SECRET-key-0123456789"
process.env["GUARD_UPSTREAM_KEY"] = upstreamKey
process.env["TEST_UPSTREAM_KEY"] = "upstream-key-for-tests"

const chatPath = "/gateway/openai/v1/chat/completions"
const body = JSON.stringify({ model: "faithful", messages: [{ role: "user", content: "hi" }] })

const endpoints = (up: Upstreams.Upstream) => ({
  endpoints: [
    { name: "echo", provider: { kind: "echo" } },
    // Keep-alive is about sockets: an untraced endpoint keeps 1,000 calls quick.
    { name: "echo-untraced", usageTracking: false, provider: { kind: "echo" } },
    openaiEndpoint(up, "faithful", "/faithful"),
    { name: "echo-key", provider: { kind: "openai", baseUrl: `${up.url}/echo-key/v1`, apiKeyEnv: "GUARD_UPSTREAM_KEY" } }
  ]
})

interface Answer {
  readonly status: number
  readonly headers: IncomingHttpHeaders
  readonly text: string
}

/** One request with Node's client (which, unlike fetch, lets a test set `Host` and `Origin`). */
const send = (h: Harness, options: { readonly method?: string; readonly path?: string; readonly headers?: Record<string, string>; readonly body?: string | Buffer }) =>
  Effect.async<Answer>((resume) => {
    const req = httpRequest({
      host: h.host,
      port: h.port,
      method: options.method ?? "POST",
      path: options.path ?? chatPath,
      headers: { "content-type": "application/json", ...options.headers }
    }, (res) => {
      const parts: Array<Buffer> = []
      res.on("data", (b: Buffer) => parts.push(b))
      res.on("end", () => resume(Effect.succeed({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(parts).toString() })))
    })
    req.end(options.body)
    return Effect.sync(() => req.destroy())
  })

/** A JSON error answer: the status, `application/json`, and the `error` member of an OpenAI-shaped body. */
const expectJsonError = (answer: Answer, status: number, type?: string) => {
  expect(answer.status, answer.text).toBe(status)
  expect(answer.headers["content-type"]).toMatch(/^application\/json/)
  const parsed = JSON.parse(answer.text) as { readonly error?: { readonly type?: string; readonly message?: string } }
  expect(typeof parsed.error?.message).toBe("string")
  if (type !== undefined) expect(parsed.error?.type).toBe(type)
}

for (const mount of mounts) {
  /** The gateway served as `mount`. */
  const withGateway = <A, E>(configure: (up: Upstreams.Upstream) => Record<string, unknown>, test: (h: Harness) => Effect.Effect<A, E>) =>
    withGatewayAs(configure, test, {}, mount)

  describe(`Every error answer has a JSON body (${mount})`, () => {
    it.live("404, wrong method, 401, 413, 415, 421, 403, and 431 from Node's parser", () =>
      withGateway((up) => ({
        ...endpoints(up),
        server: { maxBodyBytes: 100 },
        auth: { keys: [{ key: "gw-key", username: "alice" }] }
      }), (h) =>
        Effect.gen(function*() {
          const key = { authorization: "Bearer gw-key" }
          expectJsonError(yield* send(h, { method: "GET", path: "/nowhere", headers: key }), 404, "not_found")
          expectJsonError(yield* send(h, { method: "GET", path: chatPath, headers: key }), 404, "not_found")
          expectJsonError(yield* send(h, { method: "DELETE", path: "/api/traces", headers: key }), 404, "not_found")
          expectJsonError(yield* send(h, { body }), 401, "authentication_error")
          expectJsonError(yield* send(h, { headers: key, body: JSON.stringify({ model: "echo", pad: "x".repeat(200) }) }), 413)
          expectJsonError(yield* send(h, { headers: { ...key, "content-type": "text/plain" }, body }), 415, "unsupported_media_type")
          expectJsonError(yield* send(h, { headers: { ...key, host: "evil.example" }, body }), 421, "misdirected_request")
          expectJsonError(yield* send(h, { headers: { ...key, origin: "https://evil.example" }, body }), 403, "forbidden_origin")
          // 20 KB of headers: over Node's 16 KiB limit, refused by its parser before any route runs.
          const raw = yield* rawExchange(h.port, rawPost(chatPath, body, { "x-filler": "f".repeat(20_000) }))
          const [head, text] = raw.text.split("\r\n\r\n", 2) as [string, string]
          expect(head).toMatch(/^HTTP\/1\.1 431 /)
          expect(head.toLowerCase()).toContain("content-type: application/json")
          expect(JSON.parse(text)).toMatchObject({ error: { message: "the request headers are too large" } })
          expect(h.upstream.requests).toEqual([])
        })))
  })

  describe(`Host, Origin and Content-Type guard (nothing goes upstream when refused) (${mount})`, () => {
    const hostAnswer = (h: Harness, host: string) => Effect.map(send(h, { headers: { host }, body }), (a) => a.status)

    it.live("default allowedHosts: the bind host, localhost, 127.0.0.1 and [::1], any port; others → 421", () =>
      withGateway(endpoints, (h) =>
        Effect.gen(function*() {
          for (const host of ["evil.example", "evil.example:8080", "127.0.0.1.evil.example", "localhost.evil.example", "10.0.0.1"]) {
            expect(yield* hostAnswer(h, host), host).toBe(421)
          }
          // DNS rebinding: a page of evil.example resolved to 127.0.0.1 reads the trace API same-origin (no Origin).
          expect((yield* send(h, { method: "GET", path: "/api/traces", headers: { host: "evil.example:8080" } })).status).toBe(421)
          expect(h.upstream.requests).toEqual([])
          for (const host of ["127.0.0.1", `127.0.0.1:${h.port}`, "localhost:1", "LocalHost", "[::1]:8080"]) {
            expect(yield* hostAnswer(h, host), host).toBe(200)
          }
          expect(h.upstream.requests.length).toBe(5)
        })))

    it.live("the bind host is allowed by default (a gateway on 127.0.0.2 answers Host 127.0.0.2, not 127.0.0.3)", () =>
      withGateway((up) => ({ ...endpoints(up), server: { host: "127.0.0.2" } }), (h) =>
        Effect.gen(function*() {
          expect(h.host).toBe("127.0.0.2")
          expect(yield* hostAnswer(h, "127.0.0.3")).toBe(421)
          expect(h.upstream.requests).toEqual([])
          expect(yield* hostAnswer(h, `127.0.0.2:${h.port}`)).toBe(200)
        })))

    it.live("allowedHosts names the hosts (then localhost is no longer one); \"*\" allows any", () =>
      Effect.gen(function*() {
        yield* withGateway((up) => ({ ...endpoints(up), server: { allowedHosts: ["gateway.internal"] } }), (h) =>
          Effect.gen(function*() {
            expect(yield* hostAnswer(h, "localhost")).toBe(421)
            expect(h.upstream.requests).toEqual([])
            expect(yield* hostAnswer(h, "gateway.internal:443")).toBe(200)
          }))
        yield* withGateway((up) => ({ ...endpoints(up), server: { allowedHosts: ["*"] } }), (h) =>
          Effect.map(hostAnswer(h, "anything.example"), (status) => expect(status).toBe(200)))
      }))

    it.live("an Origin not in allowedOrigins → 403; a listed one passes; a text/plain POST → 415", () =>
      withGateway((up) => ({ ...endpoints(up), server: { allowedOrigins: ["https://app.example.com"] } }), (h) =>
        Effect.gen(function*() {
          for (const origin of ["https://evil.example", "null", "https://app.example.com.evil.example", "http://app.example.com"]) {
            expect((yield* send(h, { headers: { origin }, body })).status, origin).toBe(403)
          }
          // The CSRF form post: a page may send text/plain without a preflight; refused whatever its Origin.
          expect((yield* send(h, { headers: { "content-type": "text/plain" }, body })).status).toBe(415)
          expect((yield* send(h, { headers: { "content-type": "text/plain;charset=UTF-8", origin: "https://app.example.com" }, body })).status).toBe(415)
          expect((yield* send(h, { headers: { "content-type": "application/x-www-form-urlencoded" }, body })).status).toBe(415)
          expect(h.upstream.requests).toEqual([])
          expect((yield* send(h, { headers: { origin: "https://app.example.com" }, body })).status).toBe(200)
          expect((yield* send(h, { headers: { "content-type": "application/json; charset=utf-8" }, body })).status).toBe(200)
          expect(h.upstream.requests.length).toBe(2)
        })))

    it.live("no allowedOrigins: any request with an Origin is refused (a browser page), one without passes", () =>
      withGateway(endpoints, (h) =>
        Effect.gen(function*() {
          expect((yield* send(h, { headers: { origin: `http://127.0.0.1:${h.port}` }, body })).status).toBe(403)
          expect(h.upstream.requests).toEqual([])
          expect((yield* send(h, { body })).status).toBe(200)
        })))
  })
}

describe("Headers that are the client's own business", () => {
  it.live("`expect: 100-continue` (curl sends it for large bodies) is answered by the gateway, not forwarded", () =>
    withGateway(endpoints, (h) =>
      Effect.gen(function*() {
        const answer = yield* send(h, { headers: { expect: "100-continue" }, body })
        expect(answer.status, answer.text).toBe(200)
        expect(h.upstream.requests.map((r) => r.headers["expect"])).toEqual([undefined])
      })))

  it.live("a compressed request body → 415 (never misread as JSON); content-encoding is never forwarded", () =>
    withGateway(endpoints, (h) =>
      Effect.gen(function*() {
        const gzipped = yield* send(h, { headers: { "content-encoding": "gzip" }, body: gzipSync(body) })
        expectJsonError(gzipped, 415, "unsupported_media_type")
        expect(JSON.parse(gzipped.text).error.message).toBe("compressed request bodies are not supported")
        expect(h.upstream.requests).toEqual([])
        expect((yield* send(h, { headers: { "content-encoding": "identity" }, body })).status).toBe(200)
        expect(h.upstream.requests.map((r) => r.headers["content-encoding"])).toEqual([undefined])
      })))
})

describe("Secrets", () => {
  const credentialHeaders: Record<string, string> = {
    authorization: "Bearer SECRET-01",
    "proxy-authorization": "Basic SECRET-02",
    cookie: "sid=SECRET-03",
    "x-api-key": "SECRET-04",
    "api-key": "SECRET-05",
    "x-goog-api-key": "SECRET-06",
    "x-db-password": "SECRET-07",
    "x-passwd": "SECRET-08",
    "x-credentials": "SECRET-09",
    "x-user-jwt": "SECRET-10",
    "x-session-id": "SECRET-11",
    "x-csrf": "SECRET-12",
    "x-authz": "SECRET-13",
    "x-oauth-state": "SECRET-14",
    "x-refresh-token": "SECRET-15",
    "x-client-secret": "SECRET-16",
    "x-hub-signature-256": "SECRET-17",
    "x-private-key": "SECRET-18",
    "X-Mixed-Case-Token": "SECRET-19"
  }

  it.live("no credential-like header reaches the upstream, a span, the trace API or the caller's replayed trace", () =>
    withGateway(endpoints, (h) =>
      Effect.gen(function*() {
        const caller = "4bf92f3577b34da6a3ce929d0e0e4736"
        const answer = yield* send(h, {
          headers: { ...credentialHeaders, traceparent: `00-${caller}-00f067aa0ba902b7-01`, "x-request-id": "req-1", "idempotency-key": "idem-1" },
          body
        })
        expect(answer.status).toBe(200)
        const sent = h.upstream.requests[0]
        assert(sent !== undefined)
        expect(JSON.stringify(sent.headers)).not.toContain("SECRET")
        // Ordinary headers still pass, and the upstream gets its own key, not the client's.
        expect(sent.headers["x-request-id"]).toBe("req-1")
        expect(sent.headers["idempotency-key"]).toBe("idem-1")
        expect(sent.headers["authorization"]).toBe("Bearer upstream-key-for-tests")
        const own = yield* traceOf(h, "faithful")
        const replayed = yield* h.get<Trace>(`/api/traces/${caller}`)
        expect(replayed.status).toBe(200)
        const list = yield* h.get<unknown>("/api/traces")
        expect(JSON.stringify([own, replayed.body, list.body])).not.toContain("SECRET")
      })))

  it.live("a credential in the query (Gemini's ?key=) goes neither upstream nor into the trace", () =>
    withGateway((up) => ({
      endpoints: [{ name: "gem", provider: { kind: "gemini", baseUrl: `${up.url}/gemini/v1beta`, apiKeyEnv: "TEST_UPSTREAM_KEY" } }]
    }), (h) =>
      Effect.gen(function*() {
        yield* send(h, {
          path: "/gateway/gemini/v1beta/models/gem:streamGenerateContent?alt=sse&key=SECRET-URL-KEY",
          body: JSON.stringify({ contents: [{ role: "user", parts: [{ text: "hi" }] }] })
        })
        const sent = h.upstream.requests[0]
        assert(sent !== undefined)
        // This upstream answers 404 quoting the URL it got: the trace records that body, and no key in it.
        expect(sent.url).not.toContain("SECRET")
        expect(sent.headers["x-goog-api-key"]).toBe("upstream-key-for-tests")
        const trace = yield* traceOf(h, "gem")
        expect(JSON.stringify(trace)).toContain("no upstream route /gemini/v1beta/models/")
        expect(JSON.stringify(trace)).not.toContain("SECRET")
      })))

  it.live("an upstream 401 that echoes the provider key: the key is masked as *** in the span's status, attributes and events", () =>
    withGateway(endpoints, (h) =>
      Effect.gen(function*() {
        const answer = yield* send(h, { body: JSON.stringify({ model: "echo-key", stream: true, messages: [{ role: "user", content: "hi" }] }) })
        expect(answer.status).toBe(401)
        const trace = yield* traceOf(h, "echo-key")
        const text = JSON.stringify(trace)
        expect(text).not.toContain(upstreamKey)
        const provider = span(trace, "provider/")
        expect(provider.status.code).toBe("ERROR")
        expect(provider.attributes[Attributes.ErrorType]).toBe("401")
        expect(provider.status.message).toContain("Incorrect API key provided: Bearer ***")
        const exception = provider.events.find((e) => e.name === "exception")
        assert(exception !== undefined, "an exception event")
        expect(String(exception.attributes["exception.message"])).toContain("Bearer ***")
        expect(span(trace, "gateway/").status.message).toContain("Bearer ***")
      })))
})

describe("Keep-alive", () => {
  /** One streamed echo over `agent`: resolves with the socket used and whether it was reused, or the error. */
  const stream = (h: Harness, agent: Agent, i: number) =>
    Effect.async<{ readonly socket: Socket; readonly reused: boolean; readonly ok: boolean }, Error>((resume) => {
      const req = httpRequest({
        host: "127.0.0.1",
        port: h.port,
        method: "POST",
        path: chatPath,
        agent,
        headers: { "content-type": "application/json" }
      }, (res) => {
        let text = ""
        res.setEncoding("utf8")
        res.on("data", (t: string) => {
          text += t
        })
        res.on("end", () => resume(Effect.succeed({ socket: req.socket!, reused: req.reusedSocket, ok: res.statusCode === 200 && text.endsWith("data: [DONE]\n\n") })))
        res.on("error", (error) => resume(Effect.fail(error)))
      })
      req.on("error", (error) => resume(Effect.fail(error)))
      req.end(JSON.stringify({ model: "echo-untraced", stream: true, messages: [{ role: "user", content: `call ${i}` }] }))
    })

  it.live("1,000 streams over a 16-socket keep-alive pool, 6.5 s idle in the middle: no failure, the same sockets throughout", () =>
    withGateway(endpoints, (h) =>
      Effect.gen(function*() {
        const agent = new Agent({ keepAlive: true, maxSockets: 16 })
        yield* Effect.addFinalizer(() => Effect.sync(() => agent.destroy()))
        const sockets = new Set<Socket>()
        let failures = 0
        let reusedAfterGap = 0
        const batch = (from: number, count: number) =>
          Effect.forEach(Array.from({ length: count }, (_, i) => from + i), (i) =>
            Effect.match(stream(h, agent, i), {
              onFailure: () => void failures++,
              onSuccess: (r) => {
                sockets.add(r.socket)
                if (!r.ok) failures++
                if (from > 0 && i - from < 16 && r.reused) reusedAfterGap++
              }
            }), { concurrency: 16, discard: true })
        const started = performance.now()
        yield* batch(0, 500)
        yield* Effect.sleep("6500 millis")
        yield* batch(500, 500)
        const seconds = ((performance.now() - started) / 1000).toFixed(1)
        console.log(`keep-alive: 1000 streams in ${seconds} s, ${failures} failures, ${sockets.size} sockets, reused right after the gap: ${reusedAfterGap}/16`)
        expect(failures).toBe(0)
        // Had the server kept Node's old 5 s default (a socket then closes after 5 s + Node's 1 s buffer), the calls
        // after the gap would have needed new connections (checked: 0/16 reused, 32 sockets).
        expect(reusedAfterGap).toBe(16)
        expect(sockets.size).toBeLessThanOrEqual(16)
      }).pipe(Effect.scoped)), { timeout: 60_000 })
})
