/**
 * What the gateway checks before it serves, and what it says once it does.
 *
 * - {@link checkKeys}: every endpoint of an HTTP provider needs its key variable (`provider.apiKeyEnv`, else the
 *   provider's usual one) set; otherwise calls would be forwarded with no credentials and fail one by one. `echo`
 *   needs none.
 * - {@link listenError}, {@link environmentError}, {@link storeError}: a port in use, a bad `OTEL_*` variable or a
 *   trace store file that cannot be opened as one line that names the address, the variable or the file,
 *   instead of an error dump.
 * - {@link report}: one short block naming the config source, each endpoint, the trace store, the OTLP exporter
 *   and the listen URL.
 *
 * @since 0.2.0
 */
import type * as HttpServer from "@effect/platform/HttpServer"
import type * as HttpServerError from "@effect/platform/HttpServerError"
import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Url from "../internal/url.js"
import type * as Telemetry from "../tracing/Telemetry.js"
import type * as TraceStore from "../tracing/TraceStore.js"
import * as Dialect from "./Dialect.js"
import * as GatewayConfig from "./GatewayConfig.js"

/**
 * Why the gateway did not start. `message` is one line for a human: it names the variable, address or field, and
 * never a secret's value.
 *
 * @since 0.2.0
 * @category errors
 */
export class StartupError extends Data.TaggedError("StartupError")<{
  readonly reason: "MissingKey" | "Listen" | "Environment" | "TraceStore"
  readonly message: string
}> {}

// Keys -----------------------------------------------------------------------------------------------------------

/**
 * The environment variable that holds an endpoint's upstream key: `provider.apiKeyEnv`, else the provider's usual
 * one; None for `echo`, which needs no key.
 *
 * @since 0.2.0
 * @category keys
 */
export const keyVariable = (provider: GatewayConfig.Endpoint["provider"]): Option.Option<string> =>
  provider.kind === "echo"
    ? Option.none()
    : Option.some(provider.apiKeyEnv ?? Dialect.providers[provider.kind].apiKeyEnv)

/**
 * An endpoint whose key variable is unset (or blank).
 *
 * @since 0.2.0
 * @category models
 */
export interface MissingKey {
  readonly endpoint: string
  readonly kind: Dialect.HttpKind
  readonly variable: string
}

/**
 * The endpoints whose key variable is unset or blank, read from the current `ConfigProvider` (the process
 * environment by default, as the upstream calls read it).
 *
 * @since 0.2.0
 * @category keys
 */
export const missingKeys = (config: GatewayConfig.Config): Effect.Effect<ReadonlyArray<MissingKey>> =>
  Effect.gen(function*() {
    const missing: Array<MissingKey> = []
    for (const { name, provider } of config.endpoints) {
      const variable = keyVariable(provider)
      if (Option.isNone(variable) || provider.kind === "echo") continue
      const value = yield* Config.option(Config.string(variable.value)).pipe(
        Effect.orElseSucceed(() => Option.none<string>())
      )
      if (Option.isNone(value) || value.value.trim() === "") {
        missing.push({ endpoint: name, kind: provider.kind, variable: variable.value })
      }
    }
    return missing
  })

/**
 * Fails with a `MissingKey` {@link StartupError} naming every unset key variable and its endpoints.
 *
 * @since 0.2.0
 * @category keys
 */
export const checkKeys = (config: GatewayConfig.Config): Effect.Effect<void, StartupError> =>
  Effect.flatMap(missingKeys(config), (missing) => {
    if (missing.length === 0) return Effect.void
    const items = missing.map((m) => `${m.variable} (endpoint "${m.endpoint}", ${m.kind})`).join(", ")
    const one = missing.length === 1
    return Effect.fail(
      new StartupError({
        reason: "MissingKey",
        message: `upstream key${one ? "" : "s"} not set: ${items}; export ${one ? "it" : "them"}, or point the ` +
          `endpoint's provider.apiKeyEnv at the variable that holds the key`
      })
    )
  })

// Errors as one line ------------------------------------------------------------------------------------------

const listenReasons: Readonly<Record<string, readonly [what: string, hint: string]>> = {
  EADDRINUSE: ["address already in use", "stop the other process or choose another port with --port"],
  EACCES: ["permission denied", "ports below 1024 need privileges: choose another with --port"],
  EADDRNOTAVAIL: ["no such address on this machine", "choose another with --host"],
  ENOTFOUND: ["unknown host", "choose another with --host"]
}

/**
 * A server that could not listen (port in use, no permission, unknown host) as one line naming the address.
 *
 * @since 0.2.0
 * @category errors
 */
export const listenError = (
  error: HttpServerError.ServeError,
  address: { readonly host: string; readonly port: number }
): StartupError => {
  const cause = error.cause as { readonly code?: unknown; readonly message?: unknown } | undefined
  const code = typeof cause?.code === "string" ? cause.code : undefined
  const known = code === undefined ? undefined : listenReasons[code]
  const why = known !== undefined
    ? `${known[0]} (${code}); ${known[1]}`
    : typeof cause?.message === "string" ? cause.message : String(error.cause)
  return new StartupError({ reason: "Listen", message: `cannot listen on ${hostPort(address.host, address.port)}: ${why}` })
}

