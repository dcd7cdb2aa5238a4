/**
 * The `gateway/<endpoint>` span of one gateway request, as a scoped resource.
 *
 * `make(endpoint, request)` starts the span (kind SERVER, the root of the gateway's own trace) and ends it in one
 * finaliser of the scope — success, failure or interruption — with the call's status (ERROR when the last provider
 * call failed), its output, and then, when the request carried a valid `traceparent`, replays every span of the
 * request into the caller's trace (see `Replay`). It reads no header but `traceparent`, `tracestate`,
 * `x-mlflow-gateway-caller` and `user-agent`. Inside `traced`/`tracedStream`, the gateway span is the parent of
 * every span made (provider spans, and the user's own, e.g. a guardrail step), and each of them is replayed.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as FiberId from "effect/FiberId"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as Tracer from "effect/Tracer"
import * as Fold from "../Fold.js"
import * as Finalizer from "../internal/finalizer.js"
import type * as Headers from "../internal/headers.js"
import * as Observe from "../internal/observe.js"
import * as Call from "./internal/gatewayCall.js"
import * as Payload from "./internal/payload.js"
import type * as Replay from "./Replay.js"

/**
 * A gateway endpoint, as tracing sees it.
 *
 * @since 0.1.0
 * @category models
 */
export interface Endpoint extends Call.Endpoint {}

/**
 * One request to an endpoint.
 *
 * @since 0.1.0
 * @category models
 */
export interface Request {
  /** The request payload, recorded as the span's inputs (JSON, within `maxPayloadBytes`). */
  readonly payload: unknown
  /** Request headers: only `traceparent`, `tracestate`, `x-mlflow-gateway-caller` and `user-agent` are read. */
  readonly headers?: Headers.HeadersInput | undefined
  /** `mlflow.message.format`, e.g. `openai`. */
  readonly messageFormat?: string | undefined
  /** Trace metadata such as `mlflow.auth.username`, `mlflow.auth.userId`, `mlflow.trace.session`. */
  readonly metadata?: Readonly<Record<string, string>> | undefined
  /** `mlflow.gateway.requestType`, e.g. `chat`. */
  readonly requestType?: string | undefined
  /** Distributed replay into the caller's trace (default `"always"`). */
  readonly replay?: Replay.Policy | undefined
  /** `"none"`: no inputs or outputs recorded (default `"full"`). */
  readonly captureContent?: "full" | "none" | undefined
  /** Bound on each recorded payload (default 256 KiB); a larger one is recorded as a truncation note. */
  readonly maxPayloadBytes?: number | undefined
}

/**
 * The running gateway span of the current request.
 *
 * @since 0.1.0
 * @category tags
 */
export class GatewaySpan extends Context.Tag("effect-llm-trace/GatewaySpan")<GatewaySpan, {
  readonly span: Tracer.Span
  readonly endpoint: Endpoint
  /**
   * Called as spans of the request end: each is kept for the replay; a provider call's span (`provider` given)
   * also sets the request's status and output.
   */
  readonly collect: (span: Tracer.Span, provider?: { readonly outputJson?: string | undefined }) => void
}>() {}

/**
 * The caller of a request: `x-mlflow-gateway-caller`, else the product token of `user-agent` (before the first
 * `/`); trimmed; None when empty.
 *
 * @since 0.1.0
 * @category metadata
 */
export const caller: (headers: Headers.HeadersInput) => Option.Option<string> = Call.caller

/** Starts the span and the call; `exitOf` may refine the scope's exit (a stream that stopped early). */
const acquire = (
  endpoint: Endpoint,
  request: Request,
  exitOf: (exit: Exit.Exit<unknown, unknown>) => Exit.Exit<unknown, unknown> = (exit) => exit
): Effect.Effect<Call.GatewayCall, never, Scope.Scope> =>
  Effect.gen(function*() {
    const span = yield* Effect.makeSpan(Call.spanName(endpoint.name), {
      kind: "server",
      root: true,
      captureStackTrace: false,
      attributes: Call.startAttributes(endpoint, request)
    })
    if (request.captureContent !== "none") {
      Call.setInputs(span, request.payload, request.maxPayloadBytes ?? Payload.defaultMaxPayloadBytes)
    }
    const call = Call.start(span, yield* Effect.tracer, yield* Effect.clock, endpoint, request)
    yield* Finalizer.addSync((exit) => call.finish(exitOf(exit)))
    return call
  })

/**
 * Starts the gateway span in the current scope (ended, and replayed, when the scope closes).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (endpoint: Endpoint, request: Request): Effect.Effect<GatewaySpan["Type"], never, Scope.Scope> =>
  acquire(endpoint, request)

/**
 * A tracer that hands every span of the request to the call as it ends, so that the replay has them all. The
 * span objects are the inner tracer's own (the OpenTelemetry bridge recognises its spans by class), with `end`
 * extended.
 */
