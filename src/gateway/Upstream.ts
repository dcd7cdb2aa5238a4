/**
 * Upstream providers: where and how the gateway calls an upstream API. HTTP providers (OpenAI, Anthropic, Gemini) go
 * through `@effect/platform` `HttpClient`; `echo` answers in process (see `Echo`).
 *
 * The upstream request carries the client's body and its non-sensitive headers, the provider's own credential
 * (read from the environment variable `apiKeyEnv`), and the PROVIDER span's `traceparent`. Dropped on the way:
 * hop-by-hop headers, `host`, `content-length`, `cookie`, the client's credentials for the gateway, any other
 * header that looks like a credential, `accept-encoding` (so the body can be folded as it passes), and the
 * caller's own trace context.
 *
 * @since 0.1.0
 */
import * as HttpBody from "@effect/platform/HttpBody"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Config from "effect/Config"
import * as Data from "effect/Data"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import type * as Headers from "../internal/headers.js"
import * as Dialect from "./Dialect.js"
import * as Echo from "./Echo.js"

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
}

/**
 * The upstream's answer: status, headers, and the body as it arrives.
 *
 * @since 0.1.0
 * @category models
 */
export interface Reply {
  readonly status: number
  readonly headers: Readonly<Record<string, string>>
  readonly body: Stream.Stream<Uint8Array, UpstreamError>
}

/**
 * The upstream could not be reached, or its body broke off.
 *
 * @since 0.1.0
 * @category errors
 */
export class UpstreamError extends Data.TaggedError("UpstreamError")<{
  readonly reason: "Unreachable" | "BodyInterrupted"
  readonly url: string
  readonly cause: unknown
}> {
  /** `error.type` on spans. */
  get errorType(): string {
    return this.reason === "Unreachable" ? "upstream_unreachable" : "upstream_body_error"
  }
  override get message(): string {
    const detail = this.cause instanceof Error ? `: ${this.cause.message}` : ""
    return `upstream ${this.reason === "Unreachable" ? "unreachable" : "body interrupted"} (${this.url})${detail}`
  }
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Provider {
  readonly kind: Dialect.Kind
  /** `server.address` / `server.port` of the upstream, for spans. */
  readonly server: { readonly address: string; readonly port?: number | undefined }
  readonly call: (call: Call) => Effect.Effect<Reply, UpstreamError>
}

const hopByHop: ReadonlySet<string> = new Set([
  "connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade"
])

/** Never forwarded upstream: transport, the client's gateway credentials, cookies, and the caller's trace context. */
const dropped: ReadonlySet<string> = new Set([
  "host", "content-length", "accept-encoding", "cookie", "authorization", "proxy-authorization", "x-api-key",
  "api-key", "x-goog-api-key", "traceparent", "tracestate", "b3", "x-b3-traceid", "x-b3-spanid", "x-b3-sampled"
])

/** Header names that carry credentials, whatever the prefix (DESIGN "Security"); `idempotency-key` is no secret. */
const credentialLike = /token|secret|key|signature|cookie|auth/
const notCredentials: ReadonlySet<string> = new Set(["idempotency-key"])

/**
 * The client headers to send upstream: everything but the names above (case-insensitive), the headers named by
 * `connection`, and anything that looks like a credential. Keys come out lower-case.
 *
 * @since 0.1.0
 * @category headers
 */
export const forwardHeaders = (headers: Headers.HeadersInput): Record<string, string> => {
  const listed = new Set<string>()
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() !== "connection" || value === undefined) continue
    for (const name of (typeof value === "string" ? [value] : value).join(",").split(",")) listed.add(name.trim().toLowerCase())
  }
  const out: Record<string, string> = {}
  for (const [key, value] of Object.entries(headers)) {
    const name = key.toLowerCase()
    if (value === undefined || hopByHop.has(name) || dropped.has(name) || listed.has(name)) continue
    if (credentialLike.test(name) && !notCredentials.has(name)) continue
    out[name] = typeof value === "string" ? value : value.join(", ")
  }
  return out
}

/**
 * The upstream response headers to send to the client: without hop-by-hop headers, `content-length` and
 * `content-encoding` (the body is streamed as it arrives) and `set-cookie`.
 *
 * @since 0.1.0
 * @category headers
 */
export const replyHeaders = (headers: Readonly<Record<string, string>>): Record<string, string> => {
  const out: Record<string, string> = {}
  for (const [key, value] of Object.entries(headers)) {
    const name = key.toLowerCase()
    if (hopByHop.has(name) || name === "content-length" || name === "content-encoding" || name === "set-cookie") continue
    out[name] = value
  }
  return out
}

const serverOf = (url: URL): Provider["server"] => ({
  address: url.hostname,
  port: url.port === "" ? (url.protocol === "https:" ? 443 : 80) : Number(url.port)
})

const httpProvider = (kind: Dialect.HttpKind, settings: Settings) =>
  Effect.gen(function*() {
    const defaults = Dialect.providers[kind]
    const baseUrl = (settings.baseUrl ?? defaults.baseUrl).replace(/\/+$/, "")
    const apiKey = yield* Config.option(Config.redacted(settings.apiKeyEnv ?? defaults.apiKeyEnv)).pipe(
      Effect.orElseSucceed(() => Option.none<Redacted.Redacted>())
    )
    // Our spans wrap the call; the platform's client span would record `url.full` (Gemini puts keys in URLs).
    const client = (yield* HttpClient.HttpClient).pipe(HttpClient.withTracerDisabledWhen(() => true))
    const call = (call: Call): Effect.Effect<Reply, UpstreamError> => {
      const url = baseUrl + call.dialect.upstreamPath(call.model, call.stream)
      const request = HttpClientRequest.post(url).pipe(
        HttpClientRequest.setHeaders(forwardHeaders(call.headers)),
        HttpClientRequest.setHeaders(Option.match(apiKey, {
          onNone: () => ({}),
          onSome: (key) => Object.fromEntries([defaults.authHeader(Redacted.value(key))])
        })),
        HttpClientRequest.setHeaders(call.traceparent === undefined ? {} : { traceparent: call.traceparent }),
        HttpClientRequest.setBody(HttpBody.text(JSON.stringify(call.body), "application/json"))
      )
      return client.execute(request).pipe(
        Effect.mapError((cause) => new UpstreamError({ reason: "Unreachable", url: baseUrl, cause })),
        Effect.map((response) => ({
          status: response.status,
          headers: response.headers,
          body: Stream.mapError(response.stream, (cause) => new UpstreamError({ reason: "BodyInterrupted", url: baseUrl, cause }))
        }))
      )
    }
    return { kind, server: serverOf(new URL(baseUrl)), call } satisfies Provider
  })

const echoProvider = (settings: Settings): Provider => {
  const delay: Duration.DurationInput | undefined = settings.delayMs === undefined ? undefined : `${settings.delayMs} millis`
  return {
    kind: "echo",
    server: { address: "echo.local" },
    call: (call) =>
      Echo.respond(call.dialect.id, { body: call.body, stream: call.stream, model: call.model }, delay === undefined ? {} : { delay })
  }
}

/**
 * Builds a provider from its settings. HTTP providers need an `HttpClient`; the API key is read once, here.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (settings: Settings): Effect.Effect<Provider, never, HttpClient.HttpClient> =>
  settings.kind === "echo" ? Effect.succeed(echoProvider(settings)) : httpProvider(settings.kind, settings)
