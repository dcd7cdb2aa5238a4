/**
 * The embedded default trace backend: an in-process store of finished spans, grouped by trace, with trace-level
 * metadata, fed by the OpenTelemetry SDK pipeline through a `SpanProcessor` (the same spans an OTLP exporter
 * sees). Bounded, so a long-running server does not grow without limit:
 *
 * - at most `maxTraces` traces (default 1000): when a new trace would exceed it, the least recently written trace
 *   (the one whose latest span arrived longest ago) is evicted;
 * - at most `maxSpansPerTrace` spans per trace (default 10 000): further spans of a full trace are dropped and
 *   counted in the trace's metadata under {@link DroppedSpansKey}, except a span without a parent (the trace's
 *   root, which ends last), which takes the place of the most recently stored span so a full trace keeps its
 *   root. Trace metadata carried by a dropped span is still recorded.
 *
 * Span attributes whose key is in `Attributes.traceMetadataKeys` (caller, auth, session, ...) are moved into the
 * trace's metadata (later spans overwrite earlier ones; the root ends last, so its values win) and removed from the
 * stored span: they are trace-level in this view, while an OTLP exporter still sees them as root span attributes.
 *
 * @since 0.1.0
 */
import type { Attributes as OtelAttributes, HrTime } from "@opentelemetry/api"
import type { ReadableSpan, SpanProcessor } from "@opentelemetry/sdk-trace-base"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Attributes from "./Attributes.js"

// Models ----------------------------------------------------------------------------------------------------------

/**
 * @since 0.1.0
 * @category models
 */
export type AttributeValue = string | number | boolean | ReadonlyArray<string | number | boolean | null>

/**
 * A finished span, as stored and as served (JSON) by the gateway's trace API.
 *
 * @since 0.1.0
 * @category models
 */
export interface StoredSpan {
  readonly traceId: string
  readonly spanId: string
  readonly parentSpanId: string | null
  readonly name: string
  readonly kind: "INTERNAL" | "SERVER" | "CLIENT" | "PRODUCER" | "CONSUMER"
  /** Exact nanoseconds since the epoch, as a decimal string (no float rounding). */
  readonly startTimeUnixNano: string
  readonly endTimeUnixNano: string
  readonly status: { readonly code: "OK" | "ERROR" | "UNSET"; readonly message?: string }
  readonly attributes: Readonly<Record<string, AttributeValue>>
  readonly events: ReadonlyArray<{
    readonly name: string
    readonly timeUnixNano: string
    readonly attributes: Readonly<Record<string, AttributeValue>>
  }>
}

/**
 * One trace: its metadata and its stored spans, sorted by start time.
 *
 * @since 0.1.0
 * @category models
 */
export interface Trace {
  readonly traceId: string
  readonly metadata: Readonly<Record<string, string>>
  readonly spans: ReadonlyArray<StoredSpan>
}

/**
 * A search hit: the trace's metadata and its root span (the earliest span whose parent is not in the trace).
 *
 * @since 0.1.0
 * @category models
 */
export interface TraceSummary {
  readonly traceId: string
  readonly metadata: Readonly<Record<string, string>>
  readonly rootSpan: StoredSpan | null
}

/**
 * `endpoint`: only traces with a span whose `endpoint_name` attribute equals it. `limit`: at most this many
 * (default 100).
 *
 * @since 0.1.0
 * @category models
 */
export interface SearchOptions {
  readonly endpoint?: string | undefined
  readonly limit?: number | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  readonly maxTraces?: number
  readonly maxSpansPerTrace?: number
}

/**
 * Metadata key holding how many spans of a full trace were dropped (present only when some were).
 *
 * @since 0.1.0
 * @category metadata
 */
export const DroppedSpansKey = "llm_trace.dropped_spans"

/**
 * @since 0.1.0
 * @category tags
 */
