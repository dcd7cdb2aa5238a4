/**
 * The whole gateway (`Server.layer`) on an ephemeral port of 127.0.0.1 in front of a local upstream, for one test,
 * and the ways tests read it: its trace API, raw sockets, and a waiting loop for what happens after the response.
 */
import * as HttpMiddleware from "@effect/platform/HttpMiddleware"
import * as HttpServer from "@effect/platform/HttpServer"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import { assert, expect } from "@effect/vitest"
import { Context, Effect, Layer, Logger, LogLevel, Schema } from "effect"
import { connect } from "node:net"
import * as Gateway from "../../src/gateway/Gateway.js"
import * as GatewayConfig from "../../src/gateway/GatewayConfig.js"
import * as Routes from "../../src/gateway/Routes.js"
import * as Server from "../../src/gateway/Server.js"
import * as Telemetry from "../../src/tracing/Telemetry.js"
import type { StoredSpan, Summary, Trace } from "../../src/tracing/TraceStore.js"
import * as Upstreams from "./upstreams.js"

export interface Harness {
  readonly url: string
  /** The address the gateway listens on (`server.host`, 127.0.0.1 by default). */
  readonly host: string
  readonly port: number
  readonly upstream: Upstreams.Upstream
  readonly get: <A>(path: string) => Effect.Effect<{ readonly status: number; readonly body: A }>
}

/**
 * How the gateway is served: `"server"` is `Server.layer` (the command's assembly); `"router"` is `Routes.httpApp`
 * mounted in a plain `@effect/platform` server, as README's "Mount the gateway in your own server" does (on
 * `Server.makeServer`'s Node server, whose JSON answers to malformed requests some suites check).
 */
export type Mount = "server" | "router"

/** Both mounts, for suites that must hold for each. */
export const mounts: ReadonlyArray<Mount> = ["server", "router"]

const mounted = (config: GatewayConfig.Config, mount: Mount) =>
  mount === "server" ? Server.layer(config) : Routes.httpApp.pipe(
    HttpServer.serve(),
    HttpMiddleware.withTracerDisabledWhen(() => true),
    Layer.provide(Gateway.layer(config)),
    Layer.provideMerge(NodeHttpServer.layer(Server.makeServer, { host: config.server.host, port: config.server.port })),
    Layer.provideMerge(Telemetry.layer({ store: Server.storeOptions(config) }))
  )

/**
 * Runs `test` against a gateway configured by `configure` (`server.port` 0 and `tracing.store.path` `":memory:"`
 * unless given), torn down after.
 */
export const withGateway = <A, E>(
  configure: (up: Upstreams.Upstream) => Record<string, unknown>,
  test: (harness: Harness) => Effect.Effect<A, E>,
  replies: Readonly<Record<string, Upstreams.Reply>> = {},
  mount: Mount = "server"
) =>
  Effect.scoped(Effect.gen(function*() {
    const upstream = yield* Upstreams.start(replies)
    const { server, tracing, ...rest } = configure(upstream) as {
      readonly server?: object
      readonly tracing?: { readonly store?: object }
    }
    // In memory unless the test names a store file.
    const config = Schema.decodeUnknownSync(GatewayConfig.Config)({
      ...rest,
      server: { port: 0, ...server },
      tracing: { ...tracing, store: { path: ":memory:", ...tracing?.store } }
    })
    const context = yield* Layer.build(mounted(config, mount))
    const address = Context.get(context, HttpServer.HttpServer).address
    assert(address._tag === "TcpAddress")
    const url = `http://${address.hostname}:${address.port}`
    const get = <B>(path: string) =>
      Effect.promise(async () => {
        const response = await fetch(url + path)
        return { status: response.status, body: (await response.json()) as B }
      })
    return yield* test({ url, host: address.hostname, port: address.port, upstream, get })
  })).pipe(Logger.withMinimumLogLevel(LogLevel.Error))

/** An OpenAI endpoint whose provider is the local upstream's route `path` (e.g. `/stall/3`). */
export const openaiEndpoint = (up: Upstreams.Upstream, name: string, path: string, extra: object = {}) => ({
  name,
  provider: { kind: "openai", model: "gpt-up", baseUrl: `${up.url}${path}/v1`, apiKeyEnv: "TEST_UPSTREAM_KEY" },
  ...extra
})

/** Polls `check` every 10 ms until it holds (5 s at most). */
export const eventually = (check: Effect.Effect<boolean>) =>
  Effect.gen(function*() {
    for (let i = 0; i < 500; i++) {
      if (yield* check) return
      yield* Effect.sleep("10 millis")
    }
    assert.fail("condition not reached within 5 s")
  })

/** The newest of the gateway's own traces of an endpoint (not a replayed copy), once it is stored. */
export const traceOf = (h: Harness, endpoint: string) =>
  Effect.gen(function*() {
    let summary: Summary | undefined
    yield* eventually(Effect.map(h.get<{ readonly traces: ReadonlyArray<Summary> }>(`/api/traces?endpoint=${endpoint}`), (list) => {
      summary = list.body.traces.find((t) => t.kind === "gateway" && t.endpoint === endpoint)
      return summary !== undefined
    }))
    const full = yield* h.get<Trace>(`/api/traces/${summary!.traceId}`)
    expect(full.status).toBe(200)
    return full.body
  })

/** The one span of `trace` whose name starts with `prefix`. */
export const span = (trace: Trace, prefix: string): StoredSpan => {
  const found = trace.spans.filter((s) => s.name.startsWith(prefix))
  expect(found.length, prefix).toBe(1)
  return found[0]!
}

/** What a raw socket received for one request: every byte until the connection closed, and how it closed. */
export interface RawExchange {
  readonly text: string
  /** The socket's error (e.g. `ECONNRESET`), when it did not close cleanly. */
  readonly error: string | undefined
}

/** Writes `request` (a whole HTTP/1.1 request, `connection: close`) to the gateway and reads until the socket closes. */
export const rawExchange = (port: number, request: string, host = "127.0.0.1") =>
  Effect.async<RawExchange>((resume) => {
    const parts: Array<Buffer> = []
    let error: string | undefined
    const socket = connect({ host, port }, () => socket.write(request))
    socket.on("data", (bytes: Buffer) => parts.push(bytes))
    socket.on("error", (e: NodeJS.ErrnoException) => {
      error = e.code ?? e.message
    })
    socket.on("close", () => resume(Effect.succeed({ text: Buffer.concat(parts).toString("latin1"), error })))
    return Effect.sync(() => socket.destroy())
  })

/** A raw JSON POST (chunked or not, as the caller writes it), `connection: close`. */
export const rawPost = (path: string, body: string, headers: Record<string, string> = {}) =>
  [
    `POST ${path} HTTP/1.1`,
    "host: 127.0.0.1",
    "content-type: application/json",
    `content-length: ${Buffer.byteLength(body)}`,
    "connection: close",
    ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
    "",
    body
  ].join("\r\n")
