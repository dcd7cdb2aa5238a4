/**
 * A `SpanExporter` wrapper that says when export fails, without flooding: the first failure is logged at once,
 * later ones at most once per `intervalMs` with how many exports and spans failed since the last line, and a
 * recovery is logged once. Results pass through unchanged; nothing here can fail or slow an export.
 *
 * @internal
 */
import { ExportResultCode } from "@opentelemetry/core"
import type { SpanExporter } from "@opentelemetry/sdk-trace-base"

/** @internal */
export interface Options {
  /** How the destination is named in messages (no credentials). */
  readonly target: string
  readonly log: (line: string) => void
  readonly intervalMs: number
  readonly now: () => number
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`

const reason = (error: Error | undefined): string => {
  if (error === undefined) return "unknown error"
  // OTLPExporterError carries the HTTP status as a number; Node's network errors a string such as ECONNREFUSED.
  const code = (error as { readonly code?: unknown }).code
  const message = error.message.trim() === "" ? error.name : error.message.trim()
  if (typeof code === "number") return `HTTP ${code} ${message}`
  return typeof code === "string" && !message.includes(code) ? `${message} (${code})` : message
}

/** @internal */
export const make = (exporter: SpanExporter, options: Options): SpanExporter => {
  let failing = false
  let lastLogAt = 0
  // Since the last line written.
  let failures = 0
  let spans = 0
  // Since the first failure of the current outage.
  let outageFailures = 0
  let outageSpans = 0

  const onFailure = (count: number, error: Error | undefined) => {
    failures++
    spans += count
    outageFailures++
    outageSpans += count
    const now = options.now()
    if (!failing) {
      failing = true
      options.log(
        `OTLP export to ${options.target} failed: ${reason(error)}; ${plural(count, "span")} dropped ` +
          `(further failures are reported at most once a minute)`
      )
    } else if (now - lastLogAt >= options.intervalMs) {
      options.log(
        `OTLP export to ${options.target} still failing: ${plural(failures, "export")} ` +
          `(${plural(spans, "span")}) failed since the last report; last error: ${reason(error)}`
      )
    } else {
      return
    }
    lastLogAt = now
    failures = 0
    spans = 0
  }

  const onSuccess = () => {
    if (!failing) return
    options.log(
      `OTLP export to ${options.target} works again, after ${plural(outageFailures, "failed export")} ` +
        `(${plural(outageSpans, "span")} dropped)`
    )
    failing = false
    failures = spans = outageFailures = outageSpans = 0
  }

  return {
    export: (batch, resultCallback) =>
      exporter.export(batch, (result) => {
        if (result.code === ExportResultCode.SUCCESS) onSuccess()
        else onFailure(batch.length, result.error)
        resultCallback(result)
      }),
    shutdown: () => {
      if (failing && failures > 0) {
        options.log(
          `OTLP export to ${options.target} was still failing at shutdown: ${plural(failures, "export")} ` +
            `(${plural(spans, "span")}) failed since the last report`
        )
      }
      return exporter.shutdown()
    },
    forceFlush: () => exporter.forceFlush?.() ?? Promise.resolve()
  }
}
