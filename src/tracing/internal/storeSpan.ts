/**
 * Conversion of the OTel SDK's finished spans into {@link StoredSpan}s, shared by both store backends.
 *
 * @internal
 */
import type { Attributes as OtelAttributes, HrTime } from "@opentelemetry/api"
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base"
import * as Attributes from "../Attributes.js"
import type * as TraceStore from "../TraceStore.js"
import type { AttributeValue, StoredSpan } from "../TraceStore.js"

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

/** @internal */
export interface Converted {
  readonly span: StoredSpan
  readonly start: bigint
  readonly metadata: Record<string, string>
}

/** A finished OTel span as stored, and the trace metadata it carries; throws on a malformed span. @internal */
export const convert = (span: ReadableSpan): Converted => {
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


// Order and root ----------------------------------------------------------------------------------------------

const compareBigint = (a: bigint, b: bigint): number => a < b ? -1 : a > b ? 1 : 0

/** Spans by start time; on a tie, ancestors before descendants (then the given order: the sort is stable). @internal */
export const sortSpans = (spans: ReadonlyArray<StoredSpan>): Array<StoredSpan> => {
  const parents = new Map(spans.map((span) => [span.spanId, span.parentSpanId]))
  const depth = (span: StoredSpan): number => {
    let n = 0
    for (let p = span.parentSpanId; p !== null && n < parents.size; p = parents.get(p) ?? null) n++
    return n
  }
  return spans
    .map((span) => ({ span, start: BigInt(span.startTimeUnixNano), depth: depth(span) }))
    .sort((a, b) => compareBigint(a.start, b.start) || a.depth - b.depth)
    .map(({ span }) => span)
}

/** The trace's root: the earliest span whose parent is not in the trace. @internal */
export const rootOf = (spans: ReadonlyArray<StoredSpan>): StoredSpan | null => {
  const ids = new Set(spans.map((span) => span.spanId))
  let root: StoredSpan | undefined
  for (const span of spans) {
    if (span.parentSpanId !== null && ids.has(span.parentSpanId)) continue
    if (root === undefined || BigInt(span.startTimeUnixNano) < BigInt(root.startTimeUnixNano)) root = span
  }
  return root ?? null
}

/** Metadata key holding how many spans of a full trace were dropped (present only when some were). @internal */
export const DroppedSpansKey = "llm_trace.dropped_spans"

/**
 * The spans of one trace, at most `maxSpansPerTrace`: a span over the bound is counted as dropped, except a
 * root (no parent), which takes the place of the most recently stored span so that a full trace keeps its root.
 *
 * @internal
 */
export const addBounded = (spans: Array<TraceStore.StoredSpan>, span: TraceStore.StoredSpan, max: number): boolean => {
  if (spans.length < max) {
    spans.push(span)
    return true
  }
  if (span.parentSpanId === null) spans[spans.length - 1] = span
  return false
}


const valueBytes = (value: TraceStore.AttributeValue): number => {
  if (typeof value === "string") return value.length
  if (!Array.isArray(value)) return 8
  let n = 16
  for (const item of value) n += typeof item === "string" ? item.length : 8
  return n
}

/**
 * About what a stored span holds, in bytes (string lengths plus a fixed overhead): what the in-memory store's byte
 * bound counts. Cheaper than serialising the span, and within a small factor of it.
 *
 * @internal
 */
export const sizeOf = (span: TraceStore.StoredSpan): number => {
  let n = 256 + span.name.length
  for (const key in span.attributes) n += key.length + valueBytes(span.attributes[key]!)
  for (const event of span.events) {
    n += 64 + event.name.length
    for (const key in event.attributes) n += key.length + valueBytes(event.attributes[key]!)
  }
  return n
}
