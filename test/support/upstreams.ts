/**
 * Local upstreams for gateway tests, on 127.0.0.1 over real sockets:
 * - `/replay/<name>/…`: a fixed reply (recorded SSE bytes sent in small writes, or a JSON body, any status);
 * - `/faithful/v1/chat/completions`: a deterministic OpenAI chat stream that honours
 *   `stream_options.include_usage` exactly as the API does (`"usage":null` on every chunk, a final usage chunk);
 * - `/slow/…`: an OpenAI chat stream that never ends (a chunk every 5 ms) and records when its client went away.
 */
import { Effect } from "effect"
import { createServer, type IncomingHttpHeaders } from "node:http"
import type { AddressInfo } from "node:net"

export interface Reply {
  readonly status?: number
  readonly contentType?: string
  readonly body: Uint8Array | string
}

export interface Request {
  readonly url: string
  readonly headers: IncomingHttpHeaders
  readonly body: string
}

export interface Upstream {
  readonly url: string
  readonly requests: Array<Request>
  /** URLs whose response was aborted by the client before it ended. */
  readonly aborted: Array<string>
}

const chunk = (fields: Record<string, unknown>, withUsage: boolean): string => {
  const base = { id: "chatcmpl-faithful", object: "chat.completion.chunk", created: 1700000000, model: "gpt-faithful", ...fields }
  return `data: ${JSON.stringify(withUsage && !("usage" in fields) ? { ...base, usage: null } : base)}\n\n`
}

/** The faithful chat stream: the same chunks, plus what include_usage adds. */
export const faithfulChat = (includeUsage: boolean): string =>
  [
    chunk({ choices: [{ index: 0, delta: { role: "assistant", content: "" }, logprobs: null, finish_reason: null }] }, includeUsage),
    ...["Hel", "lo ", "wor", "ld"].map((t) =>
      chunk({ choices: [{ index: 0, delta: { content: t }, logprobs: null, finish_reason: null }] }, includeUsage)
    ),
    chunk({ choices: [{ index: 0, delta: {}, logprobs: null, finish_reason: "stop" }] }, includeUsage),
    ...(includeUsage ? [chunk({ choices: [], usage: { prompt_tokens: 9, completion_tokens: 4, total_tokens: 13 } }, true)] : []),
    "data: [DONE]\n\n"
  ].join("")

const slowChunk = (i: number) => chunk({ choices: [{ index: 0, delta: { content: `w${i} ` }, finish_reason: null }] }, false)

/** Starts the upstream on an ephemeral port, closed with the scope. */
export const start = (replies: Readonly<Record<string, Reply>>) =>
  Effect.acquireRelease(
    Effect.async<{ readonly upstream: Upstream; readonly close: () => void }>((resume) => {
      const requests: Array<Request> = []
      const aborted: Array<string> = []
      const server = createServer((req, res) => {
        const parts: Array<Buffer> = []
        req.on("data", (b: Buffer) => parts.push(b))
        req.on("end", () => {
          const body = Buffer.concat(parts).toString("utf8")
          const url = req.url ?? "/"
          requests.push({ url, headers: req.headers, body })
          res.on("close", () => {
            if (!res.writableEnded) aborted.push(url)
          })
          const [, kind, name] = url.split("/")
          if (kind === "faithful") {
            const includeUsage = JSON.parse(body)?.stream_options?.include_usage === true
            res.writeHead(200, { "content-type": "text/event-stream" })
            res.end(faithfulChat(includeUsage))
          } else if (kind === "slow") {
            res.writeHead(200, { "content-type": "text/event-stream" })
            let i = 0
            const timer = setInterval(() => res.write(slowChunk(i++)), 5)
            res.on("close", () => clearInterval(timer))
            setTimeout(() => res.end(), 10_000)
          } else if (kind === "replay" && name !== undefined && replies[name] !== undefined) {
            const reply = replies[name]!
            const bytes = typeof reply.body === "string" ? Buffer.from(reply.body) : Buffer.from(reply.body)
            res.writeHead(reply.status ?? 200, { "content-type": reply.contentType ?? "text/event-stream" })
            // Small writes, so the gateway really streams across chunk boundaries.
            for (let i = 0; i < bytes.length; i += 97) res.write(bytes.subarray(i, i + 97))
            res.end()
          } else {
            res.writeHead(404, { "content-type": "application/json" })
            res.end(JSON.stringify({ error: { message: `no upstream route ${url}` } }))
          }
        })
      })
      server.listen(0, "127.0.0.1", () => {
        const { port } = server.address() as AddressInfo
        resume(Effect.succeed({
          upstream: { url: `http://127.0.0.1:${port}`, requests, aborted },
          close: () => {
            server.closeAllConnections()
            server.close()
          }
        }))
      })
    }),
    ({ close }) => Effect.sync(close)
  ).pipe(Effect.map(({ upstream }) => upstream))

/** A port that accepts nothing (listened on, then closed). */
export const closedPort = Effect.async<number>((resume) => {
  const server = createServer()
  server.listen(0, "127.0.0.1", () => {
    const { port } = server.address() as AddressInfo
    server.close(() => resume(Effect.succeed(port)))
  })
})
