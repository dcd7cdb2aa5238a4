/**
 * The `gateway/<endpoint>` span of one gateway request, as a scoped resource.
 *
 * `layer(endpoint, request)` starts the span (kind SERVER, the root of the gateway's own trace) and ends it in the
 * layer's finaliser with the scope's exit — success, failure or interruption — and then, when the request carried
 * a valid `traceparent`, replays the gateway's spans into the caller's trace (see `Replay`). The span records the
 * request payload as inputs, the (possibly partial) result as outputs, and trace-level metadata (caller, user,
 * session) which the TraceStore keeps as trace metadata. It reads no header but `traceparent`, `tracestate`,
 * `x-mlflow-gateway-caller` and `user-agent`.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as FiberId from "effect/FiberId"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Ref from "effect/Ref"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as Tracer from "effect/Tracer"
import * as Fold from "../Fold.js"
import * as Headers from "../internal/headers.js"
import * as Attributes from "./Attributes.js"
import * as Outcome from "./internal/outcome.js"
import * as Replay from "./Replay.js"
import * as TraceContext from "./TraceContext.js"

/**
 * A gateway endpoint, as tracing sees it.
 *
 * @since 0.1.0
 * @category models
 */
export interface Endpoint {
  readonly name: string
  readonly id: string
  /** When false, tracing is the identity: nothing is recorded. */
  readonly usageTracking: boolean
  /** The gateway's own URL (`server_url`). */
  readonly serverUrl?: string | undefined
}

/**
 * One request to an endpoint.
 *
 * @since 0.1.0
 * @category models
 */
export interface Request {
  /** The request payload, recorded as the span's inputs (JSON). */
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
  /** Records the call's result as the span's outputs (the last call wins). */
  readonly setOutput: (output: unknown) => Effect.Effect<void>
  /** {@link setOutput} with the JSON already made (a provider span serialises its output once for both spans). */
  readonly setOutputJson: (json: string) => Effect.Effect<void>
  /**
   * Records how the response ended when the scope cannot tell (a consumer that stopped early ends its stream
   * with success); used instead of the scope's exit when set.
   */
  readonly setExit: (exit: Exit.Exit<unknown, unknown>) => Effect.Effect<void>
  /** Called by provider spans as they end: the record the replay is made from. */
  readonly addProviderSpan: (record: Replay.SpanRecord) => Effect.Effect<void>
}>() {}

/**
 * The caller of a request: `x-mlflow-gateway-caller`, else the product token of `user-agent` (before the first
 * `/`); trimmed; None when empty.
 *
 * @since 0.1.0
 * @category metadata
 */
export const caller = (headers: Headers.HeadersInput): Option.Option<string> => {
  const explicit = Headers.get(headers, "x-mlflow-gateway-caller")?.trim()
  if (explicit !== undefined && explicit !== "") return Option.some(explicit)
  const product = Headers.get(headers, "user-agent")?.split("/")[0]?.trim()
  return product !== undefined && product !== "" ? Option.some(product) : Option.none()
}

/**
 * JSON for an attribute value; None for what JSON cannot encode (cycles, BigInt): never throws.
 *
 * @since 0.1.0
 * @category encoding
 */
export const toJson = (value: unknown): Option.Option<string> => {
  try {
    const json = JSON.stringify(value)
    return json === undefined ? Option.none() : Option.some(json)
  } catch {
    return Option.none()
  }
}

const startAttributes = (endpoint: Endpoint, request: Request): Record<string, unknown> => {
  const attributes: Record<string, unknown> = {
    [Attributes.EndpointId]: endpoint.id,
    [Attributes.EndpointName]: endpoint.name,
    [Attributes.SpanType]: Attributes.SpanTypes.Llm,
    [Attributes.GatewayEndpointId]: endpoint.id,
    ...request.metadata
  }
  if (endpoint.serverUrl !== undefined) attributes[Attributes.ServerUrl] = endpoint.serverUrl
  if (request.messageFormat !== undefined) attributes[Attributes.MessageFormat] = request.messageFormat
  if (request.requestType !== undefined) attributes[Attributes.GatewayRequestType] = request.requestType
  const who = caller(request.headers ?? {})
  if (Option.isSome(who)) attributes[Attributes.GatewayCaller] = who.value
  const inputs = toJson(request.payload)
  attributes[Attributes.SpanInputs] = Option.getOrElse(inputs, () => "null")
  if (Option.isNone(inputs)) attributes[Attributes.TracingError] = "inputs are not JSON-serialisable"
  return attributes
}

