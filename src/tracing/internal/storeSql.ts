/**
 * The SQLite file trace store (`@effect/sql` over `@effect/sql-libsql`).
 *
 * - Spans are queued by the span processor (synchronously, never blocking: a full queue drops and counts) and a
 *   writer fiber writes the queue in batches, each after letting spans gather for `gatherMs`: per batch, the
 *   touched traces' stored spans are read back, each trace's summary is recomputed (`summary.summarize`) and
 *   written in columns with the new spans, all in one transaction of multi-row inserts.
 * - Retention runs after each batch, a bounded number of traces at a time: traces that started more than
 *   `maxAgeDays` ago, then the oldest while the stored bytes exceed `maxBytes`.
 * - The store's own SQL is never traced (its spans would be stored, and so on).
 *
 * @internal
 */
import * as Reactivity from "@effect/experimental/Reactivity"
import * as Migrator from "@effect/sql/Migrator"
import * as SqlClient from "@effect/sql/SqlClient"
import type * as Statement from "@effect/sql/Statement"
import * as LibsqlClient from "@effect/sql-libsql/LibsqlClient"
import type { SpanProcessor } from "@opentelemetry/sdk-trace-base"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import { mkdirSync } from "node:fs"
import { dirname, resolve } from "node:path"
import { pathToFileURL } from "node:url"
import * as TraceStore from "../TraceStore.js"
import * as StoreSpan from "./storeSpan.js"
import * as Summaries from "./summary.js"

/** @internal */
export interface Options extends TraceStore.Options {
  readonly path: string
}

const dayMs = 86_400_000
/**
 * Spans per write transaction. The SQLite calls are synchronous (~0.07 ms per span), so a full batch blocks the
 * event loop for tens of ms; smaller ones cost more per span (32: 8,200 instead of 15,000 spans/s in the store
 * bench) and did not change the gateway's p99 at 50 req/s, which young-generation GC pauses bound. Under a steady
 * load the writer's batches hold what gathered in `gatherMs`, far fewer.
 */
const batchSpans = 500
/**
 * How long the writer lets spans gather after the first one is queued: one transaction then holds many traces
 * instead of one (each transaction's fixed work — BEGIN, the summary lookup, COMMIT, the retention check — was the
 * largest cost of a traced gateway request). `flush` does not wait for it.
 */
const gatherMs = 50
/** Traces deleted per retention step. */
const retentionStep = 500
/** Rows per multi-row INSERT (SQLite bounds the bound parameters of one statement). */
const rowsPerInsert = 200

// Schema ---------------------------------------------------------------------------------------------------------

const migrations = Migrator.fromRecord({
  "1_traces": Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    yield* sql`CREATE TABLE traces (
      trace_id TEXT PRIMARY KEY NOT NULL,
      start_us INTEGER NOT NULL,
      kind TEXT NOT NULL,
      endpoint TEXT,
      caller TEXT,
      status TEXT NOT NULL,
      duration_ms REAL NOT NULL,
      models TEXT NOT NULL,
      input_tokens INTEGER NOT NULL,
      output_tokens INTEGER NOT NULL,
      cache_read_tokens INTEGER NOT NULL,
      cache_creation_tokens INTEGER NOT NULL,
      reasoning_tokens INTEGER NOT NULL,
      dropped INTEGER NOT NULL,
      bytes INTEGER NOT NULL,
      metadata TEXT NOT NULL,
      summary TEXT NOT NULL
    )`
    yield* sql`CREATE INDEX traces_by_start ON traces (start_us DESC, trace_id DESC)`
    yield* sql`CREATE INDEX traces_by_endpoint ON traces (endpoint, start_us DESC, trace_id DESC)`
    // Errors are sparse: without it, a page of errors scans the newest traces until it has found enough.
    yield* sql`CREATE INDEX traces_by_status ON traces (status, start_us DESC, trace_id DESC)`
    // A rowid table: span rows are large (JSON), which a WITHOUT ROWID b-tree holds badly (measured 2x slower).
    yield* sql`CREATE TABLE spans (
      trace_id TEXT NOT NULL,
      span_id TEXT NOT NULL,
      data TEXT NOT NULL
    )`
    yield* sql`CREATE UNIQUE INDEX spans_by_trace ON spans (trace_id, span_id)`
  })
})

