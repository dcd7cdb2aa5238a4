/**
 * Distributed replay: copies of a gateway call's spans, emitted into the CALLER's trace (the one named by the
 * request's `traceparent`), while the gateway keeps its own separate trace.
 *
 * The copies carry no inputs or outputs, keep each span's name, attributes, status, nesting and EXACT start and
 * end timestamps, and the replayed gateway span links back with `mlflow.gateway.linkedTraceId`. They are made from
 * {@link SpanRecord}s that the gateway call collects while it runs — every span of the request, provider spans and
 * the user's own — never read back from an exporter, and they go through the same tracer (and so the same
 * exporters and TraceStore) as every other span.
 *
 * Risk: a caller controls `traceparent`, so a forged header writes spans into someone else's trace. An embedding
 * server that cannot trust its callers should set the replay policy to `"never"` for unauthenticated requests.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import type * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import type * as Tracer from "effect/Tracer"
import * as Attributes from "./Attributes.js"
import * as Attribute from "./internal/attribute.js"

/**
 * `"always"` (default): replay whenever the request carries a valid `traceparent`. `"never"`: no replay.
 *
 * @since 0.1.0
 * @category models
 */
export type Policy = "always" | "never"

/**
 * A finished span, as much of it as a replay needs.
 *
 * @since 0.1.0
 * @category models
 */
export interface SpanRecord {
  readonly name: string
  readonly spanId: string
  /** The parent's span id when the parent is a span of the same request; a copy is nested the same way. */
  readonly parentSpanId: string | undefined
  readonly kind: Tracer.SpanKind
  readonly attributes: ReadonlyArray<readonly [string, unknown]>
  readonly startTime: bigint
  readonly endTime: bigint
  /** The exit the span was ended with: replaying it reproduces the status. */
  readonly exit: Exit.Exit<unknown, unknown>
}

/** Payloads never leave the gateway's own trace. */
const payloadKeys: ReadonlySet<string> = new Set([Attributes.SpanInputs, Attributes.SpanOutputs])

/** The gateway span's copy keeps its endpoint attributes, type and error type — no payloads, no trace metadata. */
const gatewayKeys: ReadonlySet<string> = new Set([
  Attributes.EndpointId,
  Attributes.EndpointName,
  Attributes.ServerUrl,
  Attributes.SpanType,
  Attributes.ErrorType,
  Attributes.HttpResponseStatusCode
])

/**
 * Records an ended span. None while it is still open.
 *
 * @since 0.1.0
 * @category constructors
 */
export const record = (span: Tracer.Span): Option.Option<SpanRecord> => {
  if (span.status._tag !== "Ended") return Option.none()
  const attributes: Array<readonly [string, unknown]> = []
  for (const entry of span.attributes) {
    if (!payloadKeys.has(entry[0]) && !Attributes.traceMetadataKeys.has(entry[0])) attributes.push(entry)
  }
  return Option.some({
    name: span.name,
    spanId: span.spanId,
    parentSpanId: Option.match(span.parent, { onNone: () => undefined, onSome: (parent) => parent.spanId }),
    kind: span.kind,
    attributes,
    startTime: span.status.startTime,
    endTime: span.status.endTime,
    exit: span.status.exit
  })
}

/**
 * The options of {@link emit}.
 *
 * @since 0.2.0
 * @category models
 */
export interface Replayed {
  readonly caller: Tracer.AnySpan
  readonly gateway: SpanRecord
  readonly gatewayTraceId: string
  /** The other spans of the request (provider spans, user spans), in any order. */
  readonly spans: ReadonlyArray<SpanRecord>
}

/**
 * The replay with a given tracer, synchronously (what {@link emit} runs).
 *
 * @since 0.2.0
 * @category replay
 */
export const emitWith = (tracer: Tracer.Tracer, options: Replayed): void => {
  const { caller, gateway } = options
  const gatewayCopy = tracer.span(gateway.name, Option.some(caller), Context.empty(), [], gateway.startTime, gateway.kind)
  for (const [key, value] of gateway.attributes) if (gatewayKeys.has(key)) Attribute.set(gatewayCopy, key, value)
  Attribute.set(gatewayCopy, Attributes.LinkedGatewayTraceId, options.gatewayTraceId)
  // Parents start before their children: copies made in start order always find their parent's copy.
  const copies = new Map<string, Tracer.Span>([[gateway.spanId, gatewayCopy]])
  const ordered = [...options.spans].sort((a, b) => (a.startTime < b.startTime ? -1 : a.startTime > b.startTime ? 1 : 0))
  for (const span of ordered) {
    const parent = (span.parentSpanId === undefined ? undefined : copies.get(span.parentSpanId)) ?? gatewayCopy
    const copy = tracer.span(span.name, Option.some(parent), Context.empty(), [], span.startTime, span.kind)
    Attribute.setAll(copy, span.attributes)
    copies.set(span.spanId, copy)
  }
  for (const span of ordered) copies.get(span.spanId)!.end(span.endTime, span.exit)
  gatewayCopy.end(gateway.endTime, gateway.exit)
}

/**
 * Emits the replay under `caller`: the gateway span (child of the caller's span, with the endpoint attributes and
 * `mlflow.gateway.linkedTraceId`), and under it a copy of every other span of the request, nested as they were,
 * at their exact times.
 *
 * @since 0.1.0
 * @category replay
 */
export const emit = (options: Replayed): Effect.Effect<void> =>
  Effect.tracerWith((tracer) => Effect.sync(() => emitWith(tracer, options)))