/**
 * The gateway span of one request as a scoped Layer: started when the layer is built, ended (and replayed) when
 * its scope closes. Provides {@link GatewaySpan} and makes the span the parent of spans made inside.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (endpoint: Endpoint, request: Request): Layer.Layer<GatewaySpan | Tracer.ParentSpan> =>
  Layer.scopedContext(Effect.map(make(endpoint, request), (service) =>
    Context.make(GatewaySpan, service).pipe(Context.add(Tracer.ParentSpan, service.span))
  ))

/**
 * Starts the gateway span in the current scope (ended, and replayed, when the scope closes). {@link layer} as a
 * scoped Effect: cheaper per request than building a Layer.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (endpoint: Endpoint, request: Request): Effect.Effect<GatewaySpan["Type"], never, Scope.Scope> =>
  Effect.gen(function*() {
    const span = yield* Effect.makeSpan(`gateway/${endpoint.name}`, {
      kind: "server",
      root: true,
      captureStackTrace: false,
      attributes: startAttributes(endpoint, request)
    })
    const providers = yield* Ref.make<ReadonlyArray<Replay.SpanRecord>>([])
    const exitOverride = yield* Ref.make<Option.Option<Exit.Exit<unknown, unknown>>>(Option.none())
    const parent = request.replay === "never" ? Option.none() : TraceContext.fromHeaders(request.headers ?? {})

    yield* Effect.addFinalizer((scopeExit) =>
      Effect.gen(function*() {
        const exit = Option.getOrElse(yield* Ref.get(exitOverride), () => scopeExit)
        yield* Outcome.end(span, Outcome.fromExit(exit))
        if (Option.isNone(parent)) return
        const gateway = Replay.record(span)
        if (Option.isNone(gateway)) return
        yield* Outcome.guard(
          "distributed replay",
          Replay.emit({
            caller: TraceContext.toExternalSpan(parent.value),
            gateway: gateway.value,
            gatewayTraceId: span.traceId,
            providers: yield* Ref.get(providers)
          })
        )
      })
    )

    const service = GatewaySpan.of({
      span,
      endpoint,
      setOutput: (output) =>
        Effect.sync(() => {
          const json = toJson(output)
          if (Option.isSome(json)) span.attribute(Attributes.SpanOutputs, json.value)
          else span.attribute(Attributes.TracingError, "outputs are not JSON-serialisable")
        }),
      setOutputJson: (json) => Effect.sync(() => span.attribute(Attributes.SpanOutputs, json)),
      setExit: (exit) => Ref.set(exitOverride, Option.some(exit)),
      addProviderSpan: (record) => Ref.update(providers, (all) => [...all, record])
    })
    return service
  })

/**
 * Traces an effect as one gateway request: its success is the span's output. When the endpoint's `usageTracking`
 * is false this returns the effect itself and records nothing.
 *
 * @since 0.1.0
 * @category tracing
 */
export const traced = (endpoint: Endpoint, request: Request) => <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  endpoint.usageTracking
    ? Effect.flatMap(GatewaySpan, (gateway) => Effect.tap(effect, gateway.setOutput)).pipe(
      Effect.provide(layer(endpoint, request))
    )
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
 * the span's output (never the list of chunks). Without a fold, the output is what provider spans report. Inside,
 * {@link GatewaySpan} is provided (provider spans parent themselves under it). When the endpoint's
 * `usageTracking` is false this returns the stream itself.
 *
 * @since 0.1.0
 * @category tracing
 */
export const tracedStream = <A, S, Out>(endpoint: Endpoint, request: Request, fold?: Fold.Fold<A, S, Out>) =>
<E, R>(stream: Stream.Stream<A, E, R>): Stream.Stream<A, E, R> =>
  endpoint.usageTracking
    ? Stream.unwrapScoped(Effect.map(make(endpoint, request), (gateway) =>
      // Only the service, not the span as the ambient parent: provider spans parent themselves under it, and the
      // OpenTelemetry bridge would otherwise wrap every step of the stream's fiber in an OTel context.
      (fold === undefined ? observeExit(gateway)(stream) : observe(gateway, fold)(stream)).pipe(
        Stream.provideService(GatewaySpan, gateway)
      )
    ))
    : stream

/**
 * Watches a response body for the gateway span: how the body ended becomes the span's exit (a client that went
 * away, or a consumer that stopped early, is a cancellation even where the server's scope reports success). The
 * elements pass through unchanged.
 *
 * @since 0.1.0
 * @category tracing
 */
export const observeExit = (gateway: GatewaySpan["Type"]) => <A, E, R>(stream: Stream.Stream<A, E, R>): Stream.Stream<A, E, R> =>
  Stream.suspend(() => {
    let completed = false
    return stream.pipe(
      Stream.onEnd(Effect.sync(() => {
        completed = true
      })),
      Stream.ensuringWith((exit) => gateway.setExit(Exit.isSuccess(exit) && !completed ? Exit.interrupt(FiberId.none) : exit))
    )
  })

/**
 * {@link observeExit}, and the body folded by `fold` becomes the span's output.
 *
 * @since 0.1.0
 * @category tracing
 */
export const observe = <A, S, Out>(gateway: GatewaySpan["Type"], fold: Fold.Fold<A, S, Out>) =>
<E, R>(stream: Stream.Stream<A, E, R>): Stream.Stream<A, E, R> =>
  stream.pipe(Fold.tap(fold, (completion) => complete(gateway, completion)))

/** A folded stream's result becomes the output; its exit (which knows early stops) becomes the span's. */
const complete = <Out, E>(gateway: GatewaySpan["Type"], completion: Fold.Completion<Out, E>): Effect.Effect<void> =>
  Effect.zipRight(
    Option.match(completion.result, { onNone: () => Effect.void, onSome: gateway.setOutput }),
    gateway.setExit(completion.exit)
  )