// Opening --------------------------------------------------------------------------------------------------------

/** The underlying SQLite message (`file is not a database`, `database is locked`, ...), one line. */
const causeText = (error: unknown): string => {
  let current: unknown = error
  for (let depth = 0; depth < 5 && typeof current === "object" && current !== null; depth++) {
    const cause = (current as { readonly cause?: unknown }).cause
    if (cause === undefined) break
    current = cause
  }
  const text = current instanceof Error ? current.message : String(current)
  return text.split("\n", 1)[0] ?? text
}

const openError = (path: string, error: unknown) =>
  new TraceStore.TraceStoreError({
    reason: "Open",
    message: `cannot open the trace store ${path}: ${causeText(error)} (move the file away, or set tracing.store.path)`,
    cause: error
  })

const readError = (error: unknown) =>
  new TraceStore.TraceStoreError({ reason: "Read", message: `the trace store could not be read: ${causeText(error)}`, cause: error })

/** The client on `path` (its folder created), checked readable, migrated, tuned for one writer. */
const open = (path: string) =>
  Effect.gen(function*() {
    const file = resolve(path)
    yield* Effect.try({ try: () => mkdirSync(dirname(file), { recursive: true }), catch: (e) => openError(path, e) })
    const sql = yield* LibsqlClient.make({ url: pathToFileURL(file).href, intMode: "number" }).pipe(
      Effect.provide(Reactivity.layer),
      // The client opens the file synchronously and throws (a defect) when it cannot.
      Effect.catchAllDefect((defect) => Effect.fail(openError(path, defect)))
    )
    const setup = Effect.gen(function*() {
      // Reads the header: a file that is not a database fails here. Both settings persist in the file.
      yield* sql`PRAGMA auto_vacuum = INCREMENTAL`
      yield* sql`PRAGMA journal_mode = WAL`
      yield* Migrator.make({})({ loader: migrations, table: "effect_llm_trace_migrations" }).pipe(
        Effect.provideService(SqlClient.SqlClient, sql)
      )
      // After the migration: the libsql client opens a new connection after a transaction; these are per connection.
      yield* sql`PRAGMA synchronous = NORMAL`
      yield* sql`PRAGMA busy_timeout = 5000`
      yield* sql`SELECT count(*) FROM traces`
    })
    yield* Effect.mapError(setup, (e) => openError(path, e))
    return sql
  })

// Rows -----------------------------------------------------------------------------------------------------------

interface TraceRow {
  readonly trace_id: string
  readonly metadata: string
  readonly dropped: number
  readonly bytes: number
}

// A type, not an interface: `sql.insert` takes records.
type SpanRow = {
  readonly trace_id: string
  readonly span_id: string
  readonly data: string
}

const chunks = <A>(items: ReadonlyArray<A>, size: number): Array<ReadonlyArray<A>> => {
  const out: Array<ReadonlyArray<A>> = []
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size))
  return out
}

const summaryRow = (summary: TraceStore.Summary, dropped: number, bytes: number) => ({
  trace_id: summary.traceId,
  start_us: Summaries.keyOf(summary).startUs,
  kind: summary.kind,
  endpoint: summary.endpoint,
  caller: summary.caller,
  status: summary.status,
  duration_ms: summary.durationMs,
  models: JSON.stringify(summary.models),
  input_tokens: summary.tokens.input,
  output_tokens: summary.tokens.output,
  cache_read_tokens: summary.tokens.cacheRead,
  cache_creation_tokens: summary.tokens.cacheCreation,
  reasoning_tokens: summary.tokens.reasoning,
  dropped,
  bytes,
  metadata: JSON.stringify(summary.metadata),
  summary: JSON.stringify(summary)
})

/**
 * Lets the event loop serve sockets between two batches: the SQLite calls are synchronous, and their promises
 * resolve as microtasks, which would otherwise run back to back ahead of any I/O.
 */
const yieldToIo = Effect.async<void>((resume) => {
  const handle = setImmediate(() => resume(Effect.void))
  return Effect.sync(() => clearImmediate(handle))
})

