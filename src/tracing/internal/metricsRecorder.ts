/**
 * `recordCall` and `recordRequest`: a record becomes attribute sets (bounded) and measurements on the instruments
 * of `metricsInstruments.ts`. Synchronous, no Effect. A call's series are found with one nested lookup on its
 * attribute values (no key built); keys and attribute objects are made only for a series' first measurement.
 *
 * @internal
 */
import type { Attributes, HrTime } from "@opentelemetry/api"
import type { MetricData } from "@opentelemetry/sdk-metrics"
import * as A from "../Attributes.js"
import type { CallRecord, ChunkTimes, RequestRecord } from "../Metrics.js"
import { Buckets, Counter, type Descriptor, Histogram } from "./metricsAggregator.js"
import * as Instruments from "./metricsInstruments.js"

/** The fallback value of a capped attribute (the semconv's own fallback for `error.type`). @internal */
export const Other = "_OTHER"

/** Longer values are folded into `_OTHER`: a cap on distinct values alone would not bound memory. */
const maxValueLength = 256

/**
 * Lets through the first `max` distinct values it sees (plus the `known` ones, always) and folds every later one
 * into `_OTHER`. Empty strings count as absent.
 *
 * @internal
 */
export class ValueLimit {
  private readonly seen: Set<string>
  private added = 0
  constructor(private readonly max: number, known: Iterable<string>) {
    this.seen = new Set(known)
  }
  apply(value: string | undefined): string | undefined {
    if (value === undefined || value === "") return undefined
    if (this.seen.has(value)) return value
    if (this.added >= this.max || value.length > maxValueLength) return Other
    this.seen.add(value)
    this.added++
    return value
  }
}

// Chunk times --------------------------------------------------------------------------------------------------

/** @internal */
export const ChunkTimesTypeId: unique symbol = Symbol.for("effect-llm-trace/Metrics/ChunkTimes")

/** @internal */
export class ChunkTimesImpl implements ChunkTimes {
  readonly [ChunkTimesTypeId]: typeof ChunkTimesTypeId = ChunkTimesTypeId
  /** The intervals between chunks, from the second chunk on. */
  intervals: Buckets | undefined = undefined
  first = NaN
  count = 0
  private last = NaN
  mark(seconds: number): void {
    if (!Number.isFinite(seconds)) return
    if (this.count === 0) this.first = seconds
    else (this.intervals ??= new Buckets(Instruments.durationBuckets)).record(seconds - this.last)
    this.last = seconds
    this.count++
  }
}

/** The interval buckets behind a `ChunkTimes` (only `makeChunkTimes` makes them). */
const intervalsOf = (chunks: ChunkTimes): Buckets | undefined => (chunks as ChunkTimesImpl).intervals

// Attribute sets -----------------------------------------------------------------------------------------------

/** The attributes every GenAI client metric shares, after the caps. */
interface Base {
  readonly operation: string
  readonly provider: string
  readonly requestModel: string | undefined
  readonly responseModel: string | undefined
  readonly address: string | undefined
  readonly port: number | undefined
}

const baseAttributes = (b: Base): Record<string, string | number> => {
  const out: Record<string, string | number> = { [A.GenAiOperationName]: b.operation, [A.GenAiProviderName]: b.provider }
  if (b.requestModel !== undefined) out[A.GenAiRequestModel] = b.requestModel
  if (b.responseModel !== undefined) out[A.GenAiResponseModel] = b.responseModel
  if (b.address !== undefined) out[A.ServerAddress] = b.address
  if (b.port !== undefined) out[A.ServerPort] = b.port
  return out
}

/** Base + one more attribute (absent when `value` is undefined). */
interface Extended {
  readonly base: Base
  readonly key: string
  readonly value: string | undefined
}

const extendedAttributes = (e: Extended): Attributes => {
  const out = baseAttributes(e.base)
  if (e.value !== undefined) out[e.key] = e.value
  return out
}

// Keys: attribute values joined by a separator. Values come from code, config or capped input; a NUL inside one
// could only merge two series, never corrupt one.
const sep = "\u0000"

interface Http {
  readonly method: string
  readonly scheme: string
  readonly route: string | undefined
  readonly status: number | undefined
  readonly errorType: string | undefined
  readonly endpoint: string | undefined
}

const httpAttributes = (h: Http): Attributes => {
  const out: Record<string, string | number> = { [A.HttpRequestMethod]: h.method, [A.UrlScheme]: h.scheme }
  if (h.route !== undefined) out[A.HttpRoute] = h.route
  if (h.status !== undefined) out[A.HttpResponseStatusCode] = h.status
  if (h.errorType !== undefined) out[A.ErrorType] = h.errorType
  if (h.endpoint !== undefined) out[A.EndpointName] = h.endpoint
  return out
}

const knownMethods = new Set(["CONNECT", "DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT", "TRACE"])

