/**
 * An OpenTelemetry SpanProcessor that counts starts and ends per span: after a traced call, every started span
 * must have ended exactly once.
 */
import type { Context } from "@opentelemetry/api"
import type { ReadableSpan, Span, SpanProcessor } from "@opentelemetry/sdk-trace-base"

export interface SpanLedger extends SpanProcessor {
  readonly open: () => Array<string>
  readonly endedMoreThanOnce: () => Array<string>
  readonly started: () => number
  readonly reset: () => void
}

export const makeSpanLedger = (): SpanLedger => {
  const starts = new Map<string, string>()
  const ends = new Map<string, number>()
  return {
    onStart: (span: Span, _parent: Context) => {
      starts.set(span.spanContext().spanId, span.name)
    },
    onEnd: (span: ReadableSpan) => {
      const id = span.spanContext().spanId
      ends.set(id, (ends.get(id) ?? 0) + 1)
    },
    forceFlush: () => Promise.resolve(),
    shutdown: () => Promise.resolve(),
    open: () => [...starts].filter(([id]) => !ends.has(id)).map(([, name]) => name),
    endedMoreThanOnce: () => [...ends].filter(([, n]) => n > 1).map(([id]) => starts.get(id) ?? id),
    started: () => starts.size,
    reset: () => {
      starts.clear()
      ends.clear()
    }
  }
}
