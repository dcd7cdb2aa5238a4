/**
 * A tiny `node:http` server on 127.0.0.1 hosting Echo, so tests can point official SDKs (or the gateway) at it:
 * OpenAI `POST /v1/chat/completions` and `/v1/responses`, Anthropic `POST /v1/messages`, Gemini
 * `POST /v1beta/models/{model}:generateContent` and `:streamGenerateContent?alt=sse`.
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Stream from "effect/Stream"
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import type * as Dialect from "../../src/gateway/Dialect.js"
import * as Echo from "../../src/gateway/Echo.js"

/** One request the server received. */
export interface Received {
  readonly method: string
  readonly url: string
  readonly headers: IncomingHttpHeaders
  readonly body: string
}

export interface EchoServer {
  readonly port: number
  /** `http://127.0.0.1:<port>` */
  readonly url: string
  /** Every request received so far, oldest first. */
  readonly received: ReadonlyArray<Received>
  readonly close: () => Promise<void>
}

export interface EchoServerOptions extends Echo.Options {
  readonly port?: number
}

interface Route {
  readonly dialect: Dialect.Id
  /** From the URL (Gemini); otherwise the body's `model`. */
  readonly model?: string
  /** From the URL (Gemini); otherwise the body's `stream`. */
  readonly stream?: boolean
}

const routeOf = (method: string, url: URL): Route | undefined => {
  if (method !== "POST") return undefined
  switch (url.pathname) {
    case "/v1/chat/completions":
      return { dialect: "openai.chat" }
    case "/v1/responses":
      return { dialect: "openai.responses" }
    case "/v1/messages":
      return { dialect: "anthropic.messages" }
  }
  const gemini = /^\/v1beta\/models\/([^/:]+):(generateContent|streamGenerateContent)$/.exec(url.pathname)
  if (gemini === null) return undefined
  return {
    dialect: "gemini.generateContent",
    model: decodeURIComponent(gemini[1]!),
    stream: gemini[2] === "streamGenerateContent"
  }
}

const readBody = (req: IncomingMessage): Promise<string> =>
  new Promise((resolve, reject) => {
    const chunks: Array<Buffer> = []
    req.on("data", (chunk: Buffer) => chunks.push(chunk))
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")))
    req.on("error", reject)
  })

const parseJson = (text: string): { readonly ok: true; readonly value: unknown } | { readonly ok: false } => {
  try {
    return { ok: true, value: JSON.parse(text) }
  } catch {
    return { ok: false }
  }
}

/** Writes the reply; a client that goes away interrupts the body stream. */
const send = (res: ServerResponse, reply: Echo.Reply, options: EchoServerOptions = {}): Promise<void> => {
  res.writeHead(reply.status, reply.headers)
  const fiber = Effect.runFork(Stream.runForEach(Echo.body(reply, options), (chunk) =>
    Effect.async<void>((resume) => {
      if (res.write(chunk)) resume(Effect.void)
      else res.once("drain", () => resume(Effect.void))
    })))
  res.on("close", () => {
    if (!res.writableEnded) Effect.runFork(Fiber.interrupt(fiber))
  })
  return Effect.runPromise(Fiber.await(fiber)).then((exit) => {
    if (Exit.isSuccess(exit)) res.end()
    else res.destroy()
  })
}

const handle = async (req: IncomingMessage, res: ServerResponse, options: EchoServerOptions, received: Array<Received>) => {
  const url = new URL(req.url ?? "/", "http://127.0.0.1")
  const body = await readBody(req)
  received.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, body })
  const route = routeOf(req.method ?? "", url)
  if (route === undefined) {
    res.writeHead(404, { "content-type": "application/json" })
    res.end(JSON.stringify({ error: { message: `no route for ${req.method} ${url.pathname}` } }))
    return
  }
  const json = parseJson(body)
  if (!json.ok) return send(res, Echo.errorReply(route.dialect, 400, "the request body is not valid JSON"))
  const bodyModel = (json.value as { readonly model?: unknown } | null)?.model
  const bodyStream = (json.value as { readonly stream?: unknown } | null)?.stream
  const reply = await Effect.runPromise(Echo.respond(route.dialect, {
    body: json.value,
    stream: route.stream ?? bodyStream === true,
    model: route.model ?? (typeof bodyModel === "string" ? bodyModel : "echo")
  }))
  return send(res, reply, options)
}

/** Starts the server on 127.0.0.1 (an ephemeral port unless `port` is given). */
export const start = (options: EchoServerOptions = {}): Promise<EchoServer> =>
  new Promise((resolve, reject) => {
    const received: Array<Received> = []
    const server = createServer((req, res) => {
      handle(req, res, options, received).catch(() => res.destroy())
    })
    server.once("error", reject)
    server.listen(options.port ?? 0, "127.0.0.1", () => {
      const port = (server.address() as AddressInfo).port
      resolve({
        port,
        url: `http://127.0.0.1:${port}`,
        received,
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections()
            server.close(() => done())
          })
      })
    })
  })

/** The server as a scoped resource: closed when the scope closes. */
export const scoped = (options: EchoServerOptions = {}) =>
  Effect.acquireRelease(Effect.promise(() => start(options)), (server) => Effect.promise(() => server.close()))

/** The server as a service, for `layer(echoServerLayer())` suites. */
export class EchoServerTag extends Context.Tag("test/EchoServer")<EchoServerTag, EchoServer>() {}

/** Provides {@link EchoServerTag}: one server for the suite, closed at its end. */
export const echoServerLayer = (options: EchoServerOptions = {}): Layer.Layer<EchoServerTag> =>
  Layer.scoped(EchoServerTag, scoped(options))
