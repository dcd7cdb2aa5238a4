/**
 * An SSE upstream on 127.0.0.1 (ephemeral port) that writes its events with known pauses: `delaysMs[i]` before
 * event `i`, so that time to first chunk and time per output chunk have known lower bounds. A pause can only be
 * stretched on the way (scheduling, a loaded machine), never shortened: tests assert lower bounds, or totals.
 */
import { Effect } from "effect"
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"

export interface PacedUpstream {
  /** Any path answers with the paced stream. */
  readonly url: string
}

/** Starts the upstream for the scope; every request gets `events` (SSE data lines) paced by `delaysMs`. */
export const start = (events: ReadonlyArray<string>, delaysMs: ReadonlyArray<number>) =>
  Effect.acquireRelease(
    Effect.async<{ readonly upstream: PacedUpstream; readonly close: () => void }>((resume) => {
      const server = createServer((req, res) => {
        req.resume()
        req.on("end", () => {
          res.writeHead(200, { "content-type": "text/event-stream" })
          res.flushHeaders()
          const timers: Array<NodeJS.Timeout> = []
          res.on("close", () => timers.forEach(clearTimeout))
          let at = 0
          events.forEach((data, i) => {
            at += delaysMs[i] ?? 0
            timers.push(setTimeout(() => {
              res.write(`data: ${data}\n\n`)
              if (i === events.length - 1) res.end()
            }, at))
          })
        })
      })
      server.listen(0, "127.0.0.1", () => {
        const port = (server.address() as AddressInfo).port
        resume(Effect.succeed({
          upstream: { url: `http://127.0.0.1:${port}` },
          close: () => {
            server.closeAllConnections()
            server.close()
          }
        }))
      })
    }),
    ({ close }) => Effect.sync(close)
  ).pipe(Effect.map(({ upstream }) => upstream))
