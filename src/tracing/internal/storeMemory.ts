/**
 * The in-memory trace store: traces in a Map (least recently written first, so eviction is O(1)), each with its
 * summary computed on demand and cached until the trace's next span arrives. Bounded by trace count and by bytes
 * (`maxBytes`, default 256 MiB, as counted by `StoreSpan.sizeOf`): the least recently written traces go first.
 *
 * @internal
 */
import type { SpanProcessor } from "@opentelemetry/sdk-trace-base"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Attributes from "../Attributes.js"
import type * as TraceStore from "../TraceStore.js"
import * as StoreSpan from "./storeSpan.js"
import * as Summaries from "./summary.js"

interface Entry {
  readonly traceId: string
  readonly metadata: Record<string, string>
  readonly spans: Array<TraceStore.StoredSpan>
  readonly endpoints: Set<string>
  start: bigint
  dropped: number
  bytes: number
  summary: TraceStore.Summary | undefined
}

const bound = (value: number | undefined, fallback: number): number =>
  value === undefined || !Number.isFinite(value) ? fallback : Math.max(1, Math.floor(value))

const compareBigint = (a: bigint, b: bigint): number => a < b ? -1 : a > b ? 1 : 0

const metadataOf = (entry: Entry): Record<string, string> =>
  entry.dropped === 0 ? { ...entry.metadata } : { ...entry.metadata, [StoreSpan.DroppedSpansKey]: String(entry.dropped) }

const summaryOf = (entry: Entry): TraceStore.Summary => {
  entry.summary ??= Summaries.summarize(entry.traceId, metadataOf(entry), entry.spans)
  return entry.summary
}

/** The in-memory store's default byte bound. @internal */
export const defaultMaxBytes = 256 * 1024 * 1024

/** @internal */
export const make = (options?: TraceStore.Options): TraceStore.TraceStore["Type"] => {
  const maxTraces = bound(options?.maxTraces, 1000)
  const maxSpansPerTrace = bound(options?.maxSpansPerTrace, 10_000)
  const maxBytes = bound(options?.maxBytes, defaultMaxBytes)
  let totalBytes = 0
  // Map order = least recently written first: re-inserting a trace on every write makes eviction O(1).
  const traces = new Map<string, Entry>()

  const touch = (traceId: string, start: bigint): Entry => {
    const existing = traces.get(traceId)
    if (existing !== undefined) {
      traces.delete(traceId)
      traces.set(traceId, existing)
      return existing
    }
    const entry: Entry = { traceId, metadata: {}, spans: [], endpoints: new Set(), start, dropped: 0, bytes: 0, summary: undefined }
    traces.set(traceId, entry)
    evictWhile(() => traces.size > maxTraces)
    return entry
  }

  /** Evicts the least recently written traces while `over()` holds, never the most recently written one. */
  const evictWhile = (over: () => boolean): void => {
    for (const [oldest, entry] of traces) {
      if (!over() || traces.size <= 1) break
      traces.delete(oldest)
      totalBytes -= entry.bytes
    }
  }

  const record = ({ metadata, span, start }: StoreSpan.Converted): void => {
    const entry = touch(span.traceId, start)
    Object.assign(entry.metadata, metadata)
    entry.summary = undefined
    if (start < entry.start) entry.start = start
    const endpoint = span.attributes[Attributes.EndpointName]
    if (typeof endpoint === "string") entry.endpoints.add(endpoint)
    const count = entry.spans.length
    const before = entry.bytes
    if (!StoreSpan.addBounded(entry.spans, span, maxSpansPerTrace)) entry.dropped++
    // Added: one more span. Otherwise a full trace's span may have been replaced by its root: count again.
    entry.bytes = entry.spans.length === count + 1
      ? before + StoreSpan.sizeOf(span)
      : entry.spans.reduce((n, s) => n + StoreSpan.sizeOf(s), 0)
    totalBytes += entry.bytes - before
    evictWhile(() => totalBytes > maxBytes)
  }

  const spanProcessor: SpanProcessor = {
    onStart: () => {},
    onEnd: (span) => {
      try {
        record(StoreSpan.convert(span)) // convert throws before any state changes
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
        : Option.some<TraceStore.Trace>({
          traceId,
          summary: summaryOf(entry),
          metadata: metadataOf(entry),
          spans: StoreSpan.sortSpans(entry.spans)
        })
    })

  const searchTraces = (options?: TraceStore.SearchOptions) =>
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
      return hits.slice(0, limit).map((entry): TraceStore.TraceSummary => ({
        traceId: entry.traceId,
        metadata: metadataOf(entry),
        rootSpan: StoreSpan.rootOf(entry.spans)
      }))
    })

  const listTraces = (query: TraceStore.ListQuery) =>
    Effect.sync((): TraceStore.Page => {
      const cursor = query.cursor === undefined ? undefined : Summaries.decodeCursor(query.cursor)
      const hits: Array<{ readonly summary: TraceStore.Summary; readonly key: Summaries.Key }> = []
      for (const entry of traces.values()) {
        const summary = summaryOf(entry)
        const key = Summaries.keyOf(summary)
        if (Summaries.matches(summary, query) && Summaries.after(key, cursor)) hits.push({ summary, key })
      }
      hits.sort((a, b) => Summaries.compareNewestFirst(a.key, b.key))
      const page = hits.slice(0, query.limit)
      const last = page[page.length - 1]
      return {
        traces: page.map((hit) => hit.summary),
        nextCursor: hits.length > query.limit && last !== undefined ? Summaries.encodeCursor(last.key) : null
      }
    })

  const usage = (query: TraceStore.UsageQuery) =>
    Effect.sync(() => Summaries.usage(Array.from(traces.values(), summaryOf), query))

  return {
    getTrace,
    searchTraces,
    listTraces,
    usage,
    stats: Effect.succeed({ backend: "memory", queued: 0, dropped: 0, failed: 0 }),
    flush: Effect.void,
    spanProcessor
  }
}
