/**
 * Local upstreams for gateway tests, on 127.0.0.1 over real sockets:
 * - `/replay/<name>/…`: a fixed reply (recorded SSE bytes sent in small writes, or a JSON body, any status);
 * - `/faithful/v1/chat/completions`: a deterministic OpenAI chat stream that honours
 *   `stream_options.include_usage` exactly as the API does (`"usage":null` on every chunk, a final usage chunk);
 * - `/slow/…`: an OpenAI chat stream that never ends (a chunk every 5 ms) and records when its client went away.
 *
 * Misbehaving on purpose (for the hardening tests), each an OpenAI chat route under `…/v1`:
 * - `/hang/…`: reads the request and never answers (no status line, no headers);
 * - `/stall/<n>/…`: the first `n` events of the faithful stream, then silence with the connection open;
 * - `/reset/<n>/…`: the first `n` events, then a TCP reset (RST) instead of an end;
 * - `/encoded/<gzip|deflate|br>/…`: the faithful stream compressed with that coding, whatever the request accepted;
 * - `/garbled/<gzip|deflate|br>/…`: the faithful stream NOT compressed, though its `content-encoding` says so;
 * - `/encoded-reset/<gzip|deflate|br>/…`: the first half of the compressed faithful stream, then a TCP reset;
 * - `/echo-key/…`: 401 with an error body that quotes the credential headers it received;
 * - `/long-line/<bytes>/…`: one SSE `data:` line of that many bytes (written in 64 KiB pieces, never held whole),
 *   then the normal end of the stream.
 */
import { Effect } from "effect"
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from "node:http"
import { type AddressInfo, createConnection, type Socket } from "node:net"
import { Worker } from "node:worker_threads"
import * as Zlib from "node:zlib"

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

/** The faithful stream's events, each with its blank line. */
export const faithfulEvents = (includeUsage: boolean): Array<string> => faithfulChat(includeUsage).split(/(?<=\n\n)/)

const compress: Record<string, (bytes: Buffer) => Buffer> = {
  gzip: (bytes) => Zlib.gzipSync(bytes),
  deflate: (bytes) => Zlib.deflateSync(bytes),
  br: (bytes) => Zlib.brotliCompressSync(bytes)
}

/** Writes one `data:` line of `size` bytes in pieces, respecting backpressure, then ends the stream. */
const longLine = (res: ServerResponse, size: number): void => {
  const piece = Buffer.alloc(64 * 1024, "x")
  let left = size
  const pump = (): void => {
    while (left > 0) {
      const part = piece.subarray(0, Math.min(piece.length, left))
      left -= part.length
      if (!res.write(part)) return void res.once("drain", pump)
    }
    res.end("\n\n" + faithfulChat(false))
  }
  res.write("data: ")
  pump()
}

/** The misbehaving routes (see the module comment); true when `kind` named one. */
const misbehave = (
  kind: string | undefined,
  arg: string | undefined,
  body: string,
  req: IncomingMessage,
  res: ServerResponse
): boolean => {
  const includeUsage = () => JSON.parse(body)?.stream_options?.include_usage === true
  switch (kind) {
    case "hang":
      return true
    case "stall":
    case "reset": {
      res.writeHead(200, { "content-type": "text/event-stream" })
      res.write(faithfulEvents(includeUsage()).slice(0, Number(arg)).join(""))
      // Let the events reach the wire before the reset (an RST discards what the peer has not read yet).
      if (kind === "reset") setTimeout(() => req.socket.resetAndDestroy(), 50)
      return true
    }
    case "encoded":
    case "garbled": {
      const encode = compress[arg ?? ""]
      if (encode === undefined) return false
      res.writeHead(200, { "content-type": "text/event-stream", "content-encoding": arg! })
      const plain = Buffer.from(faithfulChat(includeUsage()))
      const bytes = kind === "encoded" ? encode(plain) : plain
      // Two writes: the gateway's decoder sees an encoded body in more than one piece.
      const half = bytes.length >> 1
      res.write(bytes.subarray(0, half))
      res.end(bytes.subarray(half))
      return true
    }
    case "encoded-reset": {
      const encode = compress[arg ?? ""]
      if (encode === undefined) return false
      res.writeHead(200, { "content-type": "text/event-stream", "content-encoding": arg! })
      const bytes = encode(Buffer.from(faithfulChat(includeUsage())))
      res.write(bytes.subarray(0, bytes.length >> 1))
      setTimeout(() => req.socket.resetAndDestroy(), 50)
      return true
    }
    case "echo-key": {
      const presented = [req.headers["authorization"], req.headers["x-api-key"]].filter((v) => v !== undefined).join(" ")
      res.writeHead(401, { "content-type": "application/json" })
      res.end(JSON.stringify({ error: { message: `Incorrect API key provided: ${presented}`, type: "invalid_request_error", code: "invalid_api_key" } }))
      return true
    }
    case "long-line":
      res.writeHead(200, { "content-type": "text/event-stream" })
      longLine(res, Number(arg))
      return true
    default:
      return false
  }
}

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
          if (misbehave(kind, name, body, req, res)) return
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

/** The listener of {@link blackhole}: it reports its port, then blocks its thread so that it never accepts. */
const blackholeWorker = `
const { createServer } = require("node:net")
const { parentPort } = require("node:worker_threads")
const server = createServer()
server.listen({ port: 0, host: "127.0.0.1", backlog: 1 }, () => {
  parentPort.postMessage(server.address().port)
  setImmediate(() => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0))
})`

/** Connects to `port`: true when the handshake completed within 200 ms. */
const connects = (port: number, sockets: Array<Socket>) =>
  Effect.async<boolean>((resume) => {
    const socket = createConnection({ host: "127.0.0.1", port })
    sockets.push(socket)
    socket.on("error", () => {})
    const timer = setTimeout(() => resume(Effect.succeed(false)), 200)
    socket.once("connect", () => {
      clearTimeout(timer)
      resume(Effect.succeed(true))
    })
  })

/**
 * A port on 127.0.0.1 where a TCP connect hangs, offline: a listener (backlog 1) in a worker thread blocked for
 * good, so that nothing is ever accepted, with its accept queue filled by connections of our own; the kernel then
 * drops every further SYN and the connecting side waits for its own timeout. Released with the scope.
 */
export const blackhole = Effect.acquireRelease(
  Effect.gen(function*() {
    const worker = new Worker(blackholeWorker, { eval: true })
    const port = yield* Effect.async<number>((resume) => {
      worker.once("message", (port: number) => resume(Effect.succeed(port)))
    })
    const sockets: Array<Socket> = []
    // Fill the accept queue: connect until a handshake no longer completes.
    for (let i = 0; i < 16 && (yield* connects(port, sockets)); i++);
    return { port, worker, sockets }
  }),
  ({ sockets, worker }) =>
    Effect.promise(async () => {
      for (const socket of sockets) socket.destroy()
      await worker.terminate()
    })
).pipe(Effect.map(({ port }) => port))
