/**
 * A trace's summary, computed from its spans by a pure function, and the pure query logic over summaries (the
 * filter predicate, the newest-first order, the page cursor, usage aggregation) that the in-memory store runs
 * as is and the SQL store mirrors in SQL.
 *
 * @internal
 */
import * as Attributes from "../Attributes.js"
import type { ListQuery, StoredSpan, Summary, Tokens, Usage, UsageGroup, UsageQuery } from "../TraceStore.js"

/** @internal */
export const emptyTokens: Tokens = { input: 0, output: 0, cacheRead: 0, cacheCreation: 0, reasoning: 0 }

const tokenKeys: ReadonlyArray<readonly [keyof Tokens, string]> = [
  ["input", Attributes.GenAiUsageInputTokens],
  ["output", Attributes.GenAiUsageOutputTokens],
  ["cacheRead", Attributes.GenAiUsageCacheReadInputTokens],
  ["cacheCreation", Attributes.GenAiUsageCacheWriteInputTokens],
  ["reasoning", Attributes.GenAiUsageReasoningOutputTokens]
]

const stringAttr = (span: StoredSpan, key: string): string | undefined => {
  const value = span.attributes[key]
  return typeof value === "string" && value !== "" ? value : undefined
}

const numberAttr = (span: StoredSpan, key: string): number | undefined => {
  const value = span.attributes[key]
  return typeof value === "number" && Number.isFinite(value) ? value : undefined
}

/** By start, then span id: the summary must not depend on the order spans arrived in. */
const compareStart = (a: StoredSpan, b: StoredSpan): number => {
  const x = BigInt(a.startTimeUnixNano)
  const y = BigInt(b.startTimeUnixNano)
  return x < y ? -1 : x > y ? 1 : a.spanId < b.spanId ? -1 : a.spanId > b.spanId ? 1 : 0
}

/**
 * The span the summary describes: in a replayed copy, the copy of the gateway span (it carries
 * `mlflow.gateway.linkedTraceId`); otherwise the root (the earliest span whose parent is not in the trace).
 */
const focusOf = (ordered: ReadonlyArray<StoredSpan>): { readonly span: StoredSpan | undefined; readonly replay: boolean } => {
  const replayed = ordered.find((span) => stringAttr(span, Attributes.LinkedGatewayTraceId) !== undefined)
  if (replayed !== undefined) return { span: replayed, replay: true }
  const ids = new Set(ordered.map((span) => span.spanId))
  return { span: ordered.find((span) => span.parentSpanId === null || !ids.has(span.parentSpanId)), replay: false }
}

const statuses = { OK: "ok", ERROR: "error", UNSET: "unset" } as const

const pushOnce = (into: Array<string>, value: string | undefined): void => {
  if (value !== undefined && !into.includes(value)) into.push(value)
}

/** Nanoseconds (decimal string) to whole microseconds: the sort key, exact in a JS number until year 2255. */
/** @internal */
export const toMicros = (nanos: string): number => Number(BigInt(nanos) / 1000n)

/**
 * The summary of a trace, from its metadata and its spans (any order). A trace with no span has a zero start.
 *
 * @internal
 */
export const summarize = (
  traceId: string,
  metadata: Readonly<Record<string, string>>,
  spans: ReadonlyArray<StoredSpan>
): Summary => {
  const ordered = [...spans].sort(compareStart)
  const focus = focusOf(ordered)
  let start: bigint | undefined
  let end: bigint | undefined
  const providers: Array<string> = []
  const models: Array<string> = []
  const tokens = { ...emptyTokens }
  let streamed = false
  let ttft: number | undefined
  let endpoint = focus.span === undefined ? undefined : stringAttr(focus.span, Attributes.EndpointName)
  let errorType = focus.span === undefined ? undefined : stringAttr(focus.span, Attributes.ErrorType)
  for (const span of ordered) {
    const s = BigInt(span.startTimeUnixNano)
    const e = BigInt(span.endTimeUnixNano)
    if (start === undefined || s < start) start = s
    if (end === undefined || e > end) end = e
    endpoint ??= stringAttr(span, Attributes.EndpointName)
    pushOnce(providers, stringAttr(span, Attributes.LlmProvider) ?? stringAttr(span, Attributes.GenAiProviderName))
    pushOnce(models, stringAttr(span, Attributes.GenAiRequestModel) ?? stringAttr(span, Attributes.LlmModel))
    pushOnce(models, stringAttr(span, Attributes.GenAiResponseModel))
    if (span.attributes[Attributes.GenAiRequestStream] === true) streamed = true
    for (const [field, key] of tokenKeys) tokens[field] += numberAttr(span, key) ?? 0
    ttft ??= numberAttr(span, Attributes.GenAiResponseTimeToFirstChunk)
  }
  const status = focus.span === undefined ? "unset" : statuses[focus.span.status.code]
  if (status === "error") errorType ??= ordered.map((span) => stringAttr(span, Attributes.ErrorType)).find((t) => t !== undefined)
  const startNanos = start ?? 0n
  return {
    traceId,
    kind: focus.replay ? "replay" : "gateway",
    endpoint: endpoint ?? null,
    caller: metadata[Attributes.GatewayCaller] ?? null,
    startTime: new Date(Number(startNanos / 1_000_000n)).toISOString(),
    startTimeUnixNano: startNanos.toString(),
    durationMs: Number((end ?? startNanos) - startNanos) / 1e6,
    status,
    errorType: errorType ?? null,
    statusCode: focus.span === undefined ? null : numberAttr(focus.span, Attributes.HttpResponseStatusCode) ?? null,
    providers,
    models,
    streamed,
    tokens,
    ttftMs: ttft === undefined ? null : ttft * 1000,
    spanCount: spans.length,
    metadata
  }
}