const collecting = (inner: Tracer.Tracer, call: Call.GatewayCall): Tracer.Tracer =>
  Tracer.make({
    span: (name, parent, context, links, startTime, kind, options) => {
      const span = inner.span(name, parent, context, links, startTime, kind, options)
      if (span.traceId !== call.span.traceId) return span
      const end = span.end
      span.end = (endTime, exit) => {
        end.call(span, endTime, exit)
        call.collect(span)
      }
      return span
    },
    context: inner.context
  })

/** The context inside a traced request: the service, the gateway span as parent, the collecting tracer. */
const inside = (call: Call.GatewayCall) =>
  Effect.map(Effect.tracer, (tracer) => ({
    context: Context.make(GatewaySpan, call).pipe(Context.add(Tracer.ParentSpan, call.span)),
    tracer: collecting(tracer, call)
  }))

/**
 * The gateway span of one request as a scoped Layer: provides {@link GatewaySpan} and makes the span the parent of
 * spans made inside; ended (and replayed) when the layer's scope closes.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (endpoint: Endpoint, request: Request): Layer.Layer<GatewaySpan | Tracer.ParentSpan> =>
  Layer.unwrapScoped(Effect.flatMap(acquire(endpoint, request), (call) =>
    Effect.map(inside(call), ({ context, tracer }) => Layer.merge(Layer.succeedContext(context), Layer.setTracer(tracer)))
  ))

/**
 * Traces an effect as one gateway request: its success is the span's output. When the endpoint's `usageTracking`
 * is false this returns the effect itself and records nothing.
 *
 * @since 0.1.0
 * @category tracing
 */
export const traced = (endpoint: Endpoint, request: Request) => <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  endpoint.usageTracking
    ? Effect.scoped(Effect.gen(function*() {
      const call = yield* acquire(endpoint, request)
      const { context, tracer } = yield* inside(call)
      const result = yield* effect.pipe(Effect.provide(context), Effect.withTracer(tracer))
      if (request.captureContent !== "none") {
        const json = Payload.encode(result, request.maxPayloadBytes ?? Payload.defaultMaxPayloadBytes)
        if (json !== undefined) call.setOutputJson(json)
      }
      return result
    }))
    : effect

/**
 * Traces a function of the request payload (MLflow's `maybe_traced_gateway_call`): the payload is the span's
 * inputs, unwrapped. When the endpoint's `usageTracking` is false this returns `f` itself.
 *
 * @since 0.1.0
 * @category tracing
 */
export const tracedFunction = (endpoint: Endpoint, request: Omit<Request, "payload"> = {}) =>
<P, A, E, R>(f: (payload: P) => Effect.Effect<A, E, R>): (payload: P) => Effect.Effect<A, E, R> =>
  endpoint.usageTracking ? (payload) => traced(endpoint, { ...request, payload })(f(payload)) : f

/**
 * Traces a streamed response for as long as it runs. The elements pass through unchanged; `fold` reduces them to
 * the span's output (never the list of chunks); without one, the output is what provider spans report. A consumer
 * that stops early ends the span `cancelled`. When the endpoint's `usageTracking` is false this returns the stream
 * itself.
 *
 * @since 0.1.0
 * @category tracing
 */
export const tracedStream = <A, S, Out>(endpoint: Endpoint, request: Request, fold?: Fold.Fold<A, S, Out>) =>
<E, R>(stream: Stream.Stream<A, E, R>): Stream.Stream<A, E, R> =>
  endpoint.usageTracking
    ? Stream.unwrapScoped(Effect.gen(function*() {
      let completed = false
      const call = yield* acquire(
        endpoint,
        request,
        (exit) => Exit.isSuccess(exit) && !completed ? Exit.interrupt(FiberId.none) : exit
      )
      const { context, tracer } = yield* inside(call)
      // For the stream's life (this scope), spans made on this fiber go through the collecting tracer.
      yield* Effect.withTracerScoped(tracer)
      const observed = Observe.observe(stream, () => ({
        chunk: () => {},
        end: () => {
          completed = true
        }
      }))
      const output = fold === undefined || request.captureContent === "none"
        ? observed
        : Fold.tap(observed, fold, (completion) =>
          Effect.sync(() => {
            if (Option.isNone(completion.result)) return
            const json = Payload.encode(completion.result.value, request.maxPayloadBytes ?? Payload.defaultMaxPayloadBytes)
            if (json !== undefined) call.setOutputJson(json)
          }))
      return Stream.provideSomeContext(output, context)
    }))
    : stream
