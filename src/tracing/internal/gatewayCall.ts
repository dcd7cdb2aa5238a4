/**
 * One traced gateway request, synchronously: the `gateway/<endpoint>` span, the spans of the request as they end
 * (provider spans and any span the user made inside), and `finish`, which ends the span with the call's outcome —
 * ERROR when the last provider call failed, even if the request itself "succeeded" by passing an error through —
 * and then replays every span into the caller's trace. Used by `GatewaySpan` and the gateway's routes alike.
 *
 * @internal
 */
import type * as Clock from "effect/Clock"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import type * as Tracer from "effect/Tracer"
import * as Headers from "../../internal/headers.js"
import * as Attributes from "../Attributes.js"
import * as Replay from "../Replay.js"
import * as TraceContext from "../TraceContext.js"
import * as Outcome from "./outcome.js"
import * as Payload from "./payload.js"

/** A gateway endpoint, as tracing sees it. @internal */
export interface Endpoint {
  readonly name: string
  readonly id: string
  readonly usageTracking: boolean
  readonly serverUrl?: string | undefined
}

/** One request to an endpoint. @internal */
export interface Request {
  readonly headers?: Headers.HeadersInput | undefined
  readonly messageFormat?: string | undefined
  readonly metadata?: Readonly<Record<string, string>> | undefined
  readonly requestType?: string | undefined
  readonly replay?: Replay.Policy | undefined
}

/** Methods of one object (`start` makes a class): call them on it; only `collect` may be taken off. @internal */
export interface GatewayCall {
  readonly span: Tracer.Span
  readonly endpoint: Endpoint
  /**
   * A span of the request ended: kept for the replay (each span once). A provider call's span also gives the
   * request its status (the last provider call's) and its output.
   */
  readonly collect: (span: Tracer.Span, provider?: { readonly outputJson?: string | undefined }) => void
  /** The call's result as the span's outputs (the last provider call's, unless set here). */
  readonly setOutputJson: (json: string) => void
  readonly setStatusCode: (status: number) => void
  /** Ends the span (once) with the call's outcome, then replays. Never throws. */
  readonly finish: (exit: Exit.Exit<unknown, unknown>) => void
}

/**
 * The caller of a request: `x-mlflow-gateway-caller`, else the product token of `user-agent` (before the first
 * `/`); trimmed; None when empty.
 *
 * @internal
 */
export const caller = (headers: Headers.HeadersInput): Option.Option<string> => {
  const explicit = Headers.get(headers, "x-mlflow-gateway-caller")?.trim()
  if (explicit !== undefined && explicit !== "") return Option.some(explicit)
  const product = Headers.get(headers, "user-agent")?.split("/")[0]?.trim()
  return product !== undefined && product !== "" ? Option.some(product) : Option.none()
}

/** The attributes the gateway span starts with (inputs excluded: see {@link start}). @internal */
export const startAttributes = (endpoint: Endpoint, request: Request): Record<string, unknown> => {
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
  return attributes
}

/**
 * Records the inputs as JSON within the budget; a value JSON cannot encode is recorded as `null` with a tracing
 * error. Returns the JSON recorded.
 *
 * @internal
 */
export const setInputs = (span: Tracer.Span, payload: unknown, maxBytes: number): string => {
  const json = Payload.encode(payload, maxBytes)
  span.attribute(Attributes.SpanInputs, json ?? "null")
  if (json === undefined) span.attribute(Attributes.TracingError, "inputs are not JSON-serialisable")
  return json ?? "null"
}

/** The outcome an ended span was ended with: its exit, and the `error.type` it recorded. */
const outcomeOfEnded = (span: Tracer.Span, exit: Exit.Exit<unknown, unknown>): Outcome.Outcome => {
  if (Exit.isSuccess(exit)) return Outcome.ok
  const errorType = span.attributes.get(Attributes.ErrorType)
  if (errorType === Attributes.ErrorTypeCancelled) return Outcome.cancelled
  return typeof errorType === "string" ? Outcome.failed(errorType, exit.cause) : Outcome.fromExit(exit)
}

