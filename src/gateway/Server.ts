/**
 * The whole gateway as one Layer: Node HTTP server, routes, providers (undici HTTP client) and telemetry
 * (TraceStore, plus OTLP when the standard `OTEL_EXPORTER_OTLP_*` variables ask for it).
 *
 * @since 0.1.0
 */
import * as HttpMiddleware from "@effect/platform/HttpMiddleware"
import * as HttpServer from "@effect/platform/HttpServer"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as Layer from "effect/Layer"
import { createServer } from "node:http"
import * as Telemetry from "../tracing/Telemetry.js"
import type * as GatewayConfig from "./GatewayConfig.js"
import * as Gateway from "./Gateway.js"
import * as Routes from "./Routes.js"

/**
 * Serves `Routes.router` for `config`. The layer also provides the `HttpServer` (its address) and the
 * `TraceStore`, for an embedding program or a test.
 *
 * The platform's own `http.server` span is disabled: it would record every request header (it redacts only a few
 * names), while the gateway's spans record what the gateway chooses and never a credential.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (config: GatewayConfig.Config) =>
  Routes.router.pipe(
    HttpServer.serve(),
    HttpServer.withLogAddress,
    HttpMiddleware.withTracerDisabledWhen(() => true),
    Layer.provide(Gateway.layer(config)),
    Layer.provide(NodeHttpClient.layerUndici),
    Layer.provideMerge(NodeHttpServer.layer(createServer, { host: config.server.host, port: config.server.port })),
    Layer.provideMerge(Telemetry.layerFromEnv({
      serviceName: "effect-llm-trace-gateway",
      ...(config.tracing?.maxTraces === undefined ? {} : { store: { maxTraces: config.tracing.maxTraces } })
    }))
  )
