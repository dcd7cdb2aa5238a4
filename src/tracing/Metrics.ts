/**
 * Metrics of provider calls and gateway requests: the OpenTelemetry GenAI client histograms and
 * `http.server.request.duration`, served as Prometheus text (`prometheus`, `GET /metrics`) and pushed over OTLP
 * when configured.
 *
 * | Instrument (default names) | Type, unit | Buckets | Attributes |
 * | --- | --- | --- | --- |
 * | `gen_ai.client.operation.duration` | histogram, `s` | 0.01 … 81.92 (×2) | base, `error.type` on failure |
 * | `gen_ai.client.token.usage` | histogram, `{token}` | 1 … 67108864 (×4) | base, `gen_ai.token.type` |
 * | `gen_ai.client.operation.time_to_first_chunk` | histogram, `s` | 0.01 … 81.92 | base |
 * | `gen_ai.client.operation.time_per_output_chunk` | histogram, `s` | 0.01 … 81.92 | base |
 * | `http.server.request.duration` | histogram, `s` | 0.005 … 10 | method, scheme, route, status, `error.type`, `endpoint_name` |
 *
 * base = `gen_ai.operation.name`, `gen_ai.provider.name`, `gen_ai.request.model`, `gen_ai.response.model`,
 * `server.address`, `server.port` (each when known). With `semconv: "latest"`
 * (`OTEL_SEMCONV_STABILITY_OPT_IN=gen_ai_latest_experimental`) the GenAI names are those of the
 * semantic-conventions-genai repository: `gen_ai.client.inference.duration`, `…time_to_first_chunk`,
 * `…time_per_output_chunk`, the histograms `gen_ai.client.inference.operation.{input,output}_tokens` and the
 * counters `gen_ai.client.inference.usage.{input,output,cache_read.input,cache_write.input,reasoning.output}_tokens`.
 *
 * Recording is synchronous and cheap (no Effect, no per-chunk SDK call): see `bench/metrics.bench.ts`. Attribute
 * values are bounded: model names are recorded as sent, but past `maxAttributeValues` distinct values per attribute
 * (beyond `knownValues`) they become `_OTHER`; ids, user content and raw paths are never attributes.
 *
 * @since 0.2.0
 */
import type { ResourceMetrics } from "@opentelemetry/sdk-metrics"
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as ConfigError from "effect/ConfigError"
import type * as TokenUsage from "../TokenUsage.js"
import * as pipeline from "./internal/metricsPipeline.js"
import * as recorder from "./internal/metricsRecorder.js"
import type * as Telemetry from "./Telemetry.js"

// Models ----------------------------------------------------------------------------------------------------------

/**
 * The arrival times of a streamed call's chunks, kept as what the metrics need (the first time, and the intervals
 * bucketed as they arrive): constant memory however long the stream. Make one per call with
 * {@link makeChunkTimes}.
 *
 * @since 0.2.0
 * @category models
 */
export interface ChunkTimes {
  readonly [recorder.ChunkTimesTypeId]: typeof recorder.ChunkTimesTypeId
  /**
   * One chunk arrived, `secondsSinceStart` after the call was issued (the same origin as the call's `duration`).
   * Times should not decrease; an interval below 0 counts as 0, a non-finite time is ignored.
   */
  readonly mark: (secondsSinceStart: number) => void
  /** Chunks marked so far. */
  readonly count: number
  /** The first chunk's time (time to first chunk); NaN before any. */
  readonly first: number
}

/**
 * @since 0.2.0
 * @category constructors
 */
export const makeChunkTimes = (): ChunkTimes => new recorder.ChunkTimesImpl()

/**
 * One provider call, recorded once when it ends (success, failure or cancellation).
 *
 * @since 0.2.0
 * @category models
 */
export interface CallRecord {
  /** `gen_ai.operation.name`: `chat`, `generate_content`, … */
  readonly operation: string
  /** `gen_ai.provider.name`: `openai`, `anthropic`, `gcp.gemini`, … */
  readonly provider: string
  /** `gen_ai.request.model`, as sent upstream. */
  readonly requestModel?: string | undefined
  /** `gen_ai.response.model`, as the response reported it. */
  readonly responseModel?: string | undefined
  readonly serverAddress?: string | undefined
  /** Recorded only with `serverAddress`. */
  readonly serverPort?: number | undefined
  /** `error.type` when the call failed (`cancelled` when the caller went away); undefined on success. */
  readonly errorType?: string | undefined
  /** Seconds from issuing the request to the end of the response (or of the failure). */
  readonly duration: number
  /** Streamed calls only: the chunks seen. Time to first chunk and time per output chunk come from here. */
  readonly chunks?: ChunkTimes | undefined
  /** The usage the response reported; an absent field was not observed and is not recorded as 0. */
  readonly usage?: TokenUsage.TokenUsage | undefined
}

/**
 * One request the gateway served, recorded once when its response ended (after the last byte of a stream).
 *
 * @since 0.2.0
 * @category models
 */
