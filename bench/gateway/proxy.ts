/**
 * The benchmark's yardstick: the least a proxy can do, in plain `node:http` with no framework — forward the
 * request to the upstream (argv[2]) and pipe its response back. Prints its port on stdout once listening.
 */
import { Agent, createServer, request } from "node:http"
import type { AddressInfo } from "node:net"
import { serveBenchIpc } from "./ipc.js"

serveBenchIpc()

const upstream = new URL(process.argv[2]!)
const agent = new Agent({ keepAlive: true, maxSockets: Number.POSITIVE_INFINITY })

const server = createServer((req, res) => {
  const out = request(
    { host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: req.headers, agent },
    (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers)
      answer.pipe(res)
    }
  )
  out.on("error", () => res.destroy())
  req.pipe(out)
})
// The gateway's own keep-alive settings, so that both see the same client behaviour.
server.keepAliveTimeout = 65_000
server.headersTimeout = 66_000
server.listen({ host: "127.0.0.1", port: 0, backlog: 4096 }, () => {
  process.stdout.write(`${(server.address() as AddressInfo).port}\n`)
})
