/**
 * Gateway calls in flight, for either store backend: a span that has not ended is in no store (they keep finished
 * spans), so the span processor also remembers each open gateway span (kind SERVER, named `gateway/<endpoint>`) from
 * its start to its end, and the first page of a trace list shows those calls as `in_progress` (newest first,
 * filtered like the rest). Bounded: past `maxLive` open calls, later ones are not shown until they end.
 *
 * @internal
 */
import { SpanKind } from "@opentelemetry/api"
import type { ReadableSpan, SpanProcessor } from "@opentelemetry/sdk-trace-base"
import * as Effect from "effect/Effect"
import * as Attributes from "../Attributes.js"
import type * as TraceStore from "../TraceStore.js"
import * as GatewayCall from "./gatewayCall.js"
import * as StoreSpan from "./storeSpan.js"
import * as Summaries from "./summary.js"

/** Open gateway calls remembered at most (a gateway serves far fewer at once). @internal */
export const maxLive = 10_000

// Recognised by name (`GatewayCall.spanName`): the Effect bridge sets attributes on the OTel span only at its end.
const gatewayPrefix = GatewayCall.spanNamePrefix

const isGatewaySpan = (span: ReadableSpan): boolean => span.kind === SpanKind.SERVER && span.name.startsWith(gatewayPrefix)

/** The summary of a call still running: its gateway span as started, status `in_progress`, duration so far. */
const summaryOf = (span: ReadableSpan, nowMs: number): TraceStore.Summary => {
  const { metadata, span: stored } = StoreSpan.convert(span)
  const endpoint = stored.attributes[Attributes.EndpointName] ?? span.name.slice(gatewayPrefix.length)
  const summary = Summaries.summarize(stored.traceId, metadata, [{ ...stored, attributes: { ...stored.attributes, [Attributes.EndpointName]: endpoint } }])
  const startMs = Summaries.toMicros(summary.startTimeUnixNano) / 1000
  return { ...summary, status: "in_progress", durationMs: Math.max(0, nowMs - startMs) }
}

/**
 * The store, with the gateway calls in flight on the first page of `listTraces`.
 *
 * @internal
 */
export const withLive = (store: TraceStore.TraceStore["Type"]): TraceStore.TraceStore["Type"] => {
  const live = new Map<string, ReadableSpan>()
  const inner = store.spanProcessor
  const spanProcessor: SpanProcessor = {
    onStart: (span, context) => {
      // Never throw into the SDK (a malformed span is the stores' to skip).
      try {
        if (live.size < maxLive && isGatewaySpan(span)) live.set(span.spanContext().spanId, span)
      } catch {}
      inner.onStart(span, context)
    },
    onEnd: (span) => {
      try {
        if (live.size > 0) live.delete(span.spanContext().spanId)
      } catch {}
      inner.onEnd(span)
    },
    forceFlush: () => inner.forceFlush(),
    shutdown: () => inner.shutdown()
  }
  const running = (query: TraceStore.ListQuery, nowMs: number): Array<TraceStore.Summary> => {
    const summaries: Array<TraceStore.Summary> = []
    for (const span of live.values()) {
      try {
        const summary = summaryOf(span, nowMs)
        if (Summaries.matches(summary, query)) summaries.push(summary)
      } catch {
        // a malformed span is skipped here as the stores skip it
      }
    }
    return summaries.sort((a, b) => Summaries.compareNewestFirst(Summaries.keyOf(a), Summaries.keyOf(b)))
  }
  return {
    ...store,
    spanProcessor,
    listTraces: (query) =>
      query.cursor !== undefined || live.size === 0
        ? store.listTraces(query)
        : Effect.flatMap(store.listTraces(query), (page) =>
          Effect.clockWith((clock) =>
            Effect.sync(() => {
              // A call that just ended may already be stored: the stored summary wins.
              const stored = new Set(page.traces.map((t) => t.traceId))
              const extra = running(query, clock.unsafeCurrentTimeMillis()).filter((t) => !stored.has(t.traceId))
              return extra.length === 0 ? page : { ...page, traces: [...extra, ...page.traces] }
            })
          ))
  }
}
