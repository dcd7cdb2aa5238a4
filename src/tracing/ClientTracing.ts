/**
 * Zero-code tracing of the provider calls a program makes itself: every OpenAI, Anthropic or Gemini call that
 * goes through an Effect `HttpClient` (so every `@effect/ai` call) or through an official SDK given
 * {@link fetch} gets a `provider/<provider>/<model>` span (kind CLIENT) — usage, model, finish reasons, time to
 * first chunk, inputs and output — with no change to the calls.
 *
 * - A call is recognised by method and URL path on any host (Azure, OpenAI-compatible servers and the gateway
 *   itself included): OpenAI `/chat/completions`, `/responses`, `/completions`, `/embeddings`; Anthropic
 *   `/v1/messages`; Gemini `:generateContent`, `:streamGenerateContent`, `:embedContent`, `:batchEmbedContents` —
 *   the paths of the `Dialect` registry — plus the user's {@link Matcher}s. Other requests pass untouched.
 * - The span is a child of the current span (of `@effect/ai`'s `LanguageModel.generateText` span; `streamText`
 *   sends its request outside its own span, so there it is a child of the caller's span); upstream receives ITS
 *   `traceparent`, replacing any other.
 * - The response is folded as the caller reads it, streamed or not (decided by its `Content-Type`): the caller's
 *   bytes are never altered. The span ends once, when the body ends, fails or is abandoned (an early stop is
 *   `cancelled`). Credentials are never recorded; a tracing failure never fails the call.
 *
 * @since 0.2.0
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientTag from "@effect/platform/HttpClient"
import * as Effect from "effect/Effect"
import { dual } from "effect/Function"
import * as Layer from "effect/Layer"
import * as Predicate from "effect/Predicate"
import type * as Dialect from "../gateway/Dialect.js"
import * as Fetch from "./internal/clientTracingFetch.js"
import * as Http from "./internal/clientTracingHttp.js"

/**
 * Recognises more requests as provider calls (checked before the built-in table).
 *
 * @since 0.2.0
 * @category models
 */
export interface Matcher {
  /** The wire dialect the matched requests speak. */
  readonly dialect: Dialect.Id
  /** Whether a request (its method and full URL) is a call of this dialect. */
  readonly test: (method: string, url: URL) => boolean
  /** `mlflow.llm.provider` and the span name's provider part (default: the dialect's provider kind). */
  readonly provider?: string | undefined
}

/**
 * @since 0.2.0
 * @category models
 */
export interface Options {
  /** `false`: no tracing at all, every request passes untouched (also `EFFECT_LLM_TRACE_DISABLED=1`). */
  readonly enabled?: boolean | undefined
  /** `"none"`: no inputs, outputs or chunk events recorded (default `"full"`, as MLflow's autolog). */
  readonly captureContent?: "full" | "none" | undefined
  /** Record the first N stream events as `mlflow.chunk.item.{i}` span events (default 0). */
  readonly maxChunkEvents?: number | undefined
  /** Bound on each recorded payload attribute (default 256 KiB); a larger one is recorded as a truncation note. */
  readonly maxPayloadBytes?: number | undefined
  readonly matchers?: ReadonlyArray<Matcher> | undefined
}

/**
 * @since 0.2.0
 * @category models
 */
export interface FetchOptions extends Options {
  /**
   * Where the spans go: the runtime of this layer makes them (default `Telemetry.layerFromEnv()`: the embedded
   * store, and OTLP when `OTEL_EXPORTER_OTLP_ENDPOINT` is set). Built on the first recognised call; when it
   * fails to build, calls go untraced.
   */
  readonly telemetry?: Layer.Layer<never, unknown> | undefined
  /** The `fetch` that makes the requests (default `globalThis.fetch`). */
  readonly fetch?: typeof globalThis.fetch | undefined
}

/**
 * A `fetch` that traces provider calls.
 *
 * @since 0.2.0
 * @category models
 */
export interface TracedFetch {
  (input: string | URL | Request, init?: RequestInit): Promise<Response>
  /** Flushes pending spans and releases the telemetry (also done when the process is about to exit). */
  readonly shutdown: () => Promise<void>
}

const env = (): string | undefined => process.env["EFFECT_LLM_TRACE_DISABLED"]

/**
 * Traces the provider calls made through one client.
 *
 * @since 0.2.0
 * @category combinators
 */
export const withTracing: {
  (options?: Options): (self: HttpClient.HttpClient) => HttpClient.HttpClient
  (self: HttpClient.HttpClient, options?: Options): HttpClient.HttpClient
} = dual(
  (args) => Predicate.hasProperty(args[0], HttpClientTag.TypeId),
  (self: HttpClient.HttpClient, options?: Options): HttpClient.HttpClient => Http.withTracing(self, options, env())
)

/**
 * Replaces the `HttpClient` in context with one that traces provider calls: provide it beneath the clients that
 * use it (`OpenAiClient.layer(…).pipe(Layer.provide(ClientTracing.layer()), Layer.provide(NodeHttpClient.layerUndici))`).
 *
 * @since 0.2.0
 * @category layers
 */
export const layer = (options?: Options): Layer.Layer<HttpClient.HttpClient, never, HttpClient.HttpClient> =>
  Layer.effect(HttpClientTag.HttpClient, Effect.map(HttpClientTag.HttpClient, (client) => withTracing(client, options)))

/**
 * A `fetch` for the official SDKs — `new OpenAI({ fetch: ClientTracing.fetch() })`, `new Anthropic({ fetch })`,
 * `new GoogleGenAI({ httpOptions: { fetch } })` — usable from code that does not use Effect: its spans are made by
 * the `telemetry` layer's runtime, as children of the active OpenTelemetry context when there is one.
 *
 * @since 0.2.0
 * @category constructors
 */
export const fetch = (options?: FetchOptions): TracedFetch => Fetch.make(options, env())
