/**
 * Upstream providers: where and how the gateway calls an upstream API. HTTP providers (OpenAI, Anthropic, Gemini)
 * go through undici directly — one connection pool per endpoint, with its connect, headers and idle timeouts —
 * and hand back the body as a Node stream, so that a request costs what a proxy costs; `echo` answers in process.
 * An interrupted call (the client went away) destroys the body, which aborts the upstream request.
 *
 * The upstream request carries the client's body and its non-sensitive headers, the provider's own credential
 * (read from the environment variable `apiKeyEnv`), and the PROVIDER span's `traceparent`. Dropped on the way:
 * hop-by-hop headers, `host`, `content-length`, `content-encoding`, `expect`, `cookie`, the client's credentials
 * for the gateway, any other header that looks like a credential, and the caller's own trace context.
 * `accept-encoding` is the client's, else `identity` (always `identity` when the gateway rewrites the body), so that
 * a body can be folded as it passes (an encoded one is forwarded as is and decoded for the fold).
 *
 * @since 0.2.0
 */
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import { EventEmitter } from "node:events"
import type { Readable } from "node:stream"
import { Agent } from "undici"
import * as Finalizer from "../internal/finalizer.js"
import * as Headers from "../internal/headers.js"
import * as Dialect from "./Dialect.js"
import * as Echo from "./Echo.js"

/**
 * How long an upstream may take: to connect, to send its response headers, and between two body chunks.
 *
 * @since 0.2.0
 * @category models
 */
export interface Timeouts {
  readonly connectMs: number
  readonly headersMs: number
  readonly idleMs: number
}

/**
 * Connect 10 s; headers 300 s (reasoning models think long before their first byte); idle 300 s.
 *
 * @since 0.2.0
 * @category models
 */
export const defaultTimeouts: Timeouts = { connectMs: 10_000, headersMs: 300_000, idleMs: 300_000 }

/**
 * A provider's settings (the `provider` object of an endpoint in the gateway config).
 *
 * @since 0.1.0
 * @category models
 */
export interface Settings {
  readonly kind: Dialect.Kind
  /** The upstream model; default: the endpoint's name. */
  readonly model?: string | undefined
  /** The API base URL, e.g. `https://api.openai.com/v1`. */
  readonly baseUrl?: string | undefined
  /** The environment variable holding the API key. */
  readonly apiKeyEnv?: string | undefined
  /** Echo only: delay between streamed words. */
  readonly delayMs?: number | undefined
}

/**
 * One upstream call.
 *
 * @since 0.1.0
 * @category models
 */
export interface Call {
  readonly dialect: Dialect.Dialect
  /** The JSON body to send (for OpenAI and Anthropic its `model` is already the upstream model). */
  readonly body: unknown
  readonly stream: boolean
  /** The upstream model (Gemini puts it in the URL). */
  readonly model: string
  /** The client's request headers; filtered by {@link forwardHeaders}. */
  readonly headers: Headers.HeadersInput
  /** The provider span's trace context. */
  readonly traceparent?: string | undefined
  /**
   * The gateway rewrites the body on its way (the usage strip): ask for it unencoded (`accept-encoding: identity`)
   * whatever the client accepts — identity is always acceptable to the client.
   */
  readonly plainBody?: boolean | undefined
}

/**
 * The upstream's answer: status, headers (lower-case names), and the body as it arrives.
 *
 * @since 0.1.0
 * @category models
 */
export interface Reply {
  readonly status: number
  readonly headers: Readonly<Record<string, string>>
  readonly body: Readable
}

/**
 * The upstream could not be reached, was too slow, its body broke off, or its body could not be decoded (a
 * `content-encoding` its bytes do not follow; since 0.2.0).
 *
 * @since 0.1.0
 * @category errors
 */
export class UpstreamError extends Data.TaggedError("UpstreamError")<{
  readonly reason: "Unreachable" | "Timeout" | "BodyInterrupted" | "Undecodable"
  readonly url: string
  readonly cause: unknown
}> {
  /** `error.type` on spans. */
  get errorType(): string {
    return errorTypes[this.reason]
  }
  override get message(): string {
    const detail = this.cause instanceof Error ? `: ${this.cause.message}` : ""
    return `upstream ${descriptions[this.reason]} (${this.url})${detail}`
  }
}