// The recorder -------------------------------------------------------------------------------------------------

/** @internal */
export interface RecorderOptions {
  readonly semconv: Instruments.Semconv
  readonly maxAttributeValues: number
  readonly knownValues: Iterable<string>
  /** Distinct attribute sets per instrument before the overflow series (the SDK's default, 2000). */
  readonly maxSeries: number
}

/** @internal */
export interface Recorder {
  readonly recordCall: (record: CallRecord) => void
  readonly recordRequest: (record: RequestRecord) => void
  readonly snapshot: (end: HrTime) => Array<MetricData>
}

/** The series of one `error.type` (none: the key ""), under one base attribute set. */
interface ErrorSeries {
  readonly duration: Buckets
  readonly operationInput: Buckets | undefined
  readonly operationOutput: Buckets | undefined
}

/**
 * Every series of one base attribute set, resolved on first use and kept: recording a call then costs one key and
 * one lookup, whatever the number of instruments.
 */
interface CallSeries {
  readonly base: Base
  readonly key: string
  readonly byError: Map<string, ErrorSeries>
  firstChunk: Buckets | undefined
  perChunk: Buckets | undefined
  tokenInput: Buckets | undefined
  tokenOutput: Buckets | undefined
  /** `latest` counters: input, output, cache read, cache write, reasoning. */
  usage: ReadonlyArray<{ value: number }> | undefined
}

/**
 * Values by the six base attribute values, one Map per level: a lookup builds no composite key (a concatenated key
 * costs an allocation and a hash of ~100 characters per call; these values are mostly the same string instances,
 * whose hashes V8 caches). 0.1 µs per call instead of 0.5 in `scratch` measurements.
 */
class SeriesTree<V> {
  private readonly root: Map<unknown, Map<unknown, Map<unknown, Map<unknown, Map<unknown, Map<unknown, V>>>>>> = new Map()
  size = 0
  get(
    operation: string,
    provider: string,
    requestModel: string | undefined,
    responseModel: string | undefined,
    address: string | undefined,
    port: number | undefined
  ): V | undefined {
    return this.root.get(operation)?.get(provider)?.get(requestModel)?.get(responseModel)?.get(address)?.get(port)
  }
  set(b: Base, value: V): void {
    let node = this.root as Map<unknown, unknown>
    for (const key of [b.operation, b.provider, b.requestModel, b.responseModel, b.address]) {
      let next = node.get(key) as Map<unknown, unknown> | undefined
      if (next === undefined) node.set(key, next = new Map())
      node = next
    }
    if (!node.has(b.port)) this.size++
    node.set(b.port, value)
  }
}

