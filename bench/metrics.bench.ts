/**
 * The per-call cost of recording a provider call's metrics (`Metrics.recordCall`), for a streamed call of 20 chunks
 * and one of 500, with the real OpenTelemetry SDK pipeline (`Metrics.layer`: the pull reader behind `/metrics` and a
 * periodic OTLP reader), against the same four histograms recorded through the SDK's own synchronous instruments
 * (one `record` per measurement, time per output chunk once per chunk), with one reader and with two.
 *
 * A call costs two steps on the request path: keeping each chunk's arrival time as it comes (ours: a
 * `ChunkTimes` and one `mark` per chunk; the SDK variants: an array of times) and recording the call at its end
 * (records cycled from a small pool, as warm in cache as the call that just finished). Every variant runs in its own
 * fresh process (JIT state is not shared), the variants interleaved round by round; each process warms up, then
 * alternates the two steps and reports CPU time per call (the machine is shared: wall time would count other
 * processes). Prints medians over the processes with min–max.
 *
 * `npx tsx bench/metrics.bench.ts [--rounds 5] [--calls 20000]` (calls of 20 chunks per process; as many chunks in
 * 500-chunk calls), or `npm run bench -- --only metrics`.
 */
import * as NodeSdk from "@opentelemetry/sdk-metrics"
import { execFileSync } from "node:child_process"
import { fileURLToPath } from "node:url"
import { parseArgs } from "node:util"
import { Context, Effect, Layer, Option, Scope } from "effect"
import type * as MetricsT from "../src/tracing/Metrics.js"
import { median } from "./support.js"
import { compiled } from "./support.js"

// The compiled package (dist/), as users run it: `npm run bench` builds it first.
const Metrics = await compiled<typeof MetricsT>("tracing/Metrics.js")

type Variant = "ours" | "sdk, 1 reader" | "sdk, 2 readers"
const variants: ReadonlyArray<Variant> = ["ours", "sdk, 1 reader", "sdk, 2 readers"]
const chunkCounts = [20, 500] as const

interface Result {
  /** CPU µs per call to keep its chunks' arrival times (ours: a `ChunkTimes` and one `mark` per chunk). */
  readonly markUs: number
  /** CPU µs per call to record it (`recordCall`, or the SDK records). */
  readonly recordUs: number
}

// One measured process ----------------------------------------------------------------------------------------------

const providers = [
  { operation: "chat", provider: "openai", requestModel: "gpt-4o-mini", responseModel: "gpt-4o-mini-2024-07-18", serverAddress: "api.openai.com", serverPort: 443 },
  { operation: "chat", provider: "anthropic", requestModel: "claude-sonnet-4-5", responseModel: "claude-sonnet-4-5-20250929", serverAddress: "api.anthropic.com", serverPort: 443 },
  { operation: "generate_content", provider: "gcp.gemini", requestModel: "gemini-2.5-flash", responseModel: "gemini-2.5-flash", serverAddress: "generativelanguage.googleapis.com", serverPort: 443 }
] as const

/** Arrival times of a stream of `n` chunks: first after 0.3 s, then every 15–45 ms. */
const arrivals = (n: number, seed: number): Float64Array => {
  const times = new Float64Array(n)
  let t = 0.3
  for (let k = 0; k < n; k++) {
    times[k] = t
    t += 0.015 + ((seed * 7 + k * 13) % 31) / 1000
  }
  return times
}

/** A few distinct streams, cycled through (a pool small enough to stay in cache, like the call just finished). */
const poolSize = 48

/** CPU time (user + system, µs) per run of `body`: the machine is shared, wall time counts other processes. */
const cpuPerRun = (count: number, body: (i: number) => void): number => {
  const start = process.cpuUsage()
  for (let i = 0; i < count; i++) body(i)
  const used = process.cpuUsage(start)
  return (used.user + used.system) / count
}