/** @internal */
export const start = (
  span: Tracer.Span,
  tracer: Tracer.Tracer,
  clock: Clock.Clock,
  endpoint: Endpoint,
  request: Request
): GatewayCall => new Call(span, tracer, clock, endpoint, request)

/** A class, not closures: a gateway holds one per open stream. Its methods are called on it (`collect` excepted). */
class Call implements GatewayCall {
  /** The spans kept for the replay, made on the first one (only when there is a caller to replay into). */
  private spans: Map<string, Replay.SpanRecord> | undefined = undefined
  private lastProvider: Outcome.Outcome | undefined = undefined
  private outputJson: string | undefined = undefined
  private finished = false
  private readonly parent: Option.Option<TraceContext.TraceContext>

  constructor(
    readonly span: Tracer.Span,
    private readonly tracer: Tracer.Tracer,
    private readonly clock: Clock.Clock,
    readonly endpoint: Endpoint,
    request: Request
  ) {
    this.parent = request.replay === "never" ? Option.none() : TraceContext.fromHeaders(request.headers ?? {})
  }

  // The last provider call decides when it did not succeed (its error type is the precise one: the request's own
  // exit then only says the response broke off); else the request's own exit.
  private outcomeOf(exit: Exit.Exit<unknown, unknown>): Outcome.Outcome {
    const last = this.lastProvider
    return last !== undefined && (last._tag !== "Ok" || Exit.isSuccess(exit)) ? last : Outcome.fromExit(exit)
  }

  private replay(): void {
    if (Option.isNone(this.parent)) return
    const { span } = this
    const gateway = Replay.record(span)
    if (Option.isNone(gateway)) return
    try {
      Replay.emitWith(this.tracer, {
        caller: TraceContext.toExternalSpan(this.parent.value),
        gateway: gateway.value,
        gatewayTraceId: span.traceId,
        spans: this.spans === undefined ? [] : [...this.spans.values()]
      })
    } catch (cause) {
      // A tracing failure never reaches the request: the replay is lost, the call is not.
      span.attribute(Attributes.TracingError, `replay failed: ${cause instanceof Error ? cause.message : String(cause)}`)
    }
  }

  // A property, not a method: `GatewaySpan`'s public service is this object, and a user may take `collect` off it.
  readonly collect = (child: Tracer.Span, provider?: { readonly outputJson?: string | undefined }): void => {
    if (child.spanId === this.span.spanId || this.spans?.has(child.spanId) === true || child.status._tag !== "Ended") return
    // Kept only when there is a caller to replay into.
    if (Option.isSome(this.parent)) {
      const record = Replay.record(child)
      if (Option.isSome(record)) (this.spans ??= new Map()).set(child.spanId, record.value)
    }
    if (provider === undefined) return
    this.lastProvider = outcomeOfEnded(child, child.status.exit)
    if (provider.outputJson !== undefined) this.outputJson = provider.outputJson
  }

  setOutputJson(json: string): void {
    this.outputJson = json
  }

  setStatusCode(status: number): void {
    this.span.attribute(Attributes.HttpResponseStatusCode, status)
  }

  finish(exit: Exit.Exit<unknown, unknown>): void {
    if (this.finished) return
    this.finished = true
    if (this.outputJson !== undefined) this.span.attribute(Attributes.SpanOutputs, this.outputJson)
    Outcome.endSync(this.span, this.outcomeOf(exit), this.clock)
    this.replay()
  }
}

/** What a gateway span's name starts with: `gateway/<endpoint>` (the in-flight listing recognises it by this). @internal */
export const spanNamePrefix = "gateway/"

/** The gateway span's name for an endpoint (`-` when the request named none). @internal */
export const spanName = (endpoint: string | undefined): string => `${spanNamePrefix}${endpoint ?? "-"}`
