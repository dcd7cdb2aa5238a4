/**
 * Layers that install Effect's tracer bridged to an OpenTelemetry SDK tracer provider (`@effect/opentelemetry`)
 * whose pipeline feeds the embedded {@link TraceStore.TraceStore} and, when asked, exports OTLP over HTTP with the
 * official exporters (protobuf or JSON) behind a `BatchSpanProcessor`.
 *
 * - Export never fails nor slows a traced call: spans are only queued on the call's path (a full queue drops
 *   spans); sending, retries and failures (backend down, 5xx) happen in the background and are not reported to
 *   the caller.
 * - Releasing the layer flushes: pending spans are exported before the provider shuts down, bounded by
 *   `shutdownTimeout`.
 * - Credentials: the pipeline adds no attribute of its own beyond the resource (`service.name`,
 *   `service.version`, SDK name); OTLP headers (which often carry a backend token) are only handed to the
 *   exporter, and `otlpFromEnv` holds their values as `Redacted` so they never print.
 *
 * @since 0.1.0
 */
import * as NodeSdk from "@effect/opentelemetry/NodeSdk"
import * as Resource from "@effect/opentelemetry/Resource"
import * as Tracer from "@effect/opentelemetry/Tracer"
import {
  AggregationTemporalityPreference,
  OTLPMetricExporter as JsonMetricExporter
} from "@opentelemetry/exporter-metrics-otlp-http"
import { OTLPMetricExporter as ProtobufMetricExporter } from "@opentelemetry/exporter-metrics-otlp-proto"
import { OTLPTraceExporter as JsonTraceExporter } from "@opentelemetry/exporter-trace-otlp-http"
import { OTLPTraceExporter as ProtobufTraceExporter } from "@opentelemetry/exporter-trace-otlp-proto"
import type { PushMetricExporter } from "@opentelemetry/sdk-metrics"
import { BatchSpanProcessor, type SpanProcessor } from "@opentelemetry/sdk-trace-base"
import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Runtime from "effect/Runtime"
import * as Url from "../internal/url.js"
import * as ConsoleExporter from "./internal/consoleExporter.js"
import * as LoggedExporter from "./internal/loggedExporter.js"
import * as TraceStore from "./TraceStore.js"

// Models ----------------------------------------------------------------------------------------------------------

/**
 * The OTLP/HTTP encodings the official exporters speak. (`grpc` is not supported.)
 *
 * @since 0.1.0
 * @category models
 */
export type OtlpProtocol = "http/protobuf" | "http/json"

/**
 * Where and how to export spans over OTLP/HTTP.
 *
 * @since 0.1.0
 * @category models
 */
export interface OtlpOptions {
  /** The full traces URL, e.g. `http://127.0.0.1:4318/v1/traces` (used as is). */
  readonly url: string
  readonly protocol: OtlpProtocol
  /** Sent with every export request only. `otlpFromEnv` gives `Redacted` values. */
  readonly headers?: Readonly<Record<string, string | Redacted.Redacted<string>>> | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** `service.name` of the resource (default `effect-llm-trace`). */
  readonly serviceName?: string | undefined
  readonly serviceVersion?: string | undefined
  /** The embedded store: in memory by default; a SQLite file with `path` (see `TraceStore.makeScoped`). */
  readonly store?: TraceStore.Options | undefined
  /** OTLP export in addition to the store; none by default. */
  readonly otlp?: OtlpOptions | undefined
  /** How long releasing the layer may wait for the final flush (default 3 seconds). */
  readonly shutdownTimeout?: Duration.DurationInput | undefined
  /** Also print each finished trace as a tree (see {@link layerConsole}); off by default. */
  readonly console?: boolean | ConsoleOptions | undefined
}

/**
 * Where and how much {@link layerConsole} prints.
 *
 * @since 0.2.0
 * @category models
 */
export interface ConsoleOptions {
  /** Receives each trace's text, ending in a newline (default: written to stderr). */
  readonly write?: ((text: string) => void) | undefined
  /** Traces whose root has not ended yet, kept at most (default 1000; the oldest is printed early). */
  readonly maxTraces?: number | undefined
  /** Spans kept per trace (default 1000; further spans are counted, not printed). */
  readonly maxSpansPerTrace?: number | undefined
}