export class TraceStore extends Context.Tag("effect-llm-trace/TraceStore")<TraceStore, {
  readonly getTrace: (traceId: string) => Effect.Effect<Option.Option<Trace>>
  /** Newest first, by each trace's earliest span start time. */
  readonly searchTraces: (options?: SearchOptions) => Effect.Effect<ReadonlyArray<TraceSummary>>
  /** The OTel SpanProcessor that feeds this store (registered by the Telemetry layers). */
  readonly spanProcessor: SpanProcessor
}>() {}

// Conversion from the OTel SDK's ReadableSpan ------------------------------------------------------------------

const kinds: ReadonlyArray<StoredSpan["kind"]> = ["INTERNAL", "SERVER", "CLIENT", "PRODUCER", "CONSUMER"]
const statusCodes: ReadonlyArray<StoredSpan["status"]["code"]> = ["UNSET", "OK", "ERROR"]
const nanosPerSecond = BigInt(1_000_000_000)

// BigInt throws on a non-integer part: such a span is malformed and skipped by the processor.
const toNanos = (time: HrTime): bigint => BigInt(time[0]) * nanosPerSecond + BigInt(time[1])

const toAttributes = (attributes: OtelAttributes | undefined): Record<string, AttributeValue> => {
  const out: Record<string, AttributeValue> = {}
  if (attributes === undefined) return out
  for (const key of Object.keys(attributes)) {
    const value = attributes[key]
    if (value === undefined) continue
    out[key] = Array.isArray(value) ? value.map((item) => item ?? null) : value
  }
  return out
}

const metadataString = (value: AttributeValue): string => typeof value === "string" ? value : JSON.stringify(value)

interface Converted {
  readonly span: StoredSpan
  readonly start: bigint
  readonly metadata: Record<string, string>
}

const convert = (span: ReadableSpan): Converted => {
  const context = span.spanContext()
  if (typeof context.traceId !== "string" || context.traceId === "" || typeof context.spanId !== "string") {
    throw new Error("span without a trace id")
  }
  const start = toNanos(span.startTime)
  const attributes = toAttributes(span.attributes)
  const metadata: Record<string, string> = {}
  for (const key of Object.keys(attributes)) {
    if (!Attributes.traceMetadataKeys.has(key)) continue
    metadata[key] = metadataString(attributes[key]!)
    delete attributes[key]
  }
  const message = span.status.message
  return {
    start,
    metadata,
    span: {
      traceId: context.traceId,
      spanId: context.spanId,
      parentSpanId: span.parentSpanContext?.spanId ?? null,
      name: span.name,
      kind: kinds[span.kind] ?? "INTERNAL",
      startTimeUnixNano: start.toString(),
      endTimeUnixNano: toNanos(span.endTime).toString(),
      status: typeof message === "string" && message !== ""
        ? { code: statusCodes[span.status.code] ?? "UNSET", message }
        : { code: statusCodes[span.status.code] ?? "UNSET" },
      attributes,
      events: span.events.map((event) => ({
        name: event.name,
        timeUnixNano: toNanos(event.time).toString(),
        attributes: toAttributes(event.attributes)
      }))
    }
  }
}

// The store -------------------------------------------------------------------------------------------------------

interface Held {
  readonly span: StoredSpan
  readonly start: bigint
}

interface Entry {
  readonly traceId: string
  readonly metadata: Record<string, string>
  readonly spans: Array<Held>
  readonly endpoints: Set<string>
  start: bigint
  dropped: number
}

const bound = (value: number | undefined, fallback: number): number =>
  value === undefined || !Number.isFinite(value) ? fallback : Math.max(1, Math.floor(value))

const compareBigint = (a: bigint, b: bigint): number => a < b ? -1 : a > b ? 1 : 0

/** Spans by start time; on a tie, ancestors before descendants (then arrival order: the sort is stable). */
const sortedSpans = (held: ReadonlyArray<Held>): Array<StoredSpan> => {
  const parents = new Map(held.map((h) => [h.span.spanId, h.span.parentSpanId]))
  const depth = (span: StoredSpan): number => {
    let n = 0
    for (let p = span.parentSpanId; p !== null && n < parents.size; p = parents.get(p) ?? null) n++
    return n
  }
  return held
    .map((h) => ({ h, depth: depth(h.span) }))
    .sort((a, b) => compareBigint(a.h.start, b.h.start) || a.depth - b.depth)
    .map(({ h }) => h.span)
}

