/**
 * The gateway as a service: the configured endpoints with their providers, who may call them (keys, hosts,
 * origins), what a request may weigh, and the tracing policy. `Routes` serves it; `layer(config)` builds it.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Headers from "../internal/headers.js"
import type * as GatewaySpan from "../tracing/GatewaySpan.js"
import * as Payload from "../tracing/internal/payload.js"
import type * as Replay from "../tracing/Replay.js"
import type * as GatewayConfig from "./GatewayConfig.js"
import * as Upstream from "./Upstream.js"

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
 * What is recorded of each call.
 *
 * @since 0.2.0
 * @category models
 */
export interface Capture {
  /** `"none"`: no inputs, outputs or chunk events. */
  readonly content: "full" | "none"
  readonly maxPayloadBytes: number
  /** `mlflow.chunk.item.{i}` span events per provider call (0: off). */
  readonly maxChunkEvents: number
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
  /** Whether a request's `Host` header names this gateway (DNS rebinding protection). */
  readonly allowsHost: (host: string | undefined) => boolean
  /** Whether a request's `Origin` header (when present) is a page allowed to call (CSRF protection). */
  readonly allowsOrigin: (origin: string) => boolean
  readonly maxBodyBytes: number
  readonly replay: Replay.Policy
  readonly capture: Capture
}>() {}

/**
 * A request body of at most 32 MiB.
 *
 * @since 0.2.0
 * @category defaults
 */
export const defaultMaxBodyBytes = 32 * 1024 * 1024

const presentedKeys = (headers: Headers.HeadersInput): Array<string> => {
  const bearer = Headers.get(headers, "authorization")?.match(/^\s*Bearer\s+(.+?)\s*$/i)?.[1]
  return [bearer, Headers.get(headers, "x-api-key"), Headers.get(headers, "x-goog-api-key")]
    .filter((key): key is string => key !== undefined && key !== "")
}

/** The host name of a `Host` header (`name:port`, `[v6]:port`), lower-case. */
const hostName = (host: string): string => {
  const trimmed = host.trim().toLowerCase()
  if (trimmed.startsWith("[")) return trimmed.slice(0, trimmed.indexOf("]") + 1)
  const colon = trimmed.lastIndexOf(":")
  return colon === -1 ? trimmed : trimmed.slice(0, colon)
}

/**
 * The hosts a gateway answers by default: its bind host and the loopback names, any port.
 *
 * @since 0.2.0
 * @category defaults
 */
export const defaultAllowedHosts = (bindHost: string): ReadonlyArray<string> => {
  const bind = bindHost.includes(":") && !bindHost.startsWith("[") ? `[${bindHost}]` : bindHost
  return [...new Set([bind.toLowerCase(), "localhost", "127.0.0.1", "[::1]"])]
}

const timeoutsOf = (server: GatewayConfig.Config["server"], endpoint: GatewayConfig.Endpoint): Upstream.Timeouts => ({
  ...Upstream.defaultTimeouts,
  ...server.timeouts,
  ...endpoint.timeouts
})

/**
 * Builds the gateway from its config; provider keys are read from `env` (default `process.env`).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  config: GatewayConfig.Config,
  env: Readonly<Record<string, string | undefined>> = process.env
): Gateway["Type"] => {
  const endpoints = new Map<string, Endpoint>()
  for (const e of config.endpoints) {
    endpoints.set(e.name, {
      endpoint: { name: e.name, id: e.id, usageTracking: e.usageTracking },
      provider: Upstream.make(e.provider, { timeouts: timeoutsOf(config.server, e), env }),
      model: e.provider.model ?? e.name
    })
  }
  const keys = new Map((config.auth?.keys ?? []).map((k) => [k.key, { username: k.username, userId: k.userId }] as const))
  const hosts = new Set((config.server.allowedHosts ?? defaultAllowedHosts(config.server.host)).map((h) => h.toLowerCase()))
  const origins = new Set((config.server.allowedOrigins ?? []).map((o) => o.toLowerCase()))
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
    allowsHost: (host) => hosts.has("*") || (host !== undefined && hosts.has(hostName(host))),
    allowsOrigin: (origin) => origins.has(origin.trim().toLowerCase()),
    maxBodyBytes: config.server.maxBodyBytes ?? defaultMaxBodyBytes,
    replay: config.replay,
    capture: {
      content: config.tracing?.captureContent ?? "full",
      maxPayloadBytes: config.tracing?.maxPayloadBytes ?? Payload.defaultMaxPayloadBytes,
      maxChunkEvents: config.tracing?.maxChunkEvents ?? 0
    }
  })
}

/**
 * @since 0.1.0
 * @category layers
 */
export const layer = (config: GatewayConfig.Config): Layer.Layer<Gateway> => Layer.sync(Gateway, () => make(config))
