/**
 * The whole gateway as one Layer: Node HTTP server, routes, providers (undici HTTP client) and telemetry
 * (TraceStore, plus OTLP when the standard `OTEL_EXPORTER_OTLP_*` variables ask for it).
 *
 * @since 0.1.0
 */
import * as HttpMiddleware from "@effect/platform/HttpMiddleware"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as Layer from "effect/Layer"
import * as Telemetry from "../tracing/Telemetry.js"
import type * as GatewayConfig from "./GatewayConfig.js"
import * as Gateway from "./Gateway.js"
import * as Drain from "./internal/drain.js"
import * as Routes from "./Routes.js"

/**
 * Serves `Routes.router` for `config`. The layer also provides the `HttpServer` (its address) and the
 * `TraceStore`, for an embedding program or a test.
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
  Layer.suspend(() => serve(config, Drain.make(config.server.shutdownGraceMs)))

const serve = (config: GatewayConfig.Config, drain: Drain.Drain) =>
  Routes.router.pipe(
    drain.serve,
    HttpMiddleware.withTracerDisabledWhen(() => true),
    Layer.provide(Gateway.layer(config)),
    Layer.provide(NodeHttpClient.layerUndici),
    Layer.provideMerge(NodeHttpServer.layer(drain.createServer, { host: config.server.host, port: config.server.port })),
    Layer.provideMerge(Telemetry.layerFromEnv({
      serviceName: "effect-llm-trace-gateway",
      ...(config.tracing?.maxTraces === undefined ? {} : { store: { maxTraces: config.tracing.maxTraces } })
    }))
  )
