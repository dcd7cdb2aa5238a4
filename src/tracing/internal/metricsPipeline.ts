/**
 * The SDK side of `Metrics.layer`: a `MeterProvider` whose readers pull the recorder's snapshot through a
 * `MetricProducer` — the pull reader behind `collect`/`prometheus` (serialised by the official
 * `PrometheusSerializer`, no second HTTP server) and, when configured, an OTLP `PeriodicExportingMetricReader`.
 *
 * @internal
 */
import * as EffectResource from "@effect/opentelemetry/Resource"
import { hrTime } from "@opentelemetry/core"
import { PrometheusSerializer } from "@opentelemetry/exporter-prometheus"
import { resourceFromAttributes } from "@opentelemetry/resources"
import {
  AggregationTemporality,
  MeterProvider,
  type MetricProducer,
  MetricReader,
  PeriodicExportingMetricReader
} from "@opentelemetry/sdk-metrics"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import { Metrics, MetricsError, type Options, type Semconv } from "../Metrics.js"
import * as Telemetry from "../Telemetry.js"
import * as Recorder from "./metricsRecorder.js"

/** A reader that exports nothing by itself: `collect()` on demand (the `/metrics` scrape, tests). */
class PullReader extends MetricReader {
  constructor(producer: MetricProducer) {
    super({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE, metricProducers: [producer] })
  }
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve()
  }
  protected override onShutdown(): Promise<void> {
    return Promise.resolve()
  }
}

const defaults = {
  maxAttributeValues: 100,
  maxSeries: 2000,
  exportIntervalMillis: 60_000,
  exportTimeoutMillis: 30_000,
  shutdownTimeout: Duration.seconds(3)
}

const millis = (input: Duration.DurationInput | undefined, fallback: number): number =>
  input === undefined ? fallback : Math.max(1, Math.round(Duration.toMillis(Duration.decode(input))))

const exportingReader = (otlp: Telemetry.OtlpMetricsOptions, producer: MetricProducer) =>
  Effect.map(Telemetry.otlpMetricExporter(otlp), (exporter) => {
    const interval = millis(otlp.exportInterval, defaults.exportIntervalMillis)
    return new PeriodicExportingMetricReader({
      exporter,
      exportIntervalMillis: interval,
      // The SDK rejects a timeout longer than the interval.
      exportTimeoutMillis: Math.min(interval, millis(otlp.exportTimeout, defaults.exportTimeoutMillis)),
      metricProducers: [producer]
    })
  })

const failure = (error: unknown) =>
  new MetricsError({ message: `metrics collection failed: ${error instanceof Error ? error.message : String(error)}` })

/** @internal */
export const make = (options: Options): Effect.Effect<Metrics["Type"], never, Scope.Scope> =>
  Effect.gen(function*() {
    const recorder = Recorder.make({
      semconv: options.semconv ?? "default",
      maxAttributeValues: options.maxAttributeValues ?? defaults.maxAttributeValues,
      knownValues: options.knownValues ?? [],
      maxSeries: defaults.maxSeries
    })
    const resource = resourceFromAttributes(EffectResource.configToAttributes({
      serviceName: options.serviceName ?? "effect-llm-trace",
      ...(options.serviceVersion === undefined ? {} : { serviceVersion: options.serviceVersion })
    }))
    const scope = { name: "effect-llm-trace" }
    const producer: MetricProducer = {
      collect: () =>
        Promise.resolve({
          resourceMetrics: { resource, scopeMetrics: [{ scope, metrics: recorder.snapshot(hrTime()) }] },
          errors: []
        })
    }
    const pull = new PullReader(producer)
    const readers: Array<MetricReader> = [pull]
    if (options.otlp !== undefined) readers.push(yield* exportingReader(options.otlp, producer))
    const timeout = Duration.decode(options.shutdownTimeout ?? defaults.shutdownTimeout)
    yield* Effect.acquireRelease(
      Effect.sync(() => new MeterProvider({ resource, readers })),
      // Shutting down runs each reader's final collection: the OTLP reader exports what is pending.
      (provider) =>
        Effect.tryPromise(() => provider.shutdown({ timeoutMillis: Duration.toMillis(timeout) })).pipe(
          Effect.timeout(timeout),
          Effect.catchAllCause((cause) => Effect.logWarning("effect-llm-trace: metrics shutdown failed", cause))
        )
    )
    const serializer = new PrometheusSerializer()
    const collect = Effect.tryPromise({ try: () => pull.collect(), catch: failure }).pipe(
      Effect.map((result) => Option.some(result.resourceMetrics))
    )
    return Metrics.of({
      enabled: true,
      recordCall: recorder.recordCall,
      recordRequest: recorder.recordRequest,
      collect,
      prometheus: Effect.map(collect, Option.map((metrics) => serializer.serialize(metrics)))
    })
  })

/** @internal */
export const semconvFromEnv: Effect.Effect<Semconv, ConfigError.ConfigError> = Config.string(
  "OTEL_SEMCONV_STABILITY_OPT_IN"
).pipe(
  Config.withDefault(""),
  Config.map((value): Semconv =>
    value.split(",").some((item) => item.trim() === "gen_ai_latest_experimental") ? "latest" : "default"
  )
)

/** @internal */
export const optionsFromEnv: Effect.Effect<Pick<Options, "otlp" | "semconv" | "serviceName">, ConfigError.ConfigError> =
  Effect.gen(function*() {
    const otlp = yield* Telemetry.otlpMetricsFromEnv
    const semconv = yield* semconvFromEnv
    const serviceName = yield* Telemetry.serviceNameFromEnv
    return {
      semconv,
      ...(Option.isSome(otlp) ? { otlp: otlp.value } : {}),
      ...(Option.isSome(serviceName) ? { serviceName: serviceName.value } : {})
    }
  })
