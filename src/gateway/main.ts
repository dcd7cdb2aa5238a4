/**
 * The gateway program behind the `effect-llm-trace` command (`cli.ts`): load the config and apply the command
 * line, check the upstream keys and the `OTEL_*` variables, serve, print the startup report; on Ctrl-C / SIGTERM
 * drain, flush spans and say so. A failure to start is one line on stderr and exit status 1.
 *
 * @internal
 */
import * as HttpServer from "@effect/platform/HttpServer"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Cause from "effect/Cause"
import * as ConfigError from "effect/ConfigError"
import * as Console from "effect/Console"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"
import * as Telemetry from "../tracing/Telemetry.js"
import * as GatewayConfig from "./GatewayConfig.js"
import type * as CliArgs from "./internal/cliArgs.js"
import * as Server from "./Server.js"
import * as Startup from "./Startup.js"

const logLevels: { readonly [K in CliArgs.LogLevelName]: LogLevel.LogLevel } = {
  all: LogLevel.All,
  trace: LogLevel.Trace,
  debug: LogLevel.Debug,
  info: LogLevel.Info,
  warning: LogLevel.Warning,
  error: LogLevel.Error,
  fatal: LogLevel.Fatal,
  none: LogLevel.None
}

/** The config file's settings, then the command line's `--host` / `--port` over them. */
const withFlags = (config: GatewayConfig.Config, flags: CliArgs.Flags): GatewayConfig.Config => ({
  ...config,
  server: {
    ...config.server,
    ...(flags.host === undefined ? {} : { host: flags.host }),
    ...(flags.port === undefined ? {} : { port: flags.port })
  }
})

/**
 * Runs until interrupted. Fails, before serving, with a `ConfigError` or a `StartupError`.
 *
 * @internal
 */
export const program = (flags: CliArgs.Flags, version: string, env: GatewayConfig.LoadOptions["env"]) =>
  Effect.gen(function*() {
    // GatewayConfig reads `--config` and `GATEWAY_CONFIG` (and `PORT`) itself; the command line was checked before.
    const options = { argv: flags.config === undefined ? [] : ["--config", flags.config], env }
    const source = yield* GatewayConfig.configSource(options)
    const config = withFlags(yield* GatewayConfig.load(options), flags)
    yield* Startup.checkKeys(config)
    const otlp = yield* Telemetry.otlpFromEnv.pipe(Effect.mapError(Startup.environmentError))
    const context = yield* Layer.build(Server.layer(config)).pipe(
      Effect.mapError((error) =>
        ConfigError.isConfigError(error)
          ? Startup.environmentError(error)
          : error._tag === "TraceStoreError"
          ? Startup.storeError(error)
          : Startup.listenError(error, config.server)
      )
    )
    const { address } = Context.get(context, HttpServer.HttpServer)
    yield* Console.log(Startup.report({ version, config, source, otlp, address }))
    // Runs first when interrupted: before the server drains and the spans are flushed.
    yield* Effect.addFinalizer(() => Effect.logInfo("shutting down"))
    return yield* Effect.never
  }).pipe(
    Effect.scoped,
    Effect.onInterrupt(() => Effect.logInfo("stopped; spans flushed"))
  )

/** A failure to start as one line; anything unexpected in full. */
const report = (cause: Cause.Cause<GatewayConfig.ConfigError | Startup.StartupError>) => {
  if (Cause.isInterruptedOnly(cause)) return Effect.void
  return Option.match(Cause.failureOption(cause), {
    onSome: (error) => Console.error(`effect-llm-trace: ${error.message}`),
    onNone: () => Console.error(`effect-llm-trace: unexpected failure\n${Cause.pretty(cause)}`)
  })
}

/**
 * Runs the gateway as the main program of this process (exit status 1 when it cannot start).
 *
 * @internal
 */
export const run = (flags: CliArgs.Flags, version: string): void =>
  program(flags, version, process.env).pipe(
    Effect.tapErrorCause(report),
    Logger.withMinimumLogLevel(logLevels[flags.logLevel ?? "info"]),
    Effect.provide(Logger.pretty),
    (effect) => NodeRuntime.runMain(effect, { disableErrorReporting: true })
  )