const metadataOf = (entry: Entry): Record<string, string> =>
  entry.dropped === 0 ? { ...entry.metadata } : { ...entry.metadata, [DroppedSpansKey]: String(entry.dropped) }

const rootOf = (entry: Entry): StoredSpan | null => {
  const ids = new Set(entry.spans.map((held) => held.span.spanId))
  let root: Held | undefined
  for (const held of entry.spans) {
    const parent = held.span.parentSpanId
    if (parent !== null && ids.has(parent)) continue
    if (root === undefined || held.start < root.start) root = held
  }
  return root?.span ?? null
}

/**
 * A new, empty store. Synchronous: all state is plain JS owned by the returned service.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options?: Options): TraceStore["Type"] => {
  const maxTraces = bound(options?.maxTraces, 1000)
  const maxSpansPerTrace = bound(options?.maxSpansPerTrace, 10_000)
  // Map order = least recently written first: re-inserting a trace on every write makes eviction O(1).
  const traces = new Map<string, Entry>()

  const touch = (traceId: string, start: bigint): Entry => {
    const existing = traces.get(traceId)
    if (existing !== undefined) {
      traces.delete(traceId)
      traces.set(traceId, existing)
      return existing
    }
    const entry: Entry = { traceId, metadata: {}, spans: [], endpoints: new Set(), start, dropped: 0 }
    traces.set(traceId, entry)
    for (const oldest of traces.keys()) {
      if (traces.size <= maxTraces) break
      traces.delete(oldest)
    }
    return entry
  }

  const record = ({ metadata, span, start }: Converted): void => {
    const entry = touch(span.traceId, start)
    Object.assign(entry.metadata, metadata)
    if (start < entry.start) entry.start = start
    const endpoint = span.attributes[Attributes.EndpointName]
    if (typeof endpoint === "string") entry.endpoints.add(endpoint)
    if (entry.spans.length < maxSpansPerTrace) {
      entry.spans.push({ span, start })
    } else {
      entry.dropped++
      if (span.parentSpanId === null) entry.spans[entry.spans.length - 1] = { span, start }
    }
  }

  const spanProcessor: SpanProcessor = {
    onStart: () => {},
    onEnd: (span) => {
      try {
        record(convert(span)) // convert throws before any state changes
      } catch {
        // a malformed span is skipped: never throw into the SDK
      }
    },
    forceFlush: () => Promise.resolve(),
    // Shutdown keeps the data: the store stays readable after the provider is gone.
    shutdown: () => Promise.resolve()
  }

  const getTrace = (traceId: string) =>
    Effect.sync(() => {
      const entry = traces.get(traceId)
      return entry === undefined
        ? Option.none()
        : Option.some<Trace>({
          traceId,
          metadata: metadataOf(entry),
          spans: sortedSpans(entry.spans)
        })
    })

  const searchTraces = (options?: SearchOptions) =>
    Effect.sync(() => {
      const limit = options?.limit === undefined || Number.isNaN(options.limit)
        ? 100
        : Math.max(0, Math.floor(options.limit))
      const endpoint = options?.endpoint
      const hits: Array<Entry> = []
      for (const entry of traces.values()) {
        if (endpoint === undefined || entry.endpoints.has(endpoint)) hits.push(entry)
      }
      // Reverse first so that, among equal start times, the most recently written trace comes first.
      hits.reverse().sort((a, b) => compareBigint(b.start, a.start))
      return hits.slice(0, limit).map((entry): TraceSummary => ({
        traceId: entry.traceId,
        metadata: metadataOf(entry),
        rootSpan: rootOf(entry)
      }))
    })

  return { getTrace, searchTraces, spanProcessor }
}

/**
 * A fresh store per layer build. Feed it by registering `spanProcessor` with a tracer provider (the
 * `Telemetry` layers do), or use `Telemetry.layer`, which builds its own.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options?: Options): Layer.Layer<TraceStore> => Layer.sync(TraceStore, () => make(options))
