/**
 * The whole gateway as one Layer: Node HTTP server, routes, providers (undici HTTP client) and telemetry
 * (TraceStore — a SQLite file by default, see `tracing.store` — plus OTLP when the standard
 * `OTEL_EXPORTER_OTLP_*` variables ask for it).
 *
 * @since 0.1.0
 */
import * as HttpMiddleware from "@effect/platform/HttpMiddleware"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as Layer from "effect/Layer"
import type * as Http from "node:http"
import { createServer } from "node:http"
import type { Duplex } from "node:stream"
import * as Metrics from "../tracing/Metrics.js"
import * as Telemetry from "../tracing/Telemetry.js"
import type * as TraceStore from "../tracing/TraceStore.js"
import * as GatewayConfig from "./GatewayConfig.js"
import * as Gateway from "./Gateway.js"
import * as Drain from "./internal/drain.js"
import * as RequestLog from "./RequestLog.js"
import * as Routes from "./Routes.js"

/**
 * A Node HTTP server for the gateway. Keep-alive outlives the usual client pools (60 s) so that a client never
 * reuses a socket the server is closing; headers may take a little longer still (Node's rule). A request the HTTP
 * parser rejects (oversized header set, malformed request line) still gets a JSON body.
 *
 * @since 0.2.0
 * @category constructors
 */
export const makeServer = (): Http.Server => {
  const server = createServer({ keepAliveTimeout: 65_000, headersTimeout: 66_000 })
  server.on("clientError", (error: NodeJS.ErrnoException, socket: Duplex) => {
    if (!socket.writable) return socket.destroy()
    const tooLarge = error.code === "HPE_HEADER_OVERFLOW"
    const status = tooLarge ? "431 Request Header Fields Too Large" : "400 Bad Request"
    const body = JSON.stringify({
      error: { message: tooLarge ? "the request headers are too large" : "malformed HTTP request", type: "invalid_request_error", param: null, code: null }
    })
    socket.end(`HTTP/1.1 ${status}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`)
  })
  return server
}

/**
 * Serves `Routes.httpApp` (the router, with JSON 404s) for `config`. The layer also provides the `HttpServer`
 * (its address) and the `TraceStore`, for an embedding program or a test.
 *
 * The platform's own `http.server` span is disabled: it would record every request header (it redacts only a few
 * names), while the gateway's spans record what the gateway chooses and never a credential.
 *
 * Releasing the layer drains first: the server stops accepting, requests in flight may finish for up to
 * `server.shutdownGraceMs` (default 10 s) and are then interrupted; then pending spans are flushed. Nothing is
 * logged at startup: `Startup.report` describes a running gateway.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (config: GatewayConfig.Config) =>
  // A fresh drain (its Node server and its requests in flight) for each build of the layer.
  Layer.suspend(() => serve(config, Drain.make(config.server.shutdownGraceMs, makeServer)))

/**
 * The trace store a config asks for: `tracing.store` (the default file when no path is given), with
 * `tracing.maxTraces` bounding the in-memory store.
 *
 * @since 0.2.0
 * @category constructors
 */
export const storeOptions = (config: GatewayConfig.Config): TraceStore.Options => ({
  ...config.tracing?.store,
  path: config.tracing?.store?.path ?? GatewayConfig.defaultStorePath,
  maxTraces: config.tracing?.maxTraces
})

const serve = (config: GatewayConfig.Config, drain: Drain.Drain) =>
  Routes.httpApp.pipe(
    drain.serve,
    HttpMiddleware.withTracerDisabledWhen(() => true),
    Layer.provide(Gateway.layer(config)),
    Layer.provide(RequestLog.layer),
    Layer.provideMerge(Metrics.layerFromEnv({
      enabled: config.metrics?.enabled ?? true,
      serviceName: "effect-llm-trace-gateway",
      maxAttributeValues: config.metrics?.maxAttributeValues,
      // Configured names are never folded into `_OTHER`.
      knownValues: config.endpoints.flatMap((e) => [e.name, e.provider.model ?? e.name])
    })),
    Layer.provideMerge(NodeHttpServer.layer(drain.createServer, { host: config.server.host, port: config.server.port })),
    Layer.provideMerge(Telemetry.layerFromEnv({
      serviceName: "effect-llm-trace-gateway",
      store: storeOptions(config)
    }))
  )
