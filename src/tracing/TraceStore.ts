/**
 * The embedded default trace backend: an in-process store of finished spans, grouped by trace, with trace-level
 * metadata, fed by the OpenTelemetry SDK pipeline through a `SpanProcessor` (the same spans an OTLP exporter
 * sees). Bounded, so a long-running server does not grow without limit:
 *
 * - at most `maxTraces` traces (default 1000): when a new trace would exceed it, the least recently written trace
 *   (the one whose latest span arrived longest ago) is evicted;
 * - at most `maxSpansPerTrace` spans per trace (default 10 000): further spans of a full trace are dropped and
 *   counted in the trace's metadata under {@link DroppedSpansKey}, except a span without a parent (the trace's
 *   root, which ends last), which takes the place of the most recently stored span so a full trace keeps its
 *   root. Trace metadata carried by a dropped span is still recorded.
 *
 * Span attributes whose key is in `Attributes.traceMetadataKeys` (caller, auth, session, ...) are moved into the
 * trace's metadata (later spans overwrite earlier ones; the root ends last, so its values win) and removed from the
 * stored span: they are trace-level in this view, while an OTLP exporter still sees them as root span attributes.
 *
 * Each trace also has a {@link Summary} (endpoint, caller, times, status, providers, models, tokens, TTFT, kind),
 * computed from its spans; {@link TraceStore} lists summaries with filters and cursor pagination and aggregates
 * usage. Two backends: this in-memory one ({@link make}, path `":memory:"`), and a SQLite file ({@link makeScoped}
 * with a `path`), written in batches off the request path, kept across restarts, bounded by age and bytes.
 *
 * @since 0.1.0
 */
import type { SpanProcessor } from "@opentelemetry/sdk-trace-base"
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import * as StoreSpan from "./internal/storeSpan.js"
import * as StoreLive from "./internal/storeLive.js"
import * as internalMemory from "./internal/storeMemory.js"
import * as internalSql from "./internal/storeSql.js"

// Models ----------------------------------------------------------------------------------------------------------

/**
 * @since 0.1.0
 * @category models
 */
export type AttributeValue = string | number | boolean | ReadonlyArray<string | number | boolean | null>

/**
 * A finished span, as stored and as served (JSON) by the gateway's trace API.
 *
 * @since 0.1.0
 * @category models
 */
export interface StoredSpan {
  readonly traceId: string
  readonly spanId: string
  readonly parentSpanId: string | null
  readonly name: string
  readonly kind: "INTERNAL" | "SERVER" | "CLIENT" | "PRODUCER" | "CONSUMER"
  /** Exact nanoseconds since the epoch, as a decimal string (no float rounding). */
  readonly startTimeUnixNano: string
  readonly endTimeUnixNano: string
  readonly status: { readonly code: "OK" | "ERROR" | "UNSET"; readonly message?: string }
  readonly attributes: Readonly<Record<string, AttributeValue>>
  readonly events: ReadonlyArray<{
    readonly name: string
    readonly timeUnixNano: string
    readonly attributes: Readonly<Record<string, AttributeValue>>
  }>
}

/**
 * One trace: its metadata and its stored spans, sorted by start time.
 *
 * @since 0.1.0
 * @category models
 */
export interface Trace {
  readonly traceId: string
  /** @since 0.2.0 */
  readonly summary: Summary
  readonly metadata: Readonly<Record<string, string>>
  readonly spans: ReadonlyArray<StoredSpan>
}

/**
 * Token counts of a trace, summed over its spans' `gen_ai.usage.*` attributes (0 when none).
 *
 * @since 0.2.0
 * @category models
 */
export interface Tokens {
  readonly input: number
  readonly output: number
  readonly cacheRead: number
  readonly cacheCreation: number
  readonly reasoning: number
}

/**
 * What a trace list shows of one trace, computed from its spans.
 *
 * - `kind`: `"replay"` for a caller's trace holding a replayed copy of a gateway call (its gateway span copy
 *   carries `mlflow.gateway.linkedTraceId`), else `"gateway"`.
 * - `status`, `errorType`, `statusCode`: of the gateway span (the copy, in a replay; else the trace's root).
 * - `startTime`/`durationMs`: the whole trace; `ttftMs`: the first streamed provider call's.
 *
 * @since 0.2.0
 * @category models
 */