// Layers ----------------------------------------------------------------------------------------------------------

const isHttpUrl = (url: string): boolean => {
  try {
    const protocol = new URL(url).protocol
    return protocol === "http:" || protocol === "https:"
  } catch {
    return false
  }
}

const revealHeaders = (headers: OtlpOptions["headers"]): Record<string, string> => {
  const out: Record<string, string> = {}
  for (const [name, value] of Object.entries(headers ?? {})) {
    out[name] = Redacted.isRedacted(value) ? Redacted.value(value) : value
  }
  return out
}

// Export failures never reach a caller; they are logged (warning) so that a backend that is down is noticed.
const exportProcessor = (otlp: OtlpOptions, log: (line: string) => void): SpanProcessor => {
  const config = { url: otlp.url, headers: revealHeaders(otlp.headers) }
  const exporter = otlp.protocol === "http/json" ? new JsonTraceExporter(config) : new ProtobufTraceExporter(config)
  return new BatchSpanProcessor(
    LoggedExporter.make(exporter, { target: Url.display(otlp.url), log, intervalMs: 60_000, now: Date.now })
  )
}

const consoleProcessor = (options: boolean | ConsoleOptions | undefined): ReadonlyArray<SpanProcessor> => {
  if (options === undefined || options === false) return []
  const { maxSpansPerTrace, maxTraces, write } = options === true ? {} : options
  return [ConsoleExporter.make({
    write: write ?? ((text) => process.stderr.write(text)),
    maxTraces: maxTraces ?? 1000,
    maxSpansPerTrace: maxSpansPerTrace ?? 1000
  })]
}

/**
 * The store, plus the Effect tracer bridged to an OTel tracer provider whose processors are the store's and, when
 * `otlp` is given, an OTLP exporter's. A fresh store and provider per build; releasing the layer flushes pending
 * exports, then shuts the provider down, then closes the store. An `otlp.url` that is not an http(s) URL is a
 * defect at build time (the message does not echo it: URLs can carry credentials). A store file that cannot be
 * opened fails the build with a `TraceStoreError`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options?: Options): Layer.Layer<TraceStore.TraceStore, TraceStore.TraceStoreError> =>
  Layer.unwrapScoped(Effect.gen(function*() {
    const otlp = options?.otlp
    if (otlp !== undefined && !isHttpUrl(otlp.url)) {
      return yield* Effect.dieMessage("Telemetry: the OTLP traces URL is not a valid http(s) URL")
    }
    const runtime = yield* Effect.runtime<never>()
    const logWarning = (line: string) => Runtime.runSync(runtime)(Effect.logWarning(line))
    // Built first, so released last: the provider's final flush still reaches it.
    const store = yield* TraceStore.makeScoped(options?.store)
    const processors: readonly [SpanProcessor, ...Array<SpanProcessor>] = [
      store.spanProcessor,
      ...(otlp === undefined ? [] : [exportProcessor(otlp, logWarning)]),
      ...consoleProcessor(options?.console)
    ]
    const resource = Resource.layer({
      serviceName: options?.serviceName ?? "effect-llm-trace",
      ...(options?.serviceVersion === undefined ? {} : { serviceVersion: options.serviceVersion })
    })
    const tracer = Tracer.layer.pipe(
      Layer.provide(NodeSdk.layerTracerProvider(processors, { shutdownTimeout: options?.shutdownTimeout })),
      Layer.provide(resource)
    )
    return Layer.merge(Layer.succeed(TraceStore.TraceStore, store), tracer)
  }))

/**
 * {@link layer} that also prints each finished trace to stderr as a compact tree, when its root span ends:
 *
 * ```text
 * trace 4bf92f3577b34da6a3ce929d0e0e4736
 * └─ provider/openai/gpt-5-mini  412.0 ms  OK  model=gpt-5-mini  tokens 12→3  ttft 180.2 ms
 * ```
 *
 * For seeing spans while developing; the store (and OTLP, when given) still receive every span.
 *
 * @since 0.2.0
 * @category layers
 */