export interface RequestRecord {
  /** `http.request.method`; methods outside RFC 9110 + PATCH become `_OTHER`. */
  readonly method: string
  /** `http.route`: the route's pattern (`/gateway/gemini/v1beta/models/:target`), never the raw path. */
  readonly route: string
  /** `http.response.status_code`, as sent. */
  readonly status: number
  /** Seconds from the request's arrival to the end of its response. */
  readonly duration: number
  /** The configured endpoint served, when one was found (never a name the client made up). */
  readonly endpoint?: string | undefined
  /** `error.type`: `cancelled` when the client went away; by default the status for 5xx, none otherwise. */
  readonly errorType?: string | undefined
  /** `url.scheme` (default `http`). */
  readonly scheme?: "http" | "https" | undefined
}

/**
 * Which GenAI metric names to emit: `default` (v1.36–v1.41 names) or `latest`
 * (`gen_ai_latest_experimental`, the semantic-conventions-genai names).
 *
 * @since 0.2.0
 * @category models
 */
export type Semconv = "default" | "latest"

/**
 * @since 0.2.0
 * @category models
 */
export interface Options {
  /** `false`: the no-op service (nothing recorded, no exporter). Default `true`. */
  readonly enabled?: boolean | undefined
  /**
   * Distinct values recorded per capped attribute (request and response model, `error.type`, `server.address`,
   * `endpoint_name`, `http.route`) beyond `knownValues`; later ones become `_OTHER`. Default 100.
   */
  readonly maxAttributeValues?: number | undefined
  /** Values always recorded as they are, outside the cap: the configured models and endpoint names. */
  readonly knownValues?: Iterable<string> | undefined
  readonly semconv?: Semconv | undefined
  /** `service.name` of the resource (default `effect-llm-trace`). */
  readonly serviceName?: string | undefined
  readonly serviceVersion?: string | undefined
  /** Push export over OTLP, in addition to the pull (`prometheus`); none by default. */
  readonly otlp?: Telemetry.OtlpMetricsOptions | undefined
  /** How long releasing the layer may wait for the final export (default 3 seconds). */
  readonly shutdownTimeout?: Duration.DurationInput | undefined
}

// Service ---------------------------------------------------------------------------------------------------------

/**
 * Collecting failed (the pipeline was shut down, or a reader failed).
 *
 * @since 0.2.0
 * @category errors
 */
export class MetricsError extends Data.TaggedError("MetricsError")<{ readonly message: string }> {}

/**
 * @since 0.2.0
 * @category tags
 */
export class Metrics extends Context.Tag("effect-llm-trace/Metrics")<Metrics, {
  /** False for the no-op service: callers may skip collecting what only metrics need (chunk times). */
  readonly enabled: boolean
  /** Records one provider call. Synchronous; never throws. */
  readonly recordCall: (record: CallRecord) => void
  /** Records one gateway request. Synchronous; never throws. */
  readonly recordRequest: (record: RequestRecord) => void
  /** Everything recorded so far, cumulative, as every reader sees it (None when disabled). */
  readonly collect: Effect.Effect<Option.Option<ResourceMetrics>, MetricsError>
  /** {@link collect} in the Prometheus text format 0.0.4 (None when disabled). */
  readonly prometheus: Effect.Effect<Option.Option<string>, MetricsError>
}>() {}

/**
 * The no-op service: records nothing, collects None.
 *
 * @since 0.2.0
 * @category constructors
 */
export const noop: Metrics["Type"] = Metrics.of({
  enabled: false,
  recordCall: () => {},
  recordRequest: () => {},
  collect: Effect.succeed(Option.none()),
  prometheus: Effect.succeed(Option.none())
})

// Layers ----------------------------------------------------------------------------------------------------------

/**
 * The metrics pipeline: an SDK `MeterProvider` whose readers are the pull reader behind `collect`/`prometheus`
 * and, with `otlp`, a periodic OTLP exporting reader. Releasing the layer exports what is pending, then shuts the
 * provider down (bounded by `shutdownTimeout`). `enabled: false` gives {@link noop}.
 *
 * @since 0.2.0
 * @category layers
 */
export const layer = (options?: Options): Layer.Layer<Metrics> =>
  options?.enabled === false ? Layer.succeed(Metrics, noop) : Layer.scoped(Metrics, pipeline.make(options ?? {}))

/**
 * `semconv` from `OTEL_SEMCONV_STABILITY_OPT_IN` (a comma-separated list: `gen_ai_latest_experimental` selects
 * `latest`; other values are ignored).
 *
 * @since 0.2.0
 * @category config
 */
export const semconvFromEnv: Effect.Effect<Semconv, ConfigError.ConfigError> = pipeline.semconvFromEnv

/**
 * {@link layer} configured from the environment: OTLP from `Telemetry.otlpMetricsFromEnv`, `semconv` from
 * {@link semconvFromEnv}, and `OTEL_SERVICE_NAME`, when set, over `options.serviceName`. Disabled, it reads nothing.
 *
 * @since 0.2.0
 * @category layers
 */
export const layerFromEnv = (
  options?: Omit<Options, "otlp" | "semconv">
): Layer.Layer<Metrics, ConfigError.ConfigError> =>
  options?.enabled === false
    ? Layer.succeed(Metrics, noop)
    : Layer.unwrapEffect(Effect.map(pipeline.optionsFromEnv, (fromEnv) => layer({ ...options, ...fromEnv })))
