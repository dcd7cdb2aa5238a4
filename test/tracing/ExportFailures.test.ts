/**
 * OTLP export failures are reported, without flooding: the first at once, then at most one line per interval with
 * counts, and the recovery once. Against a real OTLP/HTTP exporter and a real local receiver.
 */
import { describe, expect, it } from "@effect/vitest"
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http"
import { BasicTracerProvider, type ReadableSpan, type SpanExporter } from "@opentelemetry/sdk-trace-base"
import { Effect, Logger, LogLevel } from "effect"
import * as LoggedExporter from "../../src/tracing/internal/loggedExporter.js"
import * as Telemetry from "../../src/tracing/Telemetry.js"
import * as Receiver from "../support/otlpReceiver.js"

/** Real finished spans, from a real SDK tracer (no processor: only the objects are needed). */
const spans = (n: number): Array<ReadableSpan> => {
  const tracer = new BasicTracerProvider().getTracer("test")
  return Array.from({ length: n }, (_, i) => {
    const span = tracer.startSpan(`span-${i}`)
    span.end()
    return span as unknown as ReadableSpan
  })
}

const exportOnce = (exporter: SpanExporter, n: number) =>
  Effect.async<number>((resume) => exporter.export(spans(n), (result) => resume(Effect.succeed(result.code))))

describe("OTLP export failures are logged", () => {
  it.scopedLive("first failure at once, then one line per interval with counts, then the recovery", () =>
    Effect.gen(function*() {
      const receiver = yield* Receiver.make
      const lines: Array<string> = []
      let now = 0
      const exporter = LoggedExporter.make(new OTLPTraceExporter({ url: receiver.url }), {
        target: "http://127.0.0.1/v1/traces",
        log: (line) => void lines.push(line),
        intervalMs: 60_000,
        now: () => now
      })
      receiver.setStatus(400)
      expect(yield* exportOnce(exporter, 2)).toBe(1)
      expect(lines.length).toBe(1)
      expect(lines[0]).toBe(
        "OTLP export to http://127.0.0.1/v1/traces failed: HTTP 400 Bad Request; 2 spans dropped (further failures are reported at most once a minute)"
      )

      now = 59_999
      yield* exportOnce(exporter, 3)
      yield* exportOnce(exporter, 4)
      expect(lines.length).toBe(1)

      now = 60_000
      yield* exportOnce(exporter, 5)
      expect(lines.length).toBe(2)
      expect(lines[1]).toMatch(/still failing: 3 exports \(12 spans\) failed since the last report; last error: /)

      receiver.setStatus(200)
      expect(yield* exportOnce(exporter, 1)).toBe(0)
      expect(lines[2]).toBe(
        "OTLP export to http://127.0.0.1/v1/traces works again, after 4 failed exports (14 spans dropped)"
      )
      // Healthy again: silence, and the next failure is reported at once.
      yield* exportOnce(exporter, 1)
      expect(lines.length).toBe(3)
      receiver.setStatus(400)
      yield* exportOnce(exporter, 1)
      expect(lines[3]).toMatch(/failed: .+; 1 span dropped/)
      // Failures not yet reported are summed up at shutdown.
      yield* exportOnce(exporter, 6)
      yield* Effect.promise(() => exporter.shutdown())
      expect(lines[4]).toMatch(/still failing at shutdown: 1 export \(6 spans\) failed since the last report$/)
    }))

  // A closed port is retried by the exporter for up to 10 s before it reports; a 400 is reported at once.
  it.scopedLive("through Telemetry.layer: a refused export is a warning naming the backend, never the call's failure", () =>
    Effect.gen(function*() {
      const receiver = yield* Receiver.make
      receiver.setStatus(400)
      const url = receiver.url
      const logs: Array<{ level: string; message: string }> = []
      const logger = Logger.replace(
        Logger.defaultLogger,
        Logger.make(({ logLevel, message }) => {
          logs.push({ level: logLevel.label, message: String(message) })
        })
      )
      const result = yield* Effect.succeed("ok").pipe(
        Effect.withSpan("call"),
        // Releasing the layer flushes: the export is attempted (and fails) then.
        Effect.provide(Telemetry.layer({ otlp: { url: `${url}?token=secret`, protocol: "http/json" } })),
        Effect.provide(logger),
        Logger.withMinimumLogLevel(LogLevel.All)
      )
      expect(result).toBe("ok")
      const warnings = logs.filter((l) => l.level === "WARN")
      expect(warnings.length).toBe(1)
      expect(warnings[0]!.message).toMatch(/^OTLP export to http:\/\/127\.0\.0\.1:\d+\/v1\/traces failed: HTTP 400 Bad Request; 1 span dropped/)
      expect(warnings[0]!.message).not.toContain("secret")
    }))
})
