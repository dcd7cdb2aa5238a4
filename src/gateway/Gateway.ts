/**
 * The gateway as a service: the configured endpoints with their providers, who may call them, and the tracing
 * policy. `Routes` serves it; `layer(config)` builds it (HTTP providers need an `HttpClient`).
 *
 * @since 0.1.0
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Headers from "../internal/headers.js"
import * as Upstream from "./Upstream.js"
import type * as GatewaySpan from "../tracing/GatewaySpan.js"
import type * as Replay from "../tracing/Replay.js"
import type * as GatewayConfig from "./GatewayConfig.js"

/**
 * An endpoint ready to serve.
 *
 * @since 0.1.0
 * @category models
 */
export interface Endpoint {
  readonly endpoint: GatewaySpan.Endpoint
  readonly provider: Upstream.Provider
  /** The model sent upstream (the provider's `model`, else the endpoint's name). */
  readonly model: string
}

/**
 * Who called, when the gateway requires keys.
 *
 * @since 0.1.0
 * @category models
 */
export interface Identity {
  readonly username: string
  readonly userId?: string | undefined
}

/**
 * @since 0.1.0
 * @category tags
 */
export class Gateway extends Context.Tag("effect-llm-trace/Gateway")<Gateway, {
  readonly endpoints: ReadonlyMap<string, Endpoint>
  /**
   * None when the caller is not allowed; Some(None) when no keys are configured; Some(Some(identity)) for a
   * known key (`authorization: Bearer <key>`, `x-api-key` or `x-goog-api-key`).
   */
  readonly authenticate: (headers: Headers.HeadersInput) => Option.Option<Option.Option<Identity>>
  readonly replay: Replay.Policy
  /** `mlflow.chunk.item.{i}` span events per provider call (0: off). */
  readonly maxChunkEvents: number
}>() {}

const presentedKeys = (headers: Headers.HeadersInput): Array<string> => {
  const bearer = Headers.get(headers, "authorization")?.match(/^\s*Bearer\s+(.+?)\s*$/i)?.[1]
  return [bearer, Headers.get(headers, "x-api-key"), Headers.get(headers, "x-goog-api-key")]
    .filter((key): key is string => key !== undefined && key !== "")
}

/**
 * Builds the gateway from its config.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (config: GatewayConfig.Config): Effect.Effect<Gateway["Type"], never, HttpClient.HttpClient> =>
  Effect.gen(function*() {
    const endpoints = new Map<string, Endpoint>()
    for (const e of config.endpoints) {
      endpoints.set(e.name, {
        endpoint: { name: e.name, id: e.id, usageTracking: e.usageTracking },
        provider: yield* Upstream.make(e.provider),
        model: e.provider.model ?? e.name
      })
    }
    const keys = new Map((config.auth?.keys ?? []).map((k) => [k.key, { username: k.username, userId: k.userId }] as const))
    return Gateway.of({
      endpoints,
      authenticate: (headers) => {
        if (keys.size === 0) return Option.some(Option.none())
        for (const key of presentedKeys(headers)) {
          const identity = keys.get(key)
          if (identity !== undefined) return Option.some(Option.some(identity))
        }
        return Option.none()
      },
      replay: config.replay,
      maxChunkEvents: config.tracing?.maxChunkEvents ?? 0
    })
  })

/**
 * @since 0.1.0
 * @category layers
 */
export const layer = (config: GatewayConfig.Config): Layer.Layer<Gateway, never, HttpClient.HttpClient> =>
  Layer.effect(Gateway, make(config))
