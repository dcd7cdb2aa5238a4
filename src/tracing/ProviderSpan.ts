/**
 * The `provider/<provider>/<model>` span around one upstream call, as a scoped resource.
 *
 * `start(options)` opens the span (kind CLIENT, child of the current span — the gateway span inside a gateway
 * request) with the request's GenAI attributes; the caller sends `traceparent` upstream and folds the response
 * through `observe` (streams: the bytes pass untouched, the provider fold runs on the way) or `observeResponse`
 * (a JSON body). One finaliser of the scope ends the span with the usage, finish reasons, output and status seen —
 * on success, failure and interruption, with the partial result when the call was cut short.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import type * as Tracer from "effect/Tracer"
import * as Finalizer from "../internal/finalizer.js"
import * as Observe from "../internal/observe.js"
import type * as Api from "../providers/Api.js"
import { GatewaySpan } from "./GatewaySpan.js"
import * as Call from "./internal/providerCall.js"
import * as Payload from "./internal/payload.js"
import * as Metrics from "./Metrics.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface Options<R, S> {
  /** How to fold and read this provider API's responses. */
  readonly api: Api.Api<R, S>
  /** `mlflow.llm.provider` and the span name's provider part; default `api.provider`. */
  readonly provider?: string | undefined
  /** The requested model: `gen_ai.request.model`, `mlflow.llm.model`, the span name's model part. */
  readonly model?: string | undefined
  readonly stream: boolean
  /** The upstream request body, recorded as the span's inputs (within `maxPayloadBytes`). */
  readonly payload?: unknown
  readonly server?: { readonly address: string; readonly port?: number | undefined } | undefined
  /** Strings never recorded (the call's credentials, which an error body may echo): replaced by `***`. @since 0.2.0 */
  readonly secrets?: ReadonlyArray<string> | undefined
  /** Record the first N stream events as `mlflow.chunk.item.{i}` span events (default 0: off). */
  readonly maxChunkEvents?: number | undefined
  /** `"none"`: record no inputs, outputs or chunk events (default `"full"`, as MLflow does). */
  readonly captureContent?: "full" | "none" | undefined
  /** Bound on each recorded payload attribute (default 256 KiB); a larger one is recorded as a truncation note. */
  readonly maxPayloadBytes?: number | undefined
}

/**
 * A started provider span.
 *
 * @since 0.1.0
 * @category models
 */
export interface ProviderSpan<R> {
  readonly span: Tracer.Span
  /** The W3C `traceparent` of THIS span, to send upstream (never the caller's). */
  readonly traceparent: string
  /** Folds a streamed response body on the way through; the bytes are not altered, delayed or re-chunked. */
  readonly observe: <E, Rq>(body: Stream.Stream<Uint8Array, E, Rq>) => Stream.Stream<Uint8Array, E, Rq>
  /** Records a non-streamed response body (parsed JSON). */
  readonly observeResponse: (body: unknown) => Effect.Effect<void>
  /** The response seen so far (partial while streaming). */
  readonly response: Effect.Effect<Option.Option<R>>
}

const captureOf = <R, S>(options: Options<R, S>): Call.Capture => ({
  ...Call.defaultCapture,
  content: options.captureContent ?? "full",
  maxPayloadBytes: options.maxPayloadBytes ?? Payload.defaultMaxPayloadBytes,
  maxChunkEvents: options.maxChunkEvents ?? 0
})

/**
 * Starts the call's span in the current scope: a child of the current gateway span (or of the current span),
 * ended by the scope's finaliser. The building block of every provider span; `start` is it with a `Stream`/JSON
 * front.
 *
 * @internal
 */
export const startCall = <R, S>(options: Options<R, S>): Effect.Effect<Call.ProviderCall<R>, never, Scope.Scope> =>
  Effect.gen(function*() {
    const capture = captureOf(options)
    const provider = options.provider ?? options.api.provider
    const request: Call.Request<R, S> = {
      api: options.api,
      // Read for the request parameters (`gen_ai.request.*`), whatever the content capture.
      body: options.payload,
      provider,
      model: options.model,
      stream: options.stream,
      server: options.server,
      secrets: options.secrets,
      inputsJson: capture.content === "none" || options.payload === undefined
        ? undefined
        : Payload.encode(options.payload, capture.maxPayloadBytes) ?? "null"
    }
    const gateway = yield* Effect.serviceOption(GatewaySpan)
    const span = yield* Effect.makeSpan(Call.spanName(provider, options.model), {
      kind: "client",
      captureStackTrace: false,
      attributes: Call.startAttributes(request),
      // Inside a gateway request, always under the gateway span (see GatewaySpan.tracedStream).
      ...(Option.isSome(gateway) ? { parent: gateway.value.span } : {})
    })
    const metrics = yield* Effect.serviceOption(Metrics.Metrics)
    const call = Call.start(span, yield* Effect.clock, request, capture, Option.getOrUndefined(metrics))
    yield* Finalizer.addSync((exit) => {
      const finished = call.finish(exit)
      if (Option.isSome(gateway)) gateway.value.collect(span, { outputJson: finished.outputJson })
    })
    return call
  })

/**
 * Folds `body` into `call` on the way through: each byte array as it passes, then how the body ended.
 *
 * @internal
 */
export const observeBody = <R, E, Rq>(call: Call.ProviderCall<R>, body: Stream.Stream<Uint8Array, E, Rq>) =>
  Observe.observe(body, () => ({
    chunk: (chunk) => {
      for (const bytes of chunk) call.feed(bytes)
    },
    end: () => call.end()
  }))

/**
 * Starts a provider span in the current scope; it ends when the scope closes.
 *
 * @since 0.1.0
 * @category constructors
 */
export const start = <R, S>(options: Options<R, S>): Effect.Effect<ProviderSpan<R>, never, Scope.Scope> =>
  Effect.map(startCall(options), (call) => ({
    span: call.span,
    traceparent: call.traceparent,
    observe: (body) => observeBody(call, body),
    observeResponse: (body) => Effect.sync(() => call.setResponse(body)),
    response: Effect.sync(() => call.response())
  }))

/**
 * Traces one non-streamed upstream call: `call` receives the span (send its `traceparent` upstream) and returns
 * the parsed JSON body, which is recorded and returned.
 *
 * @since 0.1.0
 * @category tracing
 */
export const traced = <R, S, A, E, Rq>(
  options: Options<R, S>,
  call: (span: ProviderSpan<R>) => Effect.Effect<A, E, Rq>
): Effect.Effect<A, E, Rq> =>
  Effect.scoped(Effect.gen(function*() {
    const span = yield* start(options)
    const body = yield* call(span)
    yield* span.observeResponse(body)
    return body
  }))

/**
 * Traces one streamed upstream call: `call` receives the span and returns the response body; the span lives as
 * long as the returned stream and folds it on the way through.
 *
 * @since 0.1.0
 * @category tracing
 */
export const tracedStream = <R, S, E, Rq>(
  options: Options<R, S>,
  call: (span: ProviderSpan<R>) => Effect.Effect<Stream.Stream<Uint8Array, E, Rq>, E, Rq>
): Stream.Stream<Uint8Array, E, Rq> =>
  Stream.unwrapScoped(Effect.gen(function*() {
    const span = yield* start(options)
    const body = yield* call(span)
    return span.observe(body)
  }))
