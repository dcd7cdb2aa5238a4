/**
 * The runnable gateway: `npm start [-- --config gateway.json]`.
 *
 * Without a config it serves the embedded `echo` endpoint on 127.0.0.1:8080, so it works on a fresh machine with
 * no API key. Spans go to the embedded TraceStore (`GET /api/traces`) and, when `OTEL_EXPORTER_OTLP_ENDPOINT` is
 * set, to any OpenTelemetry backend. On SIGINT/SIGTERM the server stops, in-flight requests are interrupted (their
 * spans end `cancelled`) and pending spans are flushed. A bad config prints one message naming the field.
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as GatewayConfig from "./GatewayConfig.js"
import * as Server from "./Server.js"

const program = GatewayConfig.load({ argv: process.argv.slice(2), env: process.env }).pipe(
  Effect.flatMap((config) => Layer.launch(Server.layer(config))),
  Effect.catchTag("ConfigError", (error) =>
    Console.error(`effect-llm-trace gateway: ${error.message}`).pipe(
      Effect.zipRight(Effect.sync(() => {
        process.exitCode = 1
      }))
    ))
)

NodeRuntime.runMain(program)
