/**
 * `npm run bench [-- --only sse,folds,tracing,gateway,metrics,store --mib 64 --runs 7]`: every benchmark, each printing
 * MB/s (or µs) and ratios against a peer run in this same process (metrics: in fresh processes). Run with
 * `--expose-gc` (the npm script does) so heap figures start from a collected heap.
 */
import { parseArgs } from "node:util"
import * as FoldsBench from "./folds.bench.js"
import * as GatewayBench from "./gateway.bench.js"
import * as MetricsBench from "./metrics.bench.js"
import * as SseBench from "./sse.bench.js"
import * as StoreBench from "./store.bench.js"
import * as TracingBench from "./tracing.bench.js"

const { values } = parseArgs({
  options: {
    only: { type: "string" },
    mib: { type: "string" },
    runs: { type: "string" }
  }
})

const only = values.only?.split(",")
const wants = (name: string) => only === undefined || only.includes(name)
const runs = Number(values.runs ?? 5)
const mib = (fallback: number) => Number(values.mib ?? fallback)

if (wants("sse")) await SseBench.run({ mib: mib(64), runs })
if (wants("folds")) await FoldsBench.run({ mib: mib(16), runs })
if (wants("tracing")) await TracingBench.run({ mib: mib(16), runs })
if (wants("gateway")) await GatewayBench.run({ mib: mib(64), runs, concurrency: 1000, requests: 500 })
if (wants("metrics")) await MetricsBench.run({ rounds: runs, calls: 20_000 })
if (wants("store")) await StoreBench.run({ traces: 100_000, runs: runs * 10 })
