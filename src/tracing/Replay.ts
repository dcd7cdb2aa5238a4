/**
 * Distributed replay: copies of a gateway call's spans, emitted into the CALLER's trace (the one named by the
 * request's `traceparent`), while the gateway keeps its own separate trace.
 *
 * The copies carry no inputs or outputs, keep each span's name, attributes, status and EXACT start and end
 * timestamps, and the replayed gateway span links back with `mlflow.gateway.linkedTraceId`. They are made from
 * {@link SpanRecord}s that the gateway call collects while it runs — never read back from an exporter — and they
 * go through the same tracer (and so the same exporters and TraceStore) as every other span.
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
  Attributes.ErrorType
])

/**
 * Records an ended span. None while it is still open.
 *
 * @since 0.1.0
 * @category constructors
 */
export const record = (span: Tracer.Span): Option.Option<SpanRecord> =>
  span.status._tag === "Ended"
    ? Option.some({
      name: span.name,
      kind: span.kind,
      attributes: [...span.attributes].filter(([key]) => !payloadKeys.has(key) && !Attributes.traceMetadataKeys.has(key)),
      startTime: span.status.startTime,
      endTime: span.status.endTime,
      exit: span.status.exit
    })
    : Option.none()

/**
 * Emits the replay under `caller`: the gateway span (child of the caller's span, with the endpoint attributes and
 * `mlflow.gateway.linkedTraceId`), and under it one copy of every provider span, at their exact times.
 *
 * @since 0.1.0
 * @category replay
 */
export const emit = (options: {
  readonly caller: Tracer.AnySpan
  readonly gateway: SpanRecord
  readonly gatewayTraceId: string
  readonly providers: ReadonlyArray<SpanRecord>
}): Effect.Effect<void> =>
  Effect.tracerWith((tracer) =>
    Effect.gen(function*() {
      const { caller, gateway, providers } = options
      const gatewayCopy = tracer.span(gateway.name, Option.some(caller), Context.empty(), [], gateway.startTime, gateway.kind)
      yield* Attribute.setAll(gatewayCopy, gateway.attributes.filter(([key]) => gatewayKeys.has(key)))
      yield* Attribute.set(gatewayCopy, Attributes.LinkedGatewayTraceId, options.gatewayTraceId)
      for (const provider of providers) {
        const copy = tracer.span(provider.name, Option.some(gatewayCopy), Context.empty(), [], provider.startTime, provider.kind)
        yield* Attribute.setAll(copy, provider.attributes)
        copy.end(provider.endTime, provider.exit)
      }
      gatewayCopy.end(gateway.endTime, gateway.exit)
    })
  )
