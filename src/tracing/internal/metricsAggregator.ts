/**
 * Cumulative histograms and counters kept by the library itself, read by the OpenTelemetry SDK's readers through a
 * `MetricProducer` (see `metricsPipeline.ts`).
 *
 * Why not the SDK's synchronous instruments: every `record` there hashes the attribute set (sorted keys,
 * `JSON.stringify`) once per reader, 2–3 µs each on this machine, and time per output chunk is one measurement per
 * streamed chunk: 80–120 µs for a 20-chunk call, 1.2–2.4 ms for 500 chunks (`bench/metrics.bench.ts`). Here a
 * call's chunk intervals are bucketed as they arrive (`ChunkTimes`, ~20 ns per chunk) and merged into their series
 * once: recording a call costs 0.3–0.7 µs whatever its length.
 *
 * Semantics follow the SDK's explicit-bucket histogram: bucket `i` counts values in `(bounds[i-1], bounds[i]]`, the
 * last one values above the last bound; NaN and infinities are ignored; series are cumulative from their first
 * measurement; past `maxSeries` distinct attribute sets, measurements go to one `otel.metric.overflow` series.
 *
 * @internal
 */
import type { Attributes, HrTime, ValueType } from "@opentelemetry/api"
import { millisToHrTime } from "@opentelemetry/core"
import { AggregationTemporality, DataPointType, type MetricData } from "@opentelemetry/sdk-metrics"

/** @internal */
export interface Descriptor {
  readonly name: string
  readonly description: string
  readonly unit: string
  readonly valueType: ValueType
}

/** The bucket of `value`: the first `i` with `value <= bounds[i]`, else `bounds.length`. @internal */
export const bucketIndex = (bounds: ArrayLike<number>, value: number): number => {
  let lo = 0
  let hi = bounds.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (value <= bounds[mid]!) hi = mid
    else lo = mid + 1
  }
  return lo
}

/**
 * Counts, sum, min and max over explicit buckets: one series' state, or one call's chunk intervals. The counts are
 * a plain array: a typed array costs an ArrayBuffer per call (0.5–0.8 µs of CPU to allocate and collect here).
 *
 * @internal
 */
export class Buckets {
  readonly counts: Array<number>
  sum = 0
  min = Infinity
  max = -Infinity
  count = 0
  constructor(readonly bounds: ReadonlyArray<number>) {
    this.counts = new Array<number>(bounds.length + 1).fill(0)
  }
  /** Adds one value; negative values (a clock stepping back) count as 0, non-finite ones are ignored. */
  record(value: number): void {
    if (!Number.isFinite(value)) return
    const v = value < 0 ? 0 : value
    this.counts[bucketIndex(this.bounds, v)]! += 1
    this.sum += v
    if (v < this.min) this.min = v
    if (v > this.max) this.max = v
    this.count += 1
  }
  /** Adds every value `other` holds (same bounds). */
  merge(other: Buckets): void {
    if (other.count === 0) return
    for (let i = 0; i < this.counts.length; i++) this.counts[i]! += other.counts[i]!
    this.sum += other.sum
    if (other.min < this.min) this.min = other.min
    if (other.max > this.max) this.max = other.max
    this.count += other.count
  }
}

const overflowAttributes: Attributes = Object.freeze({ "otel.metric.overflow": true })

interface Series<S> {
  readonly attributes: Attributes
  readonly start: HrTime
  readonly state: S
}

/** Series by key (the caller's encoding of the attribute values), bounded; state per series. */
abstract class Instrument<S> {
  private readonly series = new Map<string, Series<S>>()
  private overflow: Series<S> | undefined = undefined
  constructor(readonly descriptor: Descriptor, private readonly maxSeries: number) {}

  protected abstract initial(): S

  /**
   * The state of the series `key`; on first use its attributes are `build(arg)` (a plain function and its argument,
   * so that the common path allocates nothing).
   */
  stateOf<A>(key: string, build: (arg: A) => Attributes, arg: A): S {
    const found = this.series.get(key)
    if (found !== undefined) return found.state
    if (this.series.size >= this.maxSeries) {
      this.overflow ??= this.make(overflowAttributes)
      return this.overflow.state
    }
    const made = this.make(Object.freeze(build(arg)))
    this.series.set(key, made)
    return made.state
  }

  private make(attributes: Attributes): Series<S> {
    return { attributes, start: millisToHrTime(Date.now()), state: this.initial() }
  }

  protected all(): Array<Series<S>> {
    const all = [...this.series.values()]
    if (this.overflow !== undefined) all.push(this.overflow)
    return all
  }

  abstract snapshot(end: HrTime): MetricData | undefined
}

/** @internal */
export class Histogram extends Instrument<Buckets> {
  constructor(descriptor: Descriptor, readonly bounds: ReadonlyArray<number>, maxSeries: number) {
    super(descriptor, maxSeries)
  }
  protected initial(): Buckets {
    return new Buckets(this.bounds)
  }
  snapshot(end: HrTime): MetricData | undefined {
    // A series whose only value was ignored (NaN) has nothing to report.
    const series = this.all().filter((s) => s.state.count > 0)
    if (series.length === 0) return undefined
    return {
      descriptor: this.descriptor,
      aggregationTemporality: AggregationTemporality.CUMULATIVE,
      dataPointType: DataPointType.HISTOGRAM,
      dataPoints: series.map(({ attributes, start, state }) => ({
        attributes,
        startTime: start,
        endTime: end,
        value: {
          buckets: { boundaries: [...this.bounds], counts: state.counts.slice() },
          sum: state.sum,
          count: state.count,
          min: state.min,
          max: state.max
        }
      }))
    }
  }
}

/** A monotonic sum. @internal */
export class Counter extends Instrument<{ value: number }> {
  protected initial(): { value: number } {
    return { value: 0 }
  }
  /** Adds `n` (ignored unless finite and non-negative: the sum is monotonic). */
  static add(state: { value: number }, n: number): void {
    if (Number.isFinite(n) && n >= 0) state.value += n
  }
  snapshot(end: HrTime): MetricData | undefined {
    const series = this.all()
    if (series.length === 0) return undefined
    return {
      descriptor: this.descriptor,
      aggregationTemporality: AggregationTemporality.CUMULATIVE,
      dataPointType: DataPointType.SUM,
      isMonotonic: true,
      dataPoints: series.map(({ attributes, start, state }) => ({ attributes, startTime: start, endTime: end, value: state.value }))
    }
  }
}
