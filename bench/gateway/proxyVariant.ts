/**
 * The plain proxy of `./proxy.ts` in two steps towards the gateway, for `./scavenge.ts`: argv[2] `undici` forwards
 * through an undici `Agent` (the gateway's upstream client) instead of `node:http`; `effect` does the same inside
 * one Effect fiber per request (`Effect.promise` for the upstream answer, `Effect.async` until the answer is piped).
 * argv[3] is the upstream. Prints its port on stdout once listening.
 */
import * as Effect from "effect/Effect"
import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import { Agent } from "undici"
import { serveBenchIpc } from "./ipc.js"

serveBenchIpc()

const [mode, upstream] = [process.argv[2], process.argv[3]!]
const agent = new Agent({ keepAliveTimeout: 65_000 })

const forward = (req: IncomingMessage, body: Buffer) =>
  agent.request({ origin: upstream, path: req.url!, method: "POST", headers: { "content-type": "application/json" }, body })

const piped = (answer: Awaited<ReturnType<typeof forward>>, res: ServerResponse) => {
  res.writeHead(answer.statusCode, { "content-type": "text/event-stream" })
  answer.body.pipe(res)
}

const server = createServer((req, res) => {
  const parts: Array<Buffer> = []
  req.on("data", (b: Buffer) => parts.push(b))
  req.on("end", () => {
    const body = Buffer.concat(parts)
    if (mode === "undici") {
      forward(req, body).then((answer) => piped(answer, res), () => res.destroy())
      return
    }
    Effect.runFork(
      Effect.promise(() => forward(req, body)).pipe(
        Effect.flatMap((answer) =>
          Effect.async<void>((resume) => {
            res.once("close", () => resume(Effect.void))
            piped(answer, res)
          })
        )
      )
    )
  })
})
server.keepAliveTimeout = 65_000
server.headersTimeout = 66_000
server.listen({ host: "127.0.0.1", port: 0, backlog: 4096 }, () => {
  process.stdout.write(`${(server.address() as AddressInfo).port}\n`)
})
