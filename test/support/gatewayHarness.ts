/**
 * The whole gateway (`Server.layer`) on an ephemeral port in front of local upstreams, for one test: its URL and
 * a `get` for JSON/text endpoints. The request log is silenced (warning level).
 */
import * as HttpServer from "@effect/platform/HttpServer"
import { assert } from "@effect/vitest"
import { Context, Effect, Layer, Logger, LogLevel, Schema } from "effect"
import * as GatewayConfig from "../../src/gateway/GatewayConfig.js"
import * as Server from "../../src/gateway/Server.js"

export interface Gateway {
  readonly url: string
  readonly getText: (path: string, headers?: Record<string, string>) => Effect.Effect<{ readonly status: number; readonly body: string }>
}

export const withGateway = <A, E>(config: Record<string, unknown>, test: (gateway: Gateway) => Effect.Effect<A, E>) =>
  Effect.scoped(Effect.gen(function*() {
    const decoded = Schema.decodeUnknownSync(GatewayConfig.Config)({ server: { port: 0 }, ...config })
    const context = yield* Layer.build(Server.layer(decoded))
    const address = Context.get(context, HttpServer.HttpServer).address
    assert(address._tag === "TcpAddress")
    const url = `http://127.0.0.1:${address.port}`
    const getText = (path: string, headers: Record<string, string> = {}) =>
      Effect.promise(async () => {
        const response = await fetch(url + path, { headers })
        return { status: response.status, body: await response.text() }
      })
    return yield* test({ url, getText })
  })).pipe(Logger.withMinimumLogLevel(LogLevel.Warning))