export const layerConsole = (options?: Options): Layer.Layer<TraceStore.TraceStore, TraceStore.TraceStoreError> =>
  layer({ ...options, console: options?.console ?? true })

/**
 * The store only, with large bounds (100 000 traces, 100 000 spans each), for tests: read spans from the store
 * while the layer is alive.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerTest: Layer.Layer<TraceStore.TraceStore, TraceStore.TraceStoreError> = layer({
  serviceName: "effect-llm-trace-test",
  store: { maxTraces: 100_000, maxSpansPerTrace: 100_000 }
})

// Configuration from the standard OTEL_* variables ---------------------------------------------------------------

const nonBlank = (name: string): Config.Config<Option.Option<string>> =>
  Config.string(name).pipe(
    Config.option,
    Config.map(Option.flatMap((value) => value.trim() === "" ? Option.none() : Option.some(value.trim())))
  )

const nonBlankRedacted = (name: string): Config.Config<Option.Option<Redacted.Redacted<string>>> =>
  Config.redacted(name).pipe(
    Config.option,
    Config.map(Option.filter((value) => Redacted.value(value).trim() !== ""))
  )

/** The signals exported over OTLP; each has its own `OTEL_EXPORTER_OTLP_<SIGNAL>_*` variables. */
type Signal = "TRACES" | "METRICS"

const signalProtocolConfig = (signal: Signal): Config.Config<OtlpProtocol> => Config.all([
  nonBlank(`OTEL_EXPORTER_OTLP_${signal}_PROTOCOL`),
  nonBlank("OTEL_EXPORTER_OTLP_PROTOCOL")
]).pipe(Config.mapOrFail(([specific, general]) => {
  const [name, value] = Option.isSome(specific)
    ? [`OTEL_EXPORTER_OTLP_${signal}_PROTOCOL`, specific.value]
    : ["OTEL_EXPORTER_OTLP_PROTOCOL", Option.getOrElse(general, () => "http/protobuf")]
  if (value === "http/protobuf" || value === "http/json") return Either.right(value)
  return Either.left(ConfigError.InvalidData(
    [name],
    value === "grpc"
      ? "OTLP over gRPC is not supported: use http/protobuf (the default) or http/json"
      : `Expected http/protobuf or http/json, got ${JSON.stringify(value)}`
  ))
}))

const protocolConfig = signalProtocolConfig("TRACES")

/** The signal's full URL, else the base URL + `/v1/<signal>`. */
const signalUrlConfig = (signal: Signal): Config.Config<Option.Option<string>> => Config.all([
  nonBlank(`OTEL_EXPORTER_OTLP_${signal}_ENDPOINT`),
  nonBlank("OTEL_EXPORTER_OTLP_ENDPOINT")
]).pipe(Config.mapOrFail(([specific, base]) => {
  const [name, url] = Option.isSome(specific)
    ? [`OTEL_EXPORTER_OTLP_${signal}_ENDPOINT`, Option.some(specific.value)]
    : ["OTEL_EXPORTER_OTLP_ENDPOINT", Option.map(base, (b) => `${b.replace(/\/+$/, "")}/v1/${signal.toLowerCase()}`)]
  return Option.isNone(url) || isHttpUrl(url.value)
    ? Either.right(url)
    // The value is not echoed: an endpoint URL can carry credentials.
    : Either.left(ConfigError.InvalidData([name], "Expected an http(s) URL"))
}))

const urlConfig = signalUrlConfig("TRACES")

// RFC 9110 token characters for names; values: visible ASCII, space and tab (what Node's HTTP client accepts).
const headerName = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/
const headerValue = /^[\t\x20-\x7e\x80-\xff]*$/

const decodeComponent = (text: string): string | undefined => {
  try {
    return decodeURIComponent(text)
  } catch {
    return undefined
  }
}

/**
 * Parses `k=v,k2=v2` (W3C baggage style, percent-decoded, whitespace trimmed, empty members skipped). Errors name
 * the variable and the member's position only, never a value.
 */