// The store ------------------------------------------------------------------------------------------------------

const positive = (value: number | undefined, fallback: number): number =>
  value === undefined || !Number.isFinite(value) || value <= 0 ? fallback : value

/** @internal */
export const make = (options: Options): Effect.Effect<TraceStore.TraceStore["Type"], TraceStore.TraceStoreError, Scope.Scope> =>
  Effect.withTracerEnabled(build(options), false)

const build = (options: Options) =>
  Effect.gen(function*() {
    const sql = yield* open(options.path)
    const maxAgeMs = positive(options.maxAgeDays, 7) * dayMs
    const maxBytes = positive(options.maxBytes, 1024 ** 3)
    const queueSize = Math.floor(positive(options.queueSize, 20_000))
    const maxSpansPerTrace = Math.floor(positive(options.maxSpansPerTrace, 10_000))

    // Written from `head` on (no O(n) shift per batch); the written part is dropped once it is all written, or once
    // it outgrows a full batch's worth and half the array (a queue that never empties must not keep written spans).
    let queue: Array<StoreSpan.Converted> = []
    let head = 0
    const pending = () => queue.length - head
    let enqueued = 0
    let done = 0
    let dropped = 0
    let failed = 0
    let failures = 0
    let storedBytes = (yield* Effect.mapError(sql<{ readonly total: number | null }>`SELECT sum(bytes) AS total FROM traces`, (e) => openError(options.path, e)))[0]?.total ?? 0
    const wake = yield* Effect.makeLatch(false)
    const hurry = yield* Effect.makeLatch(false)

    const spanProcessor: SpanProcessor = {
      onStart: () => {},
      onEnd: (span) => {
        if (pending() >= queueSize) {
          dropped++
          return
        }
        try {
          queue.push(StoreSpan.convert(span))
          enqueued++
          wake.unsafeOpen()
        } catch {
          // a malformed span is skipped: never throw into the SDK
        }
      },
      forceFlush: () => Promise.resolve(),
      shutdown: () => Promise.resolve()
    }

    // `sql.withTransaction` is not used: the libsql client opens a new connection after each transaction (and
    // never closes the old one). Only the writer fiber writes, so plain BEGIN/COMMIT on the one connection is safe;
    // readers between them share the connection and see the batch early, which does no harm.
    const transaction = <A, E>(body: Effect.Effect<A, E>) =>
      Effect.uninterruptible(Effect.gen(function*() {
        const rollback = sql.unsafe("ROLLBACK").pipe(Effect.ignore)
        yield* sql.unsafe("BEGIN IMMEDIATE")
        const result = yield* Effect.onError(body, () => rollback)
        yield* Effect.onError(sql.unsafe("COMMIT"), () => rollback)
        return result
      }))

    /** Writes one batch: the touched traces' spans and recomputed summaries, in one transaction. */
    const writeBatch = (batch: ReadonlyArray<StoreSpan.Converted>) =>
      Effect.gen(function*() {
        const byTrace = new Map<string, Array<StoreSpan.Converted>>()
        for (const item of batch) {
          const list = byTrace.get(item.span.traceId)
          if (list === undefined) byTrace.set(item.span.traceId, [item])
          else list.push(item)
        }
        const ids = [...byTrace.keys()]
        const existing = new Map<string, TraceRow>()
        const stored = new Map<string, Array<TraceStore.StoredSpan>>()
        for (const part of chunks(ids, rowsPerInsert)) {
          for (const row of yield* sql<TraceRow>`SELECT trace_id, metadata, dropped, bytes FROM traces WHERE ${sql.in("trace_id", part)}`) {
            existing.set(row.trace_id, row)
          }
          const known = part.filter((id) => existing.has(id))
          if (known.length === 0) continue
          for (const row of yield* sql<SpanRow>`SELECT trace_id, span_id, data FROM spans WHERE ${sql.in("trace_id", known)}`) {
            const list = stored.get(row.trace_id) ?? []
            stored.set(row.trace_id, list)
            list.push(JSON.parse(row.data) as TraceStore.StoredSpan)
          }
        }
        const spanRows: Array<SpanRow> = []
        const deleted: Array<readonly [string, string]> = []
        const traceRows: Array<ReturnType<typeof summaryRow>> = []
        let delta = 0
        for (const [traceId, items] of byTrace) {
          const before = existing.get(traceId)
          const spans = stored.get(traceId) ?? []
          const beforeIds = new Set(spans.map((s) => s.spanId))
          const metadata: Record<string, string> = before === undefined ? {} : JSON.parse(before.metadata) as Record<string, string>
          delete metadata[StoreSpan.DroppedSpansKey]
          let droppedSpans = before?.dropped ?? 0
          for (const { metadata: carried, span } of items) {
            Object.assign(metadata, carried)
            if (beforeIds.has(span.spanId)) continue
            if (!StoreSpan.addBounded(spans, span, maxSpansPerTrace)) droppedSpans++
          }
          const finalIds = new Set(spans.map((s) => s.spanId))
          for (const id of beforeIds) if (!finalIds.has(id)) deleted.push([traceId, id])
          let bytes = 0
          for (const span of spans) {
            const data = JSON.stringify(span)
            bytes += data.length
            if (!beforeIds.has(span.spanId)) spanRows.push({ trace_id: traceId, span_id: span.spanId, data })
          }
          const shown = droppedSpans === 0 ? metadata : { ...metadata, [StoreSpan.DroppedSpansKey]: String(droppedSpans) }
          traceRows.push(summaryRow(Summaries.summarize(traceId, shown, spans), droppedSpans, bytes))
          delta += bytes - (before?.bytes ?? 0)
        }
        yield* transaction(Effect.gen(function*() {
          for (const [traceId, spanId] of deleted) yield* sql`DELETE FROM spans WHERE trace_id = ${traceId} AND span_id = ${spanId}`
          for (const part of chunks(spanRows, rowsPerInsert)) yield* sql`INSERT OR REPLACE INTO spans ${sql.insert(part)}`
          for (const part of chunks(traceRows, rowsPerInsert / 2)) yield* sql`INSERT OR REPLACE INTO traces ${sql.insert(part)}`
        }))
        storedBytes += delta
      })

    /** Deletes traces (and their spans) by id. */
    const deleteTraces = (ids: ReadonlyArray<string>) =>
      ids.length === 0 ? Effect.void : transaction(Effect.gen(function*() {
        yield* sql`DELETE FROM spans WHERE ${sql.in("trace_id", ids)}`
        yield* sql`DELETE FROM traces WHERE ${sql.in("trace_id", ids)}`
      }))

    /** One bounded retention step: the expired traces first, then the oldest while over the byte budget. */
    const retain = Effect.gen(function*() {
      const cutoffUs = (Date.now() - maxAgeMs) * 1000
      const expired = yield* sql<{ readonly trace_id: string; readonly bytes: number }>`
        SELECT trace_id, bytes FROM traces WHERE start_us < ${cutoffUs} ORDER BY start_us LIMIT ${retentionStep}`
      let removed = expired
      if (removed.length === 0 && storedBytes > maxBytes) {
        const oldest = yield* sql<{ readonly trace_id: string; readonly bytes: number }>`
          SELECT trace_id, bytes FROM traces ORDER BY start_us, trace_id LIMIT ${retentionStep}`
        let excess = storedBytes - maxBytes
        removed = oldest.filter((row) => {
          const take = excess > 0
          excess -= row.bytes
          return take
        })
      }
      if (removed.length === 0) return false
      yield* deleteTraces(removed.map((row) => row.trace_id))
      for (const row of removed) storedBytes -= row.bytes
      yield* sql`PRAGMA incremental_vacuum(256)`
      return true
    })

    const safeRetain = retain.pipe(Effect.catchAllCause((cause) => Effect.as(logFailure("apply retention", Cause.squash(cause)), false)))

    const logFailure = (what: string, cause: unknown) =>
      failures++ % 100 === 0 ? Effect.logWarning(`effect-llm-trace: the trace store could not ${what}: ${causeText(cause)}`) : Effect.void

    /** Writes the next batch; a failed batch is counted, not retried. */
    const writeNext = Effect.suspend(() => {
      const batch = queue.slice(head, head + batchSpans)
      head += batch.length
      if (head === queue.length) {
        queue = []
        head = 0
      } else if (head >= batchSpans && head * 2 >= queue.length) {
        queue = queue.slice(head)
        head = 0
      }
      // Failures and defects (a row that does not parse) alike: the batch is counted as failed, the writer lives on.
      return writeBatch(batch).pipe(
        Effect.catchAllCause((cause) => {
          failed += batch.length
          return logFailure("write spans", Cause.squash(cause))
        }),
        Effect.ensuring(Effect.sync(() => {
          done += batch.length
        }))
      )
    })

    /** Retention steps while there is something to remove (bounded). */
    const retainAll = Effect.gen(function*() {
      for (let step = 0; step < 20 && (yield* safeRetain); step++) {
        yield* yieldToIo
      }
    })

    /** Writes everything queued now, batch by batch, then retention steps (the final drain). */
    const drain = Effect.gen(function*() {
      while (pending() > 0) {
        yield* writeNext
        yield* yieldToIo
      }
      yield* retainAll
    })

    /**
     * The writer: each batch first waits `gatherMs` for spans to gather (unless it is full, or `flush` hurries
     * it); one retention step after each batch, all of them once the queue is empty.
     */
    const writer = Effect.gen(function*() {
      yield* wake.await
      yield* wake.close
      if (pending() < batchSpans) yield* Effect.ignore(Effect.timeout(hurry.await, gatherMs))
      yield* hurry.close
      yield* writeNext
      yield* yieldToIo
      if (pending() > 0) {
        // More arrived meanwhile: another round, after its own gathering.
        wake.unsafeOpen()
        yield* safeRetain
      } else {
        yield* retainAll
      }
    }).pipe(Effect.forever)

    // A final drain when the scope closes (after the tracer provider has flushed into the queue).
    // Then the WAL is folded into the file, so that a stopped gateway leaves one file that holds everything.
    yield* Effect.addFinalizer(() =>
      Effect.withTracerEnabled(Effect.zipRight(drain, Effect.ignore(sql`PRAGMA wal_checkpoint(TRUNCATE)`)), false)
    )
    yield* Effect.forkScoped(Effect.withTracerEnabled(Effect.zipRight(safeRetain, writer), false))

    const read = <A>(effect: Effect.Effect<A, unknown>): Effect.Effect<A, TraceStore.TraceStoreError> =>
      effect.pipe(Effect.mapError(readError), Effect.withTracerEnabled(false))

    const getTrace = (traceId: string) =>
      read(Effect.gen(function*() {
        const [row] = yield* sql<{ readonly summary: string; readonly metadata: string; readonly dropped: number }>`
          SELECT summary, metadata, dropped FROM traces WHERE trace_id = ${traceId}`
        if (row === undefined) return Option.none()
        const spans = yield* sql<{ readonly data: string }>`SELECT data FROM spans WHERE trace_id = ${traceId}`
        const summary = JSON.parse(row.summary) as TraceStore.Summary
        return Option.some<TraceStore.Trace>({
          traceId,
          summary,
          metadata: summary.metadata,
          spans: StoreSpan.sortSpans(spans.map((s) => JSON.parse(s.data) as TraceStore.StoredSpan))
        })
      }))

    const where = (query: Omit<TraceStore.ListQuery, "limit" | "cursor">): Array<Statement.Fragment> => {
      const clauses: Array<Statement.Fragment> = [sql`1 = 1`]
      if (query.endpoint !== undefined) clauses.push(sql`endpoint = ${query.endpoint}`)
      if (query.kind !== undefined) clauses.push(sql`kind = ${query.kind}`)
      if (query.status !== undefined) clauses.push(sql`status = ${query.status}`)
      if (query.model !== undefined) clauses.push(sql`EXISTS (SELECT 1 FROM json_each(traces.models) WHERE value = ${query.model})`)
      if (query.since !== undefined) clauses.push(sql`start_us >= ${query.since * 1000}`)
      if (query.until !== undefined) clauses.push(sql`start_us < ${query.until * 1000}`)
      if (query.minDurationMs !== undefined) clauses.push(sql`duration_ms >= ${query.minDurationMs}`)
      return clauses
    }

    const listTraces = (query: TraceStore.ListQuery) =>
      read(Effect.gen(function*() {
        const clauses = where(query)
        const cursor = query.cursor === undefined ? undefined : Summaries.decodeCursor(query.cursor)
        if (cursor !== undefined) {
          clauses.push(sql`(start_us < ${cursor.startUs} OR (start_us = ${cursor.startUs} AND trace_id < ${cursor.traceId}))`)
        }
        const rows = yield* sql<{ readonly summary: string }>`
          SELECT summary FROM traces WHERE ${sql.and(clauses)}
          ORDER BY start_us DESC, trace_id DESC LIMIT ${query.limit + 1}`
        const traces = rows.slice(0, query.limit).map((row) => JSON.parse(row.summary) as TraceStore.Summary)
        const last = traces[traces.length - 1]
        return { traces, nextCursor: rows.length > query.limit && last !== undefined ? Summaries.encodeCursor(Summaries.keyOf(last)) : null }
      }))

    const usage = (query: TraceStore.UsageQuery) =>
      read(Effect.gen(function*() {
        const bucketUs = Summaries.bucketMs[query.bucket] * 1000
        const key = query.groupBy === "model"
          ? sql`coalesce(m.value, ${Summaries.noKey})`
          : query.groupBy === "caller"
          ? sql`coalesce(caller, ${Summaries.noKey})`
          : sql`coalesce(endpoint, ${Summaries.noKey})`
        const from = query.groupBy === "model" ? sql`traces LEFT JOIN json_each(traces.models) AS m` : sql`traces`
        const rows = yield* sql<{
          readonly k: string
          readonly bucket: number
          readonly calls: number
          readonly errors: number
          readonly input: number
          readonly output: number
          readonly cacheRead: number
          readonly cacheCreation: number
          readonly reasoning: number
        }>`SELECT ${key} AS k, (start_us / CAST(${bucketUs} AS INTEGER)) * CAST(${bucketUs} AS INTEGER) AS bucket, count(*) AS calls,
            sum(status = 'error') AS errors, sum(input_tokens) AS input, sum(output_tokens) AS output,
            sum(cache_read_tokens) AS cacheRead, sum(cache_creation_tokens) AS cacheCreation,
            sum(reasoning_tokens) AS reasoning
          FROM ${from} WHERE ${sql.and(where({ kind: "gateway", since: query.since, until: query.until }))}
          GROUP BY k, bucket`
        return Summaries.usageOf(rows.map((row) => ({
          time: row.bucket / 1000,
          key: row.k,
          calls: row.calls,
          errors: row.errors,
          tokens: { input: row.input, output: row.output, cacheRead: row.cacheRead, cacheCreation: row.cacheCreation, reasoning: row.reasoning }
        })))
      }))

    const searchTraces = (options?: TraceStore.SearchOptions) =>
      read(Effect.gen(function*() {
        const limit = options?.limit === undefined || Number.isNaN(options.limit) ? 100 : Math.max(0, Math.floor(options.limit))
        if (limit === 0) return []
        const page = yield* listTraces({ endpoint: options?.endpoint, limit: Math.min(limit, 1000) })
        return yield* Effect.forEach(page.traces, (summary) =>
          Effect.map(getTrace(summary.traceId), (trace): TraceStore.TraceSummary => ({
            traceId: summary.traceId,
            metadata: summary.metadata,
            rootSpan: Option.match(trace, { onNone: () => null, onSome: (t) => StoreSpan.rootOf(t.spans) })
          })))
      }))

    // FIFO: the spans queued before this call are written once `done` reaches their count.
    const flush = Effect.suspend(() => {
      const target = enqueued
      // Hurried until then: every batch up to the target is written without gathering.
      const hurried = Effect.zipRight(Effect.sync(() => hurry.unsafeOpen()), Effect.sleep("5 millis"))
      return done >= target ? Effect.void : Effect.asVoid(Effect.repeat(hurried, { until: () => done >= target }))
    })

    return {
      getTrace,
      searchTraces,
      listTraces,
      usage,
      stats: Effect.sync((): TraceStore.Stats => ({ backend: "sqlite", queued: pending(), dropped, failed })),
      flush,
      spanProcessor
    }
  })