// Queries over summaries ---------------------------------------------------------------------------------------

/** The order key: start (whole microseconds), then trace id; pages go from the largest key down. @internal */
export interface Key {
  readonly startUs: number
  readonly traceId: string
}

/** @internal */
export const keyOf = (summary: Summary): Key => ({ startUs: toMicros(summary.startTimeUnixNano), traceId: summary.traceId })

/** Newest first. @internal */
export const compareNewestFirst = (a: Key, b: Key): number =>
  b.startUs - a.startUs || (a.traceId < b.traceId ? 1 : a.traceId > b.traceId ? -1 : 0)

/** The cursor after `key`: opaque to clients (base64url of `<startUs>.<traceId>`). @internal */
export const encodeCursor = (key: Key): string => Buffer.from(`${key.startUs}.${key.traceId}`, "utf8").toString("base64url")

/** The key a cursor names, or undefined when it is not one of ours. @internal */
export const decodeCursor = (cursor: string): Key | undefined => {
  const text = Buffer.from(cursor, "base64url").toString("utf8")
  const match = /^(\d{1,16})\.([0-9a-zA-Z_-]{1,64})$/.exec(text)
  return match === null ? undefined : { startUs: Number(match[1]), traceId: match[2]! }
}

/** Whether the summary passes the query's filters (not the cursor). @internal */
export const matches = (summary: Summary, query: ListQuery): boolean => {
  const startMs = toMicros(summary.startTimeUnixNano) / 1000
  return (query.endpoint === undefined || summary.endpoint === query.endpoint) &&
    (query.kind === undefined || summary.kind === query.kind) &&
    (query.status === undefined || summary.status === query.status) &&
    (query.model === undefined || summary.models.includes(query.model)) &&
    (query.since === undefined || startMs >= query.since) &&
    (query.until === undefined || startMs < query.until) &&
    (query.minDurationMs === undefined || summary.durationMs >= query.minDurationMs)
}

/** Whether the key comes after the cursor's key in newest-first order. @internal */
export const after = (key: Key, cursor: Key | undefined): boolean =>
  cursor === undefined || compareNewestFirst(cursor, key) < 0

// Usage --------------------------------------------------------------------------------------------------------

/** Bucket widths in milliseconds. @internal */
export const bucketMs = { minute: 60_000, hour: 3_600_000 } as const

/** The bucket start (epoch ms) of a start time in ms. @internal */
export const bucketOf = (startMs: number, bucket: UsageQuery["bucket"]): number =>
  Math.floor(startMs / bucketMs[bucket]) * bucketMs[bucket]

/** The group key(s) of a summary: a trace with several models counts once for each. @internal */
export const groupKeys = (summary: Summary, groupBy: UsageQuery["groupBy"]): ReadonlyArray<string> => {
  switch (groupBy) {
    case "endpoint":
      return [summary.endpoint ?? noKey]
    case "caller":
      return [summary.caller ?? noKey]
    case "model":
      return summary.models.length === 0 ? [noKey] : summary.models
  }
}

/** The key of traces with no endpoint, caller or model (e.g. a request refused before its endpoint was known). @internal */
export const noKey = "(none)"

/** Calls, errors and tokens of one group in one bucket. @internal */
export interface Tally {
  readonly time: number
  readonly key: string
  calls: number
  errors: number
  tokens: { -readonly [K in keyof Tokens]: number }
}

const byKey = (a: string, b: string): number => a < b ? -1 : a > b ? 1 : 0

/**
 * The usage answer from per-(bucket, group) tallies: groups summed over buckets (most calls first, then by key),
 * and the series (oldest first, then by key). Shared by both backends.
 *
 * @internal
 */
export const usageOf = (tallies: Iterable<Tally>): Usage => {
  const groups = new Map<string, { readonly key: string; calls: number; errors: number; tokens: Tally["tokens"] }>()
  const series: Array<Tally> = []
  for (const tally of tallies) {
    series.push(tally)
    const group = groups.get(tally.key) ?? { key: tally.key, calls: 0, errors: 0, tokens: { ...emptyTokens } }
    groups.set(tally.key, group)
    group.calls += tally.calls
    group.errors += tally.errors
    for (const [field] of tokenKeys) group.tokens[field] += tally.tokens[field]
  }
  return {
    groups: Array.from<UsageGroup>(groups.values()).sort((a, b) => b.calls - a.calls || byKey(a.key, b.key)),
    series: series
      .sort((a, b) => a.time - b.time || byKey(a.key, b.key))
      .map((t) => ({ time: new Date(t.time).toISOString(), key: t.key, calls: t.calls, errors: t.errors, tokens: t.tokens }))
  }
}

/**
 * Usage over gateway summaries (replayed copies would count calls twice) started within the query's window.
 *
 * @internal
 */
export const usage = (summaries: Iterable<Summary>, query: UsageQuery): Usage => {
  const tallies = new Map<string, Tally>()
  for (const summary of summaries) {
    if (summary.kind !== "gateway" || !matches(summary, { since: query.since, until: query.until, limit: 1 })) continue
    const time = bucketOf(toMicros(summary.startTimeUnixNano) / 1000, query.bucket)
    for (const key of groupKeys(summary, query.groupBy)) {
      const id = `${time}\u0000${key}`
      const tally = tallies.get(id) ?? { time, key, calls: 0, errors: 0, tokens: { ...emptyTokens } }
      tallies.set(id, tally)
      tally.calls++
      if (summary.status === "error") tally.errors++
      for (const [field] of tokenKeys) tally.tokens[field] += summary.tokens[field]
    }
  }
  return usageOf(tallies.values())
}