const parseHeaders = (
  name: string,
  raw: Redacted.Redacted<string>
): Either.Either<Record<string, Redacted.Redacted<string>>, ConfigError.ConfigError> => {
  const out: Record<string, Redacted.Redacted<string>> = {}
  const members = Redacted.value(raw).split(",")
  for (let i = 0; i < members.length; i++) {
    const member = members[i]!
    if (member.trim() === "") continue
    const eq = member.indexOf("=")
    const key = eq < 0 ? undefined : decodeComponent(member.slice(0, eq).trim())
    const value = eq < 0 ? undefined : decodeComponent(member.slice(eq + 1).trim())
    if (key === undefined || value === undefined || !headerName.test(key) || !headerValue.test(value)) {
      return Either.left(ConfigError.InvalidData([name], `Member ${i + 1} is not a valid name=value header`))
    }
    out[key] = Redacted.make(value)
  }
  return Either.right(out)
}

const signalHeadersConfig = (signal: Signal): Config.Config<Record<string, Redacted.Redacted<string>>> => Config.all([
  nonBlankRedacted("OTEL_EXPORTER_OTLP_HEADERS"),
  nonBlankRedacted(`OTEL_EXPORTER_OTLP_${signal}_HEADERS`)
]).pipe(Config.mapOrFail(([general, specific]) => {
  const parse = (name: string, raw: Option.Option<Redacted.Redacted<string>>) =>
    Option.isNone(raw) ? Either.right({}) : parseHeaders(name, raw.value)
  // Signal-specific headers override the general ones, name by name.
  return Either.zipWith(
    parse("OTEL_EXPORTER_OTLP_HEADERS", general),
    parse(`OTEL_EXPORTER_OTLP_${signal}_HEADERS`, specific),
    (a, b) => ({ ...a, ...b })
  )
}))

const headersConfig = signalHeadersConfig("TRACES")

/**
 * OTLP export settings from the standard variables, or None when no endpoint is set (store only):
 *
 * - `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` (the full URL, used as is), else `OTEL_EXPORTER_OTLP_ENDPOINT` (a base
 *   URL: `/v1/traces` is appended);
 * - `OTEL_EXPORTER_OTLP_TRACES_PROTOCOL`, else `OTEL_EXPORTER_OTLP_PROTOCOL`: `http/protobuf` (default) or
 *   `http/json`; `grpc` or anything else is an `InvalidData` config error;
 * - `OTEL_EXPORTER_OTLP_HEADERS`, overridden name by name by `OTEL_EXPORTER_OTLP_TRACES_HEADERS`: `k=v,k2=v2`,
 *   percent-decoded, values `Redacted`.
 *
 * Blank values count as unset, as the OpenTelemetry specification asks.
 *
 * @since 0.1.0
 * @category config
 */
export const otlpFromEnv: Effect.Effect<Option.Option<OtlpOptions>, ConfigError.ConfigError> = Effect.gen(
  function*() {
    const url = yield* urlConfig
    if (Option.isNone(url)) return Option.none()
    const protocol = yield* protocolConfig
    const headers = yield* headersConfig
    return Option.some<OtlpOptions>({ url: url.value, protocol, headers })
  }
)

/**
 * {@link layer} configured from the environment (the current `ConfigProvider`): OTLP from {@link otlpFromEnv},
 * and `OTEL_SERVICE_NAME`, when set, overrides `options.serviceName`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerFromEnv = (
  options?: Omit<Options, "otlp">
): Layer.Layer<TraceStore.TraceStore, ConfigError.ConfigError | TraceStore.TraceStoreError> =>
  Layer.unwrapEffect(Effect.gen(function*() {
    const otlp = yield* otlpFromEnv
    const serviceName = yield* nonBlank("OTEL_SERVICE_NAME")
    return layer({
      ...options,
      ...(Option.isSome(serviceName) ? { serviceName: serviceName.value } : {}),
      otlp: Option.getOrUndefined(otlp)
    })
  }))

// OTLP metrics ---------------------------------------------------------------------------------------------------

/**
 * Where, how and how often to export metrics over OTLP/HTTP. `url` is the full metrics URL, e.g.
 * `http://127.0.0.1:4318/v1/metrics`.
 *
 * @since 0.2.0
 * @category models
 */
