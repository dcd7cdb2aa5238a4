/**
 * The gateway's request log: one line per request (method, path without the query — a query may carry a
 * credential —, endpoint, status or `aborted`, milliseconds), written off the request path. A request only
 * appends a string to a buffer; a background fiber writes the buffer to stdout in one write every 200 ms (and
 * drops lines beyond 10 000 pending, counting them, rather than grow without bound).
 *
 * @since 0.2.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as FiberRef from "effect/FiberRef"
import * as HashSet from "effect/HashSet"
import * as Layer from "effect/Layer"
import * as LogLevel from "effect/LogLevel"
import * as Schedule from "effect/Schedule"

/**
 * One finished request.
 *
 * @since 0.2.0
 * @category models
 */
export interface Entry {
  readonly method: string
  /** The request URL; only its path is logged. */
  readonly url: string
  readonly endpoint: string
  readonly status: number | "aborted"
  readonly millis: number
}

/**
 * @since 0.2.0
 * @category tags
 */
export class RequestLog extends Context.Tag("effect-llm-trace/RequestLog")<RequestLog, {
  readonly record: (entry: Entry) => void
}>() {}

/**
 * The line of an entry (logfmt, like Effect's default logger).
 *
 * @since 0.2.0
 * @category formatting
 */
export const format = (entry: Entry, now: Date): string =>
  line(`${entry.method} ${entry.url.split("?", 1)[0]} endpoint=${entry.endpoint} status=${entry.status} ${entry.millis}ms`, now)

const line = (message: string, now: Date): string =>
  `timestamp=${now.toISOString()} level=INFO fiber=#gateway message=${JSON.stringify(message)}\n`

const maxPending = 10_000

/**
 * Writes to stdout when the minimum log level admits `Info` (a `--log-level warning` run logs no requests).
 *
 * @since 0.2.0
 * @category layers
 */
export const layer: Layer.Layer<RequestLog> = Layer.scoped(
  RequestLog,
  Effect.gen(function*() {
    const level = yield* FiberRef.get(FiberRef.currentMinimumLogLevel)
    const loggers = yield* FiberRef.get(FiberRef.currentLoggers)
    const enabled = LogLevel.lessThanEqual(level, LogLevel.Info) && HashSet.size(loggers) > 0
    let pending: Array<string> = []
    let dropped = 0
    // A stdout that went away (a closed pipe: EPIPE) ends the log; unhandled, its error event would end the process.
    let closed = false
    const onError = () => {
      closed = true
      pending = []
    }
    const flush = Effect.sync(() => {
      if (closed) return
      if (dropped > 0) pending.push(line(`${dropped} request log lines dropped`, new Date()))
      dropped = 0
      if (pending.length === 0) return
      const text = pending.join("")
      pending = []
      process.stdout.write(text)
    })
    if (enabled) {
      process.stdout.on("error", onError)
      yield* Effect.forkScoped(Effect.repeat(flush, Schedule.spaced("200 millis")))
      yield* Effect.addFinalizer(() => Effect.zipRight(flush, Effect.sync(() => process.stdout.off("error", onError))))
    }
    return RequestLog.of({
      record: enabled
        ? (entry) => {
          if (closed) return
          if (pending.length < maxPending) pending.push(format(entry, new Date()))
          else dropped++
        }
        : () => {}
    })
  })
)

/**
 * A log that keeps its lines in memory (for tests).
 *
 * @since 0.2.0
 * @category layers
 */
export const layerMemory = (lines: Array<Entry>): Layer.Layer<RequestLog> =>
  Layer.succeed(RequestLog, RequestLog.of({ record: (entry) => void lines.push(entry) }))