/** Warms both steps up, then alternates them `passes` times; medians. */
const measure = (calls: number, mark: (i: number) => void, record: (i: number) => void): Result => {
  cpuPerRun(calls, mark)
  cpuPerRun(calls, record)
  const marks: Array<number> = []
  const records: Array<number> = []
  for (let pass = 0; pass < 5; pass++) {
    marks.push(cpuPerRun(calls, mark))
    records.push(cpuPerRun(calls, record))
  }
  return { markUs: median(marks), recordUs: median(records) }
}

/** A closed port: the OTLP reader's exports (never due within the run) would fail fast. */
const idleOtlp = { url: "http://127.0.0.1:9/v1/metrics", protocol: "http/protobuf", exportInterval: "1 hour" } as const

let sink = 0

const ours = async (chunks: number, calls: number): Promise<Result> => {
  // The pipeline stays up for the whole process (its scope is never closed: the process exits).
  const scope = Effect.runSync(Scope.make())
  const context = await Effect.runPromise(Layer.buildWithScope(Metrics.layer({ otlp: idleOtlp }), scope))
  const metrics = Context.get(context, Metrics.Metrics)
  const streams = Array.from({ length: poolSize }, (_, s) => arrivals(chunks, s))
  const marked = (times: Float64Array) => {
    const marks = Metrics.makeChunkTimes()
    for (let k = 0; k < times.length; k++) marks.mark(times[k]!)
    return marks
  }
  const pool: Array<MetricsT.CallRecord> = streams.map((times, i) => ({
    ...providers[i % providers.length]!,
    duration: times[times.length - 1]! + 0.05,
    chunks: marked(times),
    usage: { inputTokens: 500 + i * 7, outputTokens: chunks * 3 }
  }))
  const result = measure(
    calls,
    (i) => {
      sink += marked(streams[i % poolSize]!).count
    },
    (i) => metrics.recordCall(pool[i % poolSize]!)
  )
  const collected = Option.getOrThrow(await Effect.runPromise(metrics.collect))
  if (collected.scopeMetrics[0]!.metrics.length !== 4) throw new Error("ours: nothing recorded")
  return result
}

class Pull extends NodeSdk.MetricReader {
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve()
  }
  protected override onShutdown(): Promise<void> {
    return Promise.resolve()
  }
}

const seconds = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92]
const tokenBounds = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864]

const sdk = async (readers: 1 | 2, chunks: number, calls: number): Promise<Result> => {
  const { OTLPMetricExporter } = await import("@opentelemetry/exporter-metrics-otlp-proto")
  const pull = new Pull()
  const all: Array<NodeSdk.MetricReader> = [pull]
  if (readers === 2) {
    all.push(new NodeSdk.PeriodicExportingMetricReader({ exporter: new OTLPMetricExporter({ url: idleOtlp.url }), exportIntervalMillis: 3_600_000 }))
  }
  const meter = new NodeSdk.MeterProvider({ readers: all }).getMeter("bench")
  const histogram = (name: string, unit: string, bounds: Array<number>) =>
    meter.createHistogram(name, { unit, advice: { explicitBucketBoundaries: bounds } })
  const duration = histogram("gen_ai.client.operation.duration", "s", seconds)
  const ttfc = histogram("gen_ai.client.operation.time_to_first_chunk", "s", seconds)
  const tpoc = histogram("gen_ai.client.operation.time_per_output_chunk", "s", seconds)
  const tokens = histogram("gen_ai.client.token.usage", "{token}", tokenBounds)
  const streams = Array.from({ length: poolSize }, (_, s) => arrivals(chunks, s))
  // The arrival times kept as the stream goes (what the record step then reads).
  const keep = (times: Float64Array) => {
    const kept: Array<number> = []
    for (let k = 0; k < times.length; k++) kept.push(times[k]!)
    return kept
  }
  const pool = streams.map(keep)
  const result = measure(
    calls,
    (i) => {
      sink += keep(streams[i % poolSize]!).length
    },
    (i) => {
      const p = providers[i % providers.length]!
      const kept = pool[i % poolSize]!
      const base = {
        "gen_ai.operation.name": p.operation,
        "gen_ai.provider.name": p.provider,
        "gen_ai.request.model": p.requestModel,
        "gen_ai.response.model": p.responseModel,
        "server.address": p.serverAddress,
        "server.port": p.serverPort
      }
      duration.record(kept[kept.length - 1]! + 0.05, base)
      ttfc.record(kept[0]!, base)
      for (let k = 1; k < kept.length; k++) tpoc.record(kept[k]! - kept[k - 1]!, base)
      tokens.record(500 + i * 7, { ...base, "gen_ai.token.type": "input" })
      tokens.record(chunks * 3, { ...base, "gen_ai.token.type": "output" })
    }
  )
  const { resourceMetrics } = await pull.collect()
  if (resourceMetrics.scopeMetrics[0]!.metrics.length !== 4) throw new Error("sdk: nothing recorded")
  return result
}