export interface OtlpMetricsOptions extends OtlpOptions {
  /** Time between two exports (default 60 seconds). */
  readonly exportInterval?: Duration.DurationInput | undefined
  /** How long one export may take (default 30 seconds, never more than `exportInterval`). */
  readonly exportTimeout?: Duration.DurationInput | undefined
}

/** A positive whole number of milliseconds, or None when unset or blank. */
const millisConfig = (name: string): Config.Config<Option.Option<number>> =>
  nonBlank(name).pipe(Config.mapOrFail((value) =>
    Option.isNone(value)
      ? Either.right(Option.none())
      : /^\d+$/.test(value.value) && Number(value.value) > 0
      ? Either.right(Option.some(Number(value.value)))
      : Either.left(ConfigError.InvalidData([name], `Expected a positive number of milliseconds, got ${JSON.stringify(value.value)}`))
  ))

/**
 * OTLP metrics export settings from the standard variables, or None when no endpoint is set (no push export):
 *
 * - `OTEL_EXPORTER_OTLP_METRICS_ENDPOINT` (the full URL, used as is), else `OTEL_EXPORTER_OTLP_ENDPOINT` (a base
 *   URL: `/v1/metrics` is appended);
 * - `OTEL_EXPORTER_OTLP_METRICS_PROTOCOL`, else `OTEL_EXPORTER_OTLP_PROTOCOL`: `http/protobuf` (default) or
 *   `http/json`;
 * - `OTEL_EXPORTER_OTLP_HEADERS`, overridden name by name by `OTEL_EXPORTER_OTLP_METRICS_HEADERS`;
 * - `OTEL_METRIC_EXPORT_INTERVAL` and `OTEL_METRIC_EXPORT_TIMEOUT`, in milliseconds.
 *
 * The same parsing and errors as {@link otlpFromEnv}: a bad value is an `InvalidData` error naming its variable.
 *
 * @since 0.2.0
 * @category config
 */
export const otlpMetricsFromEnv: Effect.Effect<Option.Option<OtlpMetricsOptions>, ConfigError.ConfigError> = Effect
  .gen(function*() {
    const url = yield* signalUrlConfig("METRICS")
    if (Option.isNone(url)) return Option.none()
    const protocol = yield* signalProtocolConfig("METRICS")
    const headers = yield* signalHeadersConfig("METRICS")
    const interval = yield* millisConfig("OTEL_METRIC_EXPORT_INTERVAL")
    const timeout = yield* millisConfig("OTEL_METRIC_EXPORT_TIMEOUT")
    return Option.some<OtlpMetricsOptions>({
      url: url.value,
      protocol,
      headers,
      ...(Option.isSome(interval) ? { exportInterval: interval.value } : {}),
      ...(Option.isSome(timeout) ? { exportTimeout: timeout.value } : {})
    })
  })

/**
 * The official OTLP/HTTP metric exporter for `otlp` (protobuf or JSON), asking for cumulative temporality. A `url`
 * that is not an http(s) URL is a defect (the message does not echo it).
 *
 * @since 0.2.0
 * @category constructors
 */
export const otlpMetricExporter = (otlp: OtlpOptions): Effect.Effect<PushMetricExporter> =>
  Effect.suspend(() => {
    if (!isHttpUrl(otlp.url)) return Effect.dieMessage("Telemetry: the OTLP metrics URL is not a valid http(s) URL")
    const config = {
      url: otlp.url,
      headers: revealHeaders(otlp.headers),
      temporalityPreference: AggregationTemporalityPreference.CUMULATIVE
    }
    return Effect.succeed(
      otlp.protocol === "http/json" ? new JsonMetricExporter(config) : new ProtobufMetricExporter(config)
    )
  })

/**
 * `OTEL_SERVICE_NAME`, trimmed; None when unset or blank.
 *
 * @since 0.2.0
 * @category config
 */
export const serviceNameFromEnv: Effect.Effect<Option.Option<string>, ConfigError.ConfigError> = nonBlank("OTEL_SERVICE_NAME")