/**
 * A bad configuration variable (e.g. `OTEL_EXPORTER_OTLP_PROTOCOL=grpc`) as one line naming it.
 *
 * @since 0.2.0
 * @category errors
 */
export const environmentError = (error: ConfigError.ConfigError): StartupError =>
  new StartupError({
    reason: "Environment",
    message: ConfigError.reduceWithContext(error, undefined, {
      andCase: (_, left: string, right: string) => `${left}; ${right}`,
      orCase: (_, left: string, right: string) => `${left}; ${right}`,
      invalidDataCase: (_, path, message) => `${path.join(".")}: ${message}`,
      missingDataCase: (_, path, message) => `${path.join(".")}: ${message}`,
      sourceUnavailableCase: (_, path, message) => `${path.join(".")}: ${message}`,
      unsupportedCase: (_, path, message) => `${path.join(".")}: ${message}`
    })
  })

/**
 * A trace store file that cannot be opened (corrupt, locked by another process, unreadable) as one line naming
 * the file.
 *
 * @since 0.2.0
 * @category errors
 */
export const storeError = (error: TraceStore.TraceStoreError): StartupError =>
  new StartupError({ reason: "TraceStore", message: error.message })

// The report -----------------------------------------------------------------------------------------------------

/**
 * What the startup report names.
 *
 * @since 0.2.0
 * @category models
 */
export interface Facts {
  readonly version: string
  readonly config: GatewayConfig.Config
  /** Where the config came from; undefined for the built-in default. */
  readonly source: GatewayConfig.Source | undefined
  readonly otlp: Option.Option<Telemetry.OtlpOptions>
  readonly address: HttpServer.Address
}

const hostPort = (host: string, port: number) => `${host.includes(":") ? `[${host}]` : host}:${port}`

/**
 * The listen URL of an address, e.g. `http://127.0.0.1:8080`.
 *
 * @since 0.2.0
 * @category report
 */
export const url = (address: HttpServer.Address): string =>
  address._tag === "UnixAddress" ? `unix:${address.path}` : `http://${hostPort(address.hostname, address.port)}`

const endpointLine = ({ name, provider, usageTracking }: GatewayConfig.Endpoint): string => {
  const model = provider.model ?? name
  const where = provider.kind === "echo"
    ? "(in process)"
    : `@ ${new URL(provider.baseUrl ?? Dialect.providers[provider.kind].baseUrl).host}`
  return `${name} → ${provider.kind}/${model} ${where}, ${usageTracking ? "traced" : "not traced"}`
}

const bytesText = (bytes: number): string =>
  bytes % 1024 ** 3 === 0 ? `${bytes / 1024 ** 3} GiB` : bytes % 1024 ** 2 === 0 ? `${bytes / 1024 ** 2} MiB` : `${bytes} bytes`

const tracesLine = (config: GatewayConfig.Config): string => {
  const store = config.tracing?.store
  const path = store?.path ?? GatewayConfig.defaultStorePath
  if (path === ":memory:") {
    return `in memory, lost at exit: GET /api/traces` +
      (config.tracing?.maxTraces === undefined ? "" : ` (up to ${config.tracing.maxTraces} traces)`)
  }
  return `${path} (kept ${store?.maxAgeDays ?? 7} days, ${bytesText(store?.maxBytes ?? 1024 ** 3)} at most): GET /api/traces`
}

/**
 * The startup report: one block, one fact per line.
 *
 * ```text
 * effect-llm-trace 0.2.0 gateway
 *   config     built in: one "echo" endpoint (use --config <file> for your own)
 *   endpoints  echo → echo/echo (in process), traced
 *   traces     .effect-llm-trace/traces.db (kept 7 days, 1 GiB at most): GET /api/traces
 *   export     none (set OTEL_EXPORTER_OTLP_ENDPOINT to send spans over OTLP)
 *   listening  http://127.0.0.1:8080
 *   viewer     http://127.0.0.1:8080/ (traces, usage)
 * ```
 *
 * @since 0.2.0
 * @category report
 */
export const report = (facts: Facts): string => {
  const { config } = facts
  const [first, ...rest] = config.endpoints.map(endpointLine)
  const rows: Array<readonly [string, string]> = [
    [
      "config",
      facts.source === undefined
        ? `built in: one "echo" endpoint (use --config <file> for your own)`
        : `${facts.source.path} (from ${facts.source.from})`
    ],
    ["endpoints", first!],
    ...rest.map((line) => ["", line] as const),
    ["traces", tracesLine(config)],
    [
      "export",
      Option.match(facts.otlp, {
        onNone: () => "none (set OTEL_EXPORTER_OTLP_ENDPOINT to send spans over OTLP)",
        onSome: (otlp) => `OTLP ${otlp.protocol} → ${Url.display(otlp.url)}`
      })
    ],
    ["listening", url(facts.address)],
    ["viewer", `${url(facts.address)}/ (traces, usage)`]
  ]
  return [`effect-llm-trace ${facts.version} gateway`, ...rows.map(([key, value]) => `  ${key.padEnd(10)} ${value}`)]
    .join("\n")
}
