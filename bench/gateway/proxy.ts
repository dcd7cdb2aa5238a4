/**
 * The benchmark's yardstick: the least a proxy can do, in plain `node:http` with no framework — forward the
 * request to the upstream (argv[2]) and pipe its response back. Prints its port on stdout once listening.
 *
 * argv[3] takes it two steps towards the gateway, for `./scavenge.ts`: `undici` forwards through an undici `Agent`
 * (the gateway's upstream client); `effect` does that inside one Effect fiber per request (`Effect.promise` for the
 * upstream answer, `Effect.async` until it is piped).
 */
import { Agent, createServer, type IncomingMessage, request, type RequestListener, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import type * as Undici from "undici"
import { serveBenchIpc } from "./ipc.js"

serveBenchIpc()

const upstream = new URL(process.argv[2]!)

const viaNodeHttp = (): RequestListener => {
  const agent = new Agent({ keepAlive: true, maxSockets: Number.POSITIVE_INFINITY })
  return (req, res) => {
    const out = request(
      { host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: req.headers, agent },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers)
        answer.pipe(res)
      }
    )
    out.on("error", () => res.destroy())
    req.pipe(out)
  }
}

// Loaded only in these modes: the yardstick itself loads neither Effect nor undici.
const viaUndici = async (inFiber: boolean): Promise<RequestListener> => {
  const [Effect, { Agent: UndiciAgent }] = await Promise.all([import("effect/Effect"), import("undici")])
  const agent = new UndiciAgent({ keepAliveTimeout: 65_000 })
  const forward = (req: IncomingMessage, body: Buffer) =>
    agent.request({
      origin: upstream.origin,
      path: req.url!,
      method: "POST",
      headers: { "content-type": "application/json" },
      body
    })
  const pipe = (answer: Undici.Dispatcher.ResponseData, res: ServerResponse) => {
    res.writeHead(answer.statusCode, { "content-type": "text/event-stream" })
    answer.body.pipe(res)
  }
  const inEffect = (req: IncomingMessage, res: ServerResponse, body: Buffer) =>
    Effect.runFork(
      Effect.promise(() => forward(req, body)).pipe(
        Effect.flatMap((answer) =>
          Effect.async<void>((resume) => {
            res.once("close", () => resume(Effect.void))
            pipe(answer, res)
          })
        )
      )
    )
  return (req, res) => {
    const parts: Array<Buffer> = []
    req.on("data", (b: Buffer) => parts.push(b))
    req.on("end", () => {
      const body = Buffer.concat(parts)
      if (inFiber) inEffect(req, res, body)
      else forward(req, body).then((answer) => pipe(answer, res), () => res.destroy())
    })
  }
}

const mode = process.argv[3]
const server = createServer(mode === undefined ? viaNodeHttp() : await viaUndici(mode === "effect"))
// The gateway's own keep-alive settings, so that both see the same client behaviour.
server.keepAliveTimeout = 65_000
server.headersTimeout = 66_000
server.listen({ host: "127.0.0.1", port: 0, backlog: 4096 }, () => {
  process.stdout.write(`${(server.address() as AddressInfo).port}\n`)
})