// The comparison ------------------------------------------------------------------------------------------------

const self = fileURLToPath(import.meta.url)

const measureInChild = (variant: Variant, chunks: number, calls: number): Result => {
  const out = execFileSync(
    process.execPath,
    ["--import", "tsx", self, "--child", variant, "--chunks", String(chunks), "--calls", String(calls)],
    { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] }
  )
  return JSON.parse(out.trim().split("\n").at(-1)!) as Result
}

const fmt = (xs: ReadonlyArray<number>, digits: number) =>
  `${median(xs).toFixed(digits)} (${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)})`

export const run = async (options: { readonly rounds: number; readonly calls: number }) => {
  const results = new Map<string, Array<Result>>()
  for (let round = 0; round < options.rounds; round++) {
    for (const chunks of chunkCounts) {
      for (const variant of variants) {
        const key = `${variant}|${chunks}`
        const list = results.get(key) ?? []
        // The same number of chunks per process whatever the stream length.
        list.push(measureInChild(variant, chunks, Math.max(200, Math.round((options.calls * 20) / chunks))))
        results.set(key, list)
      }
    }
  }
  console.log(`\nMetrics: one streamed call, CPU µs per call (median of 5 passes of ${options.calls} calls of 20 chunks, or as many chunks in longer calls, per process; ${options.rounds} fresh processes per row: median (min–max)), node ${process.version}`)
  console.log("| variant | chunks | keeping chunk times | recording the call | total |")
  console.log("| --- | ---: | ---: | ---: | ---: |")
  const total = (r: Result) => r.markUs + r.recordUs
  for (const chunks of chunkCounts) {
    for (const variant of variants) {
      const list = results.get(`${variant}|${chunks}`)!
      console.log(`| ${variant} | ${chunks} | ${fmt(list.map((r) => r.markUs), 2)} | ${fmt(list.map((r) => r.recordUs), 2)} | ${fmt(list.map(total), 2)} |`)
    }
  }
  for (const chunks of chunkCounts) {
    const ours = median(results.get(`ours|${chunks}`)!.map(total))
    for (const variant of variants.slice(1)) {
      const theirs = median(results.get(`${variant}|${chunks}`)!.map(total))
      console.log(`${chunks} chunks, total: ${variant} / ours = ${(theirs / ours).toFixed(0)}×`)
    }
  }
}

const { values } = parseArgs({
  options: {
    child: { type: "string" },
    chunks: { type: "string" },
    calls: { type: "string" },
    rounds: { type: "string" }
  },
  strict: false
})

const isMain = process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]
if (isMain && typeof values.child === "string") {
  const chunks = Number(values.chunks)
  const calls = Number(values.calls)
  const variant = values.child as Variant
  const result = variant === "ours" ? await ours(chunks, calls) : await sdk(variant === "sdk, 1 reader" ? 1 : 2, chunks, calls)
  console.log(JSON.stringify(result))
  if (sink < 0) console.log(sink)
  process.exit(0)
} else if (isMain) {
  await run({ rounds: Number(values.rounds ?? 5), calls: Number(values.calls ?? 20_000) })
}
