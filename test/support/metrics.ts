/**
 * Reading metrics back in tests: from the SDK's `ResourceMetrics` (what every reader sees) and from the Prometheus
 * text of `GET /metrics`, parsed line by line (HELP/TYPE metadata and samples with their labels).
 */
import type { Attributes } from "@opentelemetry/api"
import {
  DataPointType,
  type DataPoint,
  type Histogram,
  type MetricData,
  type ResourceMetrics
} from "@opentelemetry/sdk-metrics"

/** The metric called `name`, or undefined when nothing was recorded on it. */
export const metric = (metrics: ResourceMetrics, name: string): MetricData | undefined =>
  metrics.scopeMetrics.flatMap((s) => s.metrics).find((m) => m.descriptor.name === name)

/** Every histogram point of `name` (none when the metric is absent). */
export const histogramPoints = (metrics: ResourceMetrics, name: string): Array<DataPoint<Histogram>> => {
  const found = metric(metrics, name)
  if (found === undefined) return []
  if (found.dataPointType !== DataPointType.HISTOGRAM) throw new Error(`${name} is not a histogram`)
  return found.dataPoints
}

/** Every sum point of `name`. */
export const sumPoints = (metrics: ResourceMetrics, name: string): Array<DataPoint<number>> => {
  const found = metric(metrics, name)
  if (found === undefined) return []
  if (found.dataPointType !== DataPointType.SUM) throw new Error(`${name} is not a sum`)
  return found.dataPoints
}

const sameAttributes = (a: Attributes, b: Attributes): boolean => {
  const keys = Object.keys(a)
  return keys.length === Object.keys(b).length && keys.every((k) => a[k] === b[k])
}

/** The one point of `name` whose attributes are exactly `attributes`. */
export const pointWith = <T>(points: ReadonlyArray<DataPoint<T>>, attributes: Attributes): DataPoint<T> => {
  const found = points.filter((p) => sameAttributes(p.attributes, attributes))
  if (found.length !== 1) {
    throw new Error(`expected one point with ${JSON.stringify(attributes)}, found ${found.length} among ${JSON.stringify(points.map((p) => p.attributes))}`)
  }
  return found[0]!
}

/** The bucket counts a histogram holding exactly `values` has over `bounds` (upper bounds inclusive). */
export const expectedCounts = (bounds: ReadonlyArray<number>, values: ReadonlyArray<number>): Array<number> => {
  const counts = new Array<number>(bounds.length + 1).fill(0)
  for (const v of values) {
    let i = 0
    while (i < bounds.length && v > bounds[i]!) i++
    counts[i]!++
  }
  return counts
}

// Prometheus text --------------------------------------------------------------------------------------------------

export interface Sample {
  readonly name: string
  readonly labels: Readonly<Record<string, string>>
  readonly value: number
}

export interface Exposition {
  /** `# TYPE` per metric family. */
  readonly types: ReadonlyMap<string, string>
  readonly samples: ReadonlyArray<Sample>
}

const sampleLine = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: \d+)?$/
const label = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g

const unescape = (value: string): string => value.replace(/\\(["\\n])/g, (_, c: string) => (c === "n" ? "\n" : c))

const number = (text: string): number =>
  text === "+Inf" ? Infinity : text === "-Inf" ? -Infinity : text === "NaN" ? NaN : Number(text)

/** Parses the text format 0.0.4; throws on a line that is neither a comment nor a sample. */
export const parsePrometheus = (body: string): Exposition => {
  const types = new Map<string, string>()
  const samples: Array<Sample> = []
  for (const line of body.split("\n")) {
    if (line.trim() === "") continue
    if (line.startsWith("#")) {
      const type = line.match(/^# TYPE (\S+) (\S+)$/)
      if (type !== null) types.set(type[1]!, type[2]!)
      continue
    }
    const match = line.match(sampleLine)
    if (match === null) throw new Error(`not a Prometheus sample line: ${JSON.stringify(line)}`)
    const labels: Record<string, string> = {}
    for (const [, key, value] of (match[2] ?? "").matchAll(label)) labels[key!] = unescape(value!)
    samples.push({ name: match[1]!, labels, value: number(match[3]!) })
  }
  return { types, samples }
}

/** The samples called `name` whose labels include every `labels` pair. */
export const samplesWith = (
  exposition: Exposition,
  name: string,
  labels: Readonly<Record<string, string>>
): Array<Sample> =>
  exposition.samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
