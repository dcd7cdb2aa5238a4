/**
 * The span processor behind `Telemetry.layerConsole`: it keeps the finished spans of each trace until the trace's
 * local root ends, then writes the trace as a compact tree, one line per span (name, duration, status, model,
 * tokens in/out, time to first chunk). Spans are read, never changed; memory is bounded by `maxTraces` open
 * traces and `maxSpansPerTrace` spans each (further spans are counted, not kept).
 *
 * @internal
 */
import type { Attributes as OtelAttributes, HrTime } from "@opentelemetry/api"
import type { ReadableSpan, SpanProcessor } from "@opentelemetry/sdk-trace-base"
import * as Attributes from "../Attributes.js"

/** @internal */
export interface Options {
  readonly write: (text: string) => void
  readonly maxTraces: number
  readonly maxSpansPerTrace: number
}

interface Pending {
  readonly spans: Array<ReadableSpan>
  dropped: number
}

const millis = (time: HrTime): number => time[0] * 1e3 + time[1] / 1e6

const numberAttribute = (attributes: OtelAttributes, key: string): number | undefined => {
  const value = attributes[key]
  return typeof value === "number" ? value : undefined
}

const stringAttribute = (attributes: OtelAttributes, key: string): string | undefined => {
  const value = attributes[key]
  return typeof value === "string" && value !== "" ? value : undefined
}

const statusOf = (span: ReadableSpan): string => {
  // SpanStatusCode: 0 unset, 1 ok, 2 error.
  if (span.status.code !== 2) return span.status.code === 1 ? "OK" : "UNSET"
  const type = stringAttribute(span.attributes, Attributes.ErrorType)
  return type === undefined ? "ERROR" : `ERROR ${type}`
}

/**
 * One span's line: `name  12.3 ms  OK  model=…  tokens 12→3  ttft 45 ms`; the GenAI fields only when present.
 *
 * @internal
 */
export const formatSpan = (span: ReadableSpan): string => {
  const a = span.attributes
  const parts = [span.name, `${millis(span.duration).toFixed(1)} ms`, statusOf(span)]
  const model = stringAttribute(a, Attributes.GenAiResponseModel) ?? stringAttribute(a, Attributes.GenAiRequestModel)
  if (model !== undefined) parts.push(`model=${model}`)
  const input = numberAttribute(a, Attributes.GenAiUsageInputTokens)
  const output = numberAttribute(a, Attributes.GenAiUsageOutputTokens)
  if (input !== undefined || output !== undefined) parts.push(`tokens ${input ?? "?"}→${output ?? "?"}`)
  const ttft = numberAttribute(a, Attributes.GenAiResponseTimeToFirstChunk)
  if (ttft !== undefined) parts.push(`ttft ${(ttft * 1e3).toFixed(1)} ms`)
  return parts.join("  ")
}

/**
 * A trace as a tree: `trace <id>` then each span under its parent, siblings by start time. Spans whose parent is
 * not among them (the root, or orphans of a partial trace) start the tree.
 *
 * @internal
 */
export const formatTrace = (traceId: string, spans: ReadonlyArray<ReadableSpan>, dropped = 0): string => {
  const ids = new Set(spans.map((span) => span.spanContext().spanId))
  const children = new Map<string | undefined, Array<ReadableSpan>>()
  for (const span of spans) {
    const parent = span.parentSpanContext?.spanId
    const key = parent !== undefined && ids.has(parent) ? parent : undefined
    const siblings = children.get(key)
    if (siblings === undefined) children.set(key, [span])
    else siblings.push(span)
  }
  const lines = [`trace ${traceId}`]
  const visit = (parent: string | undefined, indent: string): void => {
    const siblings = (children.get(parent) ?? []).sort((x, y) => millis(x.startTime) - millis(y.startTime))
    for (let i = 0; i < siblings.length; i++) {
      const span = siblings[i]!
      const last = i === siblings.length - 1
      lines.push(`${indent}${last ? "└─" : "├─"} ${formatSpan(span)}`)
      visit(span.spanContext().spanId, `${indent}${last ? "   " : "│  "}`)
    }
  }
  visit(undefined, "")
  if (dropped > 0) lines.push(`(${dropped} more spans not shown)`)
  return `${lines.join("\n")}\n`
}

/** A local root: no parent, or a parent in another process (a remote `traceparent`). */
const isLocalRoot = (span: ReadableSpan): boolean =>
  span.parentSpanContext === undefined || span.parentSpanContext.isRemote === true

/** @internal */
export const make = (options: Options): SpanProcessor => {
  // Insertion order is age order: the first key is the oldest open trace.
  const pending = new Map<string, Pending>()

  const flush = (traceId: string): void => {
    const trace = pending.get(traceId)
    if (trace === undefined) return
    pending.delete(traceId)
    options.write(formatTrace(traceId, trace.spans, trace.dropped))
  }

  return {
    onStart: () => {},
    onEnd: (span) => {
      const traceId = span.spanContext().traceId
      let trace = pending.get(traceId)
      if (trace === undefined) {
        if (pending.size >= options.maxTraces) flush(pending.keys().next().value!)
        trace = { spans: [], dropped: 0 }
        pending.set(traceId, trace)
      }
      if (trace.spans.length < options.maxSpansPerTrace || isLocalRoot(span)) trace.spans.push(span)
      else trace.dropped++
      if (isLocalRoot(span)) flush(traceId)
    },
    forceFlush: () => Promise.resolve(),
    // Traces whose root never ended here (still open at shutdown) are written as they are.
    shutdown: () => {
      for (const traceId of [...pending.keys()]) flush(traceId)
      return Promise.resolve()
    }
  }
}