/** @internal */
export const make = (options: RecorderOptions): Recorder => {
  const known = [...options.knownValues]
  const limit = () => new ValueLimit(options.maxAttributeValues, known)
  const requestModels = limit()
  const responseModels = limit()
  const errorTypes = limit()
  const addresses = limit()
  const endpoints = limit()
  const routes = limit()
  const catalogue = Instruments.genAi[options.semconv]
  const histogram = (d: Descriptor, bounds: ReadonlyArray<number>) => new Histogram(d, bounds, options.maxSeries)

  const duration = histogram(catalogue.duration, Instruments.durationBuckets)
  const firstChunk = histogram(catalogue.timeToFirstChunk, Instruments.durationBuckets)
  const perChunk = histogram(catalogue.timePerOutputChunk, Instruments.durationBuckets)
  const tokenUsage = catalogue.tokenUsage === undefined ? undefined : histogram(catalogue.tokenUsage, Instruments.tokenBuckets)
  const latest = catalogue.latestTokens === undefined ? undefined : {
    operationInput: histogram(catalogue.latestTokens.operationInput, Instruments.tokenBuckets),
    operationOutput: histogram(catalogue.latestTokens.operationOutput, Instruments.tokenBuckets),
    usage: [
      catalogue.latestTokens.usageInput,
      catalogue.latestTokens.usageOutput,
      catalogue.latestTokens.usageCacheRead,
      catalogue.latestTokens.usageCacheWrite,
      catalogue.latestTokens.usageReasoning
    ].map((d) => new Counter(d, options.maxSeries))
  }
  const http = histogram(Instruments.httpServerRequestDuration, Instruments.httpBuckets)
  const all = [duration, firstChunk, perChunk, tokenUsage, latest?.operationInput, latest?.operationOutput, ...latest?.usage ?? [], http]

  // Bounded like the instruments: past maxSeries base sets, series are resolved per call and not kept.
  const calls = new SeriesTree<CallSeries>()
  const newCallSeries = (key: string, base: Base): CallSeries => {
    const made: CallSeries = {
      base,
      key,
      byError: new Map(),
      firstChunk: undefined,
      perChunk: undefined,
      tokenInput: undefined,
      tokenOutput: undefined,
      usage: undefined
    }
    if (calls.size < options.maxSeries) calls.set(base, made)
    return made
  }

  const errorSeries = (s: CallSeries, errorType: string | undefined): ErrorSeries => {
    const found = s.byError.get(errorType ?? "")
    if (found !== undefined) return found
    const key = s.key + sep + (errorType ?? "")
    const arg: Extended = { base: s.base, key: A.ErrorType, value: errorType }
    const made: ErrorSeries = {
      duration: duration.stateOf(key, extendedAttributes, arg),
      operationInput: latest?.operationInput.stateOf(key, extendedAttributes, arg),
      operationOutput: latest?.operationOutput.stateOf(key, extendedAttributes, arg)
    }
    // Bounded by the error.type cap.
    s.byError.set(errorType ?? "", made)
    return made
  }

  const recordTokens = (s: CallSeries, e: ErrorSeries, usage: CallRecord["usage"]): void => {
    if (tokenUsage !== undefined) {
      // `default`: only the counts the provider reported.
      if (usage?.inputTokens !== undefined) {
        s.tokenInput ??= tokenUsage.stateOf(s.key + sep + "input", extendedAttributes, { base: s.base, key: A.GenAiTokenType, value: "input" })
        s.tokenInput.record(usage.inputTokens)
      }
      if (usage?.outputTokens !== undefined) {
        s.tokenOutput ??= tokenUsage.stateOf(s.key + sep + "output", extendedAttributes, { base: s.base, key: A.GenAiTokenType, value: "output" })
        s.tokenOutput.record(usage.outputTokens)
      }
    }
    if (latest !== undefined) {
      // `latest`: every call, 0 for what was not reported; the counters carry `gen_ai.token.modality` = unknown
      // (the providers' usage is not broken down by modality here).
      e.operationInput?.record(usage?.inputTokens ?? 0)
      e.operationOutput?.record(usage?.outputTokens ?? 0)
      const modality: Extended = { base: s.base, key: A.GenAiTokenModality, value: "unknown" }
      const counters = s.usage ??= latest.usage.map((c) => c.stateOf(s.key, extendedAttributes, modality))
      Counter.add(counters[0]!, usage?.inputTokens ?? 0)
      Counter.add(counters[1]!, usage?.outputTokens ?? 0)
      Counter.add(counters[2]!, usage?.cacheReadInputTokens ?? 0)
      Counter.add(counters[3]!, usage?.cacheWriteInputTokens ?? 0)
      Counter.add(counters[4]!, usage?.reasoningTokens ?? 0)
    }
  }

  return {
    recordCall: (record) => {
      const requestModel = requestModels.apply(record.requestModel)
      const responseModel = responseModels.apply(record.responseModel)
      const address = addresses.apply(record.serverAddress)
      // `server.port` is only defined together with `server.address`.
      const port = address === undefined ? undefined : record.serverPort
      const s = calls.get(record.operation, record.provider, requestModel, responseModel, address, port) ??
        newCallSeries(
          record.operation + sep + record.provider + sep + (requestModel ?? "") + sep + (responseModel ?? "") + sep +
            (address ?? "") + sep + (port ?? ""),
          { operation: record.operation, provider: record.provider, requestModel, responseModel, address, port }
        )
      const key = s.key
      const e = errorSeries(s, errorTypes.apply(record.errorType))
      e.duration.record(record.duration)
      const chunks = record.chunks
      if (chunks !== undefined && chunks.count > 0) {
        s.firstChunk ??= firstChunk.stateOf(key, baseAttributes, s.base)
        s.firstChunk.record(chunks.first)
        const intervals = intervalsOf(chunks)
        if (intervals !== undefined) {
          s.perChunk ??= perChunk.stateOf(key, baseAttributes, s.base)
          s.perChunk.merge(intervals)
        }
      }
      recordTokens(s, e, record.usage)
    },
    recordRequest: (record) => {
      const status = Number.isInteger(record.status) && record.status >= 100 && record.status <= 999 ? record.status : undefined
      const h: Http = {
        method: knownMethods.has(record.method) ? record.method : Other,
        scheme: record.scheme === "https" ? "https" : "http",
        route: routes.apply(record.route),
        status,
        // The HTTP conventions: a server error status is an error; 4xx is the client's.
        errorType: errorTypes.apply(record.errorType ?? (status !== undefined && status >= 500 ? String(status) : undefined)),
        endpoint: endpoints.apply(record.endpoint)
      }
      const key = h.method + sep + h.scheme + sep + (h.route ?? "") + sep + (h.status ?? "") + sep + (h.errorType ?? "") +
        sep + (h.endpoint ?? "")
      http.stateOf(key, httpAttributes, h).record(record.duration)
    },
    snapshot: (end) => {
      const out: Array<MetricData> = []
      for (const instrument of all) {
        const data = instrument?.snapshot(end)
        if (data !== undefined) out.push(data)
      }
      return out
    }
  }
}
