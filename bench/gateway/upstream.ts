/**
 * The benchmark's upstream, run as its own process (so it does not share an event loop with the gateway or the
 * client): `POST /v1/chat/completions` answers {@link chatStream} with `max_tokens` content chunks, written in
 * 16 KiB slices with backpressure. Prints its port on stdout once listening.
 *
 * `"bench_hold": true` in the body holds the stream open after its first event until the parent sends
 * `"release"` on the IPC channel (memory per open stream).
 */
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import { chatStream } from "./chatStream.js"
import { serveBenchIpc } from "./ipc.js"

/** Streams held open, each waiting for "release". */
let held: Array<() => void> = []
serveBenchIpc((message) => {
  if (message !== "release") return
  const waiting = held
  held = []
  for (const resume of waiting) resume()
})

const SLICE = 16 * 1024
const cache = new Map<string, Buffer>()

const streamFor = (chunks: number, includeUsage: boolean): Buffer => {
  const key = `${chunks}:${includeUsage}`
  let bytes = cache.get(key)
  if (bytes === undefined) cache.set(key, bytes = chatStream(chunks, includeUsage))
  return bytes
}

const server = createServer((req, res) => {
  const parts: Array<Buffer> = []
  req.on("data", (b: Buffer) => parts.push(b))
  req.on("end", () => {
    const body = JSON.parse(Buffer.concat(parts).toString("utf8")) as {
      readonly max_tokens?: number
      readonly stream_options?: { readonly include_usage?: boolean }
      readonly bench_hold?: boolean
    }
    const bytes = streamFor(body.max_tokens ?? 16, body.stream_options?.include_usage === true)
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" })
    let offset = 0
    const pump = (): void => {
      while (offset < bytes.length) {
        const slice = bytes.subarray(offset, offset + SLICE)
        offset += slice.length
        if (!res.write(slice)) return void res.once("drain", pump)
      }
      res.end()
    }
    if (body.bench_hold === true) {
      const first = bytes.indexOf("\n\n") + 2
      res.write(bytes.subarray(0, first))
      offset = first
      held.push(pump)
      return
    }
    pump()
  })
})
server.keepAliveTimeout = 65_000
server.listen({ host: "127.0.0.1", port: 0, backlog: 4096 }, () => {
  process.stdout.write(`${(server.address() as AddressInfo).port}\n`)
})