const errorTypes: Record<UpstreamError["reason"], string> = {
  Unreachable: "upstream_unreachable",
  Timeout: "upstream_timeout",
  BodyInterrupted: "upstream_body_error",
  Undecodable: "upstream_body_undecodable"
}

const descriptions: Record<UpstreamError["reason"], string> = {
  Unreachable: "unreachable",
  Timeout: "timed out",
  BodyInterrupted: "body interrupted",
  Undecodable: "body could not be decoded"
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Provider {
  readonly kind: Dialect.Kind
  /** `server.address` / `server.port` of the upstream, for spans. */
  readonly server: { readonly address: string; readonly port?: number | undefined }
  /** The configured key, to mask it wherever an upstream would echo it back. */
  readonly secret: string | undefined
  /** Calls upstream; the reply's body is destroyed (aborting the request) when the scope closes before its end. */
  readonly call: (call: Call) => Effect.Effect<Reply, UpstreamError, Scope.Scope>
}

const hopByHop: ReadonlySet<string> = new Set([
  "connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade"
])

/**
 * Never forwarded upstream: transport, the client's gateway credentials, cookies, and the caller's trace context.
 * `expect: 100-continue` (curl sends it with large bodies) was answered by the gateway's server, and undici refuses
 * it: forwarded, it failed the call. The body sent is the gateway's own serialisation: the client's
 * `content-encoding` does not describe it.
 */
const dropped: ReadonlySet<string> = new Set([
  "host", "content-length", "content-encoding", "expect", "cookie", "authorization", "proxy-authorization",
  "x-api-key", "api-key", "x-goog-api-key", "traceparent", "tracestate", "b3", "x-b3-traceid", "x-b3-spanid", "x-b3-sampled",
  "x-b3-parentspanid", "x-b3-flags"
])

/**
 * Header names that carry credentials, whatever the prefix or suffix: never forwarded, never recorded.
 * `idempotency-key` is no secret.
 *
 * @since 0.2.0
 * @category headers
 */
export const isCredentialHeader = (name: string): boolean =>
  name !== "idempotency-key" && credentialLike.test(name)

const credentialLike = /token|secret|key|signature|cookie|auth|passw|credential|session|jwt|csrf/i

/**
 * The client headers to send upstream: everything but the names above (case-insensitive), the headers named by
 * `connection`, and anything that looks like a credential. Keys come out lower-case.
 *
 * @since 0.1.0
 * @category headers
 */
export const forwardHeaders = (headers: Headers.HeadersInput): Record<string, string> => {
  const listed = new Set<string>()
  for (const value of Headers.values(headers, "connection")) {
    for (const name of value.split(",")) listed.add(name.trim().toLowerCase())
  }
  const out: Record<string, string> = {}
  for (const key of Object.keys(headers)) {
    const value = headers[key]
    const name = key.toLowerCase()
    if (value === undefined || hopByHop.has(name) || dropped.has(name) || listed.has(name) || isCredentialHeader(name)) continue
    out[name] = typeof value === "string" ? value : value.join(", ")
  }
  return out
}

/**
 * The upstream response headers to send to the client: without hop-by-hop headers, `content-length` (the body
 * is streamed as it arrives) and `set-cookie`. `content-encoding` stays: the bytes are forwarded as they came.
 *
 * @since 0.1.0
 * @category headers
 */
export const replyHeaders = (headers: Readonly<Record<string, string>>): Record<string, string> => {
  const out: Record<string, string> = {}
  for (const key of Object.keys(headers)) {
    const name = key.toLowerCase()
    if (hopByHop.has(name) || name === "content-length" || name === "set-cookie") continue
    out[name] = headers[key]!
  }
  return out
}

const serverOf = (url: URL): Provider["server"] => ({
  address: url.hostname,
  port: url.port === "" ? (url.protocol === "https:" ? 443 : 80) : Number(url.port)
})

const timeoutCodes: ReadonlySet<string> = new Set(["UND_ERR_CONNECT_TIMEOUT", "UND_ERR_HEADERS_TIMEOUT", "UND_ERR_BODY_TIMEOUT"])

/** Classifies an undici error: a timeout, else `reason`. @internal */
export const toUpstreamError = (url: string, cause: unknown, reason: Exclude<UpstreamError["reason"], "Timeout">): UpstreamError => {
  const code = (cause as { readonly code?: unknown } | null)?.code
  return new UpstreamError({ reason: typeof code === "string" && timeoutCodes.has(code) ? "Timeout" : reason, url, cause })
}

const flatten = (headers: Record<string, string | Array<string> | undefined>): Record<string, string> => {
  const out: Record<string, string> = {}
  for (const key of Object.keys(headers)) {
    const value = headers[key]
    if (value !== undefined) out[key] = typeof value === "string" ? value : value.join(", ")
  }
  return out
}

/**
 * The abort signal undici takes for a request: an `EventEmitter` with `aborted` (undici accepts one), lighter per
 * call than an `AbortController` and its `EventTarget`.
 */
class Abort extends EventEmitter {
  aborted = false
  abort(): void {
    this.aborted = true
    this.emit("abort")
  }
}

/** Destroys a body that did not end: an unread or half-read response is aborted, never left to leak. */
const release = (reply: Reply): void => {
  if (!reply.body.readableEnded) reply.body.destroy()
}

const httpProvider = (kind: Dialect.HttpKind, settings: Settings, timeouts: Timeouts, env: Readonly<Record<string, string | undefined>>): Provider => {
  const defaults = Dialect.providers[kind]
  const baseUrl = (settings.baseUrl ?? defaults.baseUrl).replace(/\/+$/, "")
  const key = env[settings.apiKeyEnv ?? defaults.apiKeyEnv]
  const secret = key === undefined || key === "" ? undefined : key
  const auth = secret === undefined ? undefined : defaults.authHeader(secret)
  const dispatcher = new Agent({
    connect: { timeout: timeouts.connectMs },
    headersTimeout: timeouts.headersMs,
    bodyTimeout: timeouts.idleMs,
    keepAliveTimeout: 30_000
  })
  // The dispatcher is called with origin and path (no URL parsed per call); the base URL may carry a path prefix.
  const base = new URL(baseUrl)
  const origin = base.origin
  const prefix = base.pathname.replace(/\/+$/, "")
  const call = (call: Call): Effect.Effect<Reply, UpstreamError, Scope.Scope> =>
    Finalizer.acquireReleaseSync(
      // Interruptible while waiting for the upstream's headers: a client that leaves before them aborts the
      // upstream request now, not when the headers timeout fires minutes later.
      Effect.interruptible(Effect.async<Reply, UpstreamError>((resume) => {
        const headers = forwardHeaders(call.headers)
        headers["content-type"] = "application/json"
        headers["accept-encoding"] = call.plainBody === true ? "identity" : Headers.get(call.headers, "accept-encoding") ?? "identity"
        if (auth !== undefined) headers[auth[0]] = auth[1]
        if (call.traceparent !== undefined) headers["traceparent"] = call.traceparent
        const abort = new Abort()
        dispatcher.request({
          origin,
          path: prefix + call.dialect.upstreamPath(call.model, call.stream),
          method: "POST",
          headers,
          body: JSON.stringify(call.body),
          signal: abort
        }, (cause, response) => {
          if (cause !== null) return resume(Effect.fail(toUpstreamError(baseUrl, cause, "Unreachable")))
          // Interrupted as the headers arrived: nobody will read this body.
          if (abort.aborted) return void response.body.destroy()
          resume(Effect.succeed({ status: response.statusCode, headers: flatten(response.headers), body: response.body }))
        })
        return Effect.sync(() => abort.abort())
      })),
      release
    )
  return { kind, server: serverOf(new URL(baseUrl)), secret, call }
}

const echoProvider = (settings: Settings): Provider => ({
  kind: "echo",
  server: { address: "echo.local" },
  secret: undefined,
  call: (call) =>
    Finalizer.acquireReleaseSync(
      Effect.map(Echo.respond(call.dialect.id, { body: call.body, stream: call.stream, model: call.model }), (reply) => ({
        status: reply.status,
        headers: reply.headers,
        body: Echo.readable(reply, settings.delayMs ?? 0)
      })),
      release
    )
})

/**
 * Builds a provider from its settings; the API key is read once, here, from `env`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  settings: Settings,
  options?: { readonly timeouts?: Timeouts | undefined; readonly env?: Readonly<Record<string, string | undefined>> | undefined }
): Provider =>
  settings.kind === "echo"
    ? echoProvider(settings)
    : httpProvider(settings.kind, settings, options?.timeouts ?? defaultTimeouts, options?.env ?? process.env)