export interface Summary {
  readonly traceId: string
  readonly kind: "gateway" | "replay"
  readonly endpoint: string | null
  readonly caller: string | null
  /** ISO 8601, millisecond precision. */
  readonly startTime: string
  /** Exact nanoseconds since the epoch, as a decimal string. */
  readonly startTimeUnixNano: string
  readonly durationMs: number
  /** `in_progress`: a gateway call still running (listed from its start; its spans are stored when it ends). */
  readonly status: "ok" | "error" | "unset" | "in_progress"
  readonly errorType: string | null
  /** `http.response.status_code` of the gateway span. */
  readonly statusCode: number | null
  readonly providers: ReadonlyArray<string>
  readonly models: ReadonlyArray<string>
  readonly streamed: boolean
  readonly tokens: Tokens
  readonly ttftMs: number | null
  readonly spanCount: number
  /** The trace's metadata (`mlflow.auth.username`, `mlflow.gateway.caller`, ...). */
  readonly metadata: Readonly<Record<string, string>>
}

/**
 * A trace list query. Filters are exact matches; `since` (inclusive) and `until` (exclusive) are epoch
 * milliseconds of the trace's start; `cursor` is a page's `nextCursor`.
 *
 * @since 0.2.0
 * @category models
 */
export interface ListQuery {
  readonly endpoint?: string | undefined
  readonly status?: Summary["status"] | undefined
  readonly model?: string | undefined
  readonly kind?: Summary["kind"] | undefined
  readonly since?: number | undefined
  readonly until?: number | undefined
  readonly minDurationMs?: number | undefined
  readonly cursor?: string | undefined
  readonly limit: number
}

/**
 * One page of summaries, newest first; `nextCursor` is null on the last page.
 *
 * @since 0.2.0
 * @category models
 */
export interface Page {
  readonly traces: ReadonlyArray<Summary>
  readonly nextCursor: string | null
}

/**
 * A usage query over gateway traces (replayed copies are not counted) started in `[since, until)` (epoch ms).
 *
 * @since 0.2.0
 * @category models
 */
export interface UsageQuery {
  readonly since?: number | undefined
  readonly until?: number | undefined
  readonly groupBy: "endpoint" | "model" | "caller"
  readonly bucket: "minute" | "hour"
}

/**
 * @since 0.2.0
 * @category models
 */
export interface UsageGroup {
  readonly key: string
  readonly calls: number
  readonly errors: number
  readonly tokens: Tokens
}

/**
 * One group in one time bucket; `time` is the bucket's start (ISO 8601).
 *
 * @since 0.2.0
 * @category models
 */
export interface UsagePoint extends UsageGroup {
  readonly time: string
}

/**
 * Calls, errors and tokens per group (most calls first) and per group and bucket (oldest first). Traces without
 * the grouped field count under `"(none)"`; a trace with several models counts once for each.
 *
 * @since 0.2.0
 * @category models
 */
export interface Usage {
  readonly groups: ReadonlyArray<UsageGroup>
  readonly series: ReadonlyArray<UsagePoint>
}

/**
 * How the store is doing: spans waiting to be written, spans dropped because the write queue was full, and
 * spans that could not be written (the database failed).
 *
 * @since 0.2.0
 * @category models
 */
export interface Stats {
  readonly backend: "memory" | "sqlite"
  readonly queued: number
  readonly dropped: number
  readonly failed: number
}

/**
 * The store could not be opened (`Open`: a corrupt, locked or unreadable file, or a failed migration) or read
 * (`Read`). `message` is one line for a human, naming the file.
 *
 * @since 0.2.0
 * @category errors
 */
export class TraceStoreError extends Data.TaggedError("TraceStoreError")<{
  readonly reason: "Open" | "Read"
  readonly message: string
  readonly cause?: unknown
}> {}

/**
 * A search hit: the trace's metadata and its root span (the earliest span whose parent is not in the trace).
 *
 * @since 0.1.0
 * @category models
 */
export interface TraceSummary {
  readonly traceId: string
  readonly metadata: Readonly<Record<string, string>>
  readonly rootSpan: StoredSpan | null
}

/**
 * `endpoint`: only traces with a span whose `endpoint_name` attribute equals it. `limit`: at most this many
 * (default 100).
 *
 * @since 0.1.0
 * @category models
 */
export interface SearchOptions {
  readonly endpoint?: string | undefined
  readonly limit?: number | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  readonly maxTraces?: number | undefined
  readonly maxSpansPerTrace?: number | undefined
  /**
   * For {@link makeScoped}: a SQLite file (created with its folder if missing), or `":memory:"` (default) for
   * this in-memory store.
   *
   * @since 0.2.0
   */
  readonly path?: string | undefined
  /** File store: traces older than this many days are deleted (default 7). @since 0.2.0 */
  readonly maxAgeDays?: number | undefined
  /**
   * The oldest traces are deleted while the stored spans exceed this many bytes: file store default 1 GiB (bytes
   * of the stored JSON); in-memory default 256 MiB (string bytes held, see the store's doc). @since 0.2.0
   */
  readonly maxBytes?: number | undefined
  /** File store: spans waiting to be written, at most (default 20 000); further spans are dropped and counted. @since 0.2.0 */
  readonly queueSize?: number | undefined
}

/**
 * Metadata key holding how many spans of a full trace were dropped (present only when some were).
 *
 * @since 0.1.0
 * @category metadata
 */
export const DroppedSpansKey = StoreSpan.DroppedSpansKey

/**
 * @since 0.1.0
 * @category tags
 */
export class TraceStore extends Context.Tag("effect-llm-trace/TraceStore")<TraceStore, {
  readonly getTrace: (traceId: string) => Effect.Effect<Option.Option<Trace>, TraceStoreError>
  /**
   * Newest first, by each trace's earliest span start time; `endpoint` also matches replayed copies.
   *
   * @deprecated since 0.2.0: use `listTraces`, whose summaries say more and which pages.
   */
  readonly searchTraces: (options?: SearchOptions) => Effect.Effect<ReadonlyArray<TraceSummary>, TraceStoreError>
  /** One page of summaries, newest first (by start, then trace id). @since 0.2.0 */
  readonly listTraces: (query: ListQuery) => Effect.Effect<Page, TraceStoreError>
  /** @since 0.2.0 */
  readonly usage: (query: UsageQuery) => Effect.Effect<Usage, TraceStoreError>
  /** @since 0.2.0 */
  readonly stats: Effect.Effect<Stats>
  /** Waits until every span ended so far is readable (the file store writes in the background). @since 0.2.0 */
  readonly flush: Effect.Effect<void>
  /** The OTel SpanProcessor that feeds this store (registered by the Telemetry layers). */
  readonly spanProcessor: SpanProcessor
}>() {}

// Constructors ----------------------------------------------------------------------------------------------------

/**
 * A new, empty in-memory store (bounded by `maxTraces` and `maxSpansPerTrace`; `path` and the file options are
 * ignored). Synchronous: all state is plain JS owned by the returned service, and a span is readable as soon as
 * it ends.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options?: Options): TraceStore["Type"] => StoreLive.withLive(internalMemory.make(options))

/**
 * The store `options.path` asks for: in memory ({@link make}) when it is absent or `":memory:"`, else a SQLite
 * file, opened (and migrated) now; a corrupt, locked or unreadable file fails with an `Open`
 * {@link TraceStoreError}. The file store's writer runs in the scope; closing the scope writes what is queued,
 * then closes the file.
 *
 * @since 0.2.0
 * @category constructors
 */
export const makeScoped = (options?: Options): Effect.Effect<TraceStore["Type"], TraceStoreError, Scope.Scope> =>
  options?.path === undefined || options.path === ":memory:"
    ? Effect.sync(() => make(options))
    : Effect.map(internalSql.make({ ...options, path: options.path }), StoreLive.withLive)

/**
 * A fresh store per layer build ({@link makeScoped}). Feed it by registering `spanProcessor` with a tracer
 * provider (the `Telemetry` layers do), or use `Telemetry.layer`, which builds its own.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options?: Options): Layer.Layer<TraceStore, TraceStoreError> =>
  Layer.scoped(TraceStore, makeScoped(options))
