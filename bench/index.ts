/**
 * `npm run bench [-- --only sse,folds,tracing,gateway,client,store,metrics] [--quick] [--runs N] [--mib N] [--seconds N]`:
 * every benchmark, each printing its figures with the ratios to its peer or floor and the machine's load.
 * Run with `--expose-gc` (the npm script does) so heap figures start from a collected heap.
 */
import { spawnSync } from "node:child_process"
import { parseArgs } from "node:util"
import * as ClientTracingBench from "./clientTracing.bench.js"
import * as FoldsBench from "./folds.bench.js"
import * as GatewayBench from "./gateway.bench.js"
import * as MetricsBench from "./metrics.bench.js"
import * as SseBench from "./sse.bench.js"
import * as StoreBench from "./store.bench.js"
import * as TracingBench from "./tracing.bench.js"

const benches = ["sse", "folds", "tracing", "gateway", "client", "store", "metrics"] as const
type Bench = typeof benches[number]

const help = `Usage: npm run bench -- [options]

  --only LIST     comma-separated benches to run (default: all): ${benches.join(", ")}
  --quick         short run (a few minutes for everything on a quiet machine; the full run about 10):
                  fewer runs, smaller inputs, shorter windows
  --runs N        fresh processes per row (sse, tracing), runs (folds); rounds: metrics min(N, 5) (--quick 2),
                  gateway min(N, 2) (--quick 1) (default 7; --quick 3)
  --mib N         MiB per pass: sse (default 32; --quick 16) and folds (default 16; --quick 2)
  --seconds N     gateway: seconds measured per target and concurrency (default 3; --quick 1)
  --help          this text

Every bench measures the compiled package: dist/ is built first. Every JIT-sensitive variant runs in its own
fresh process. Figures on a shared machine vary: each table prints
the load average at its start.
`

const usage = (message: string): never => {
  process.stderr.write(`bench: ${message}\n\n${help}`)
  process.exit(2)
}

const parsed = (() => {
  try {
    return parseArgs({
      options: {
        only: { type: "string" },
        quick: { type: "boolean" },
        runs: { type: "string" },
        mib: { type: "string" },
        seconds: { type: "string" },
        help: { type: "boolean" }
      },
      strict: true,
      allowPositionals: false
    }).values
  } catch (error) {
    return usage(error instanceof Error ? error.message : String(error))
  }
})()

if (parsed.help === true) {
  process.stdout.write(help)
  process.exit(0)
}

/** A positive number from a flag, or the default; anything else is a usage error. */
const positive = (flag: string, value: string | undefined, fallback: number, integer: boolean): number => {
  if (value === undefined) return fallback
  const n = Number(value)
  if (value.trim() === "" || !Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) {
    return usage(`--${flag} must be a positive ${integer ? "integer" : "number"}, got ${JSON.stringify(value)}`)
  }
  return n
}

const only = parsed.only?.split(",").map((s) => s.trim()).filter((s) => s !== "")
for (const name of only ?? []) {
  if (!(benches as ReadonlyArray<string>).includes(name)) usage(`--only: unknown bench ${JSON.stringify(name)}`)
}
const wants = (name: Bench) => only === undefined || only.includes(name)
const quick = parsed.quick === true
const runs = positive("runs", parsed.runs, quick ? 3 : 7, true)
const mib = (full: number, short: number) => positive("mib", parsed.mib, quick ? short : full, false)
const seconds = positive("seconds", parsed.seconds, quick ? 1 : 3, false)

// Every bench measures the compiled package (dist/), as `npx effect-llm-trace` and library users run it: the
// sources through tsx run measurably slower (the tracing path: ~470 against ~305 µs per call here).
process.stderr.write("bench: building dist/ (npm run build)\n")
if (spawnSync("npm", ["run", "build", "--silent"], { stdio: "inherit" }).status !== 0) {
  process.stderr.write("bench: npm run build failed\n")
  process.exit(1)
}

if (wants("sse")) await SseBench.run({ mib: mib(32, 16), runs })
if (wants("folds")) await FoldsBench.run({ mib: mib(16, 2), runs })
if (wants("tracing")) await TracingBench.run({ runs, calls: quick ? 1_000 : 4_000 })
if (wants("gateway")) {
  await GatewayBench.run({
    rounds: Math.min(runs, quick ? 1 : 2),
    seconds,
    steadyCalls: quick ? 150 : 400,
    openStreams: 1000,
    coldRuns: quick ? 3 : 7
  })
}
if (wants("client")) await ClientTracingBench.run({ rounds: Math.min(runs, quick ? 2 : 5), calls: quick ? 500 : 2000, dist: "dist" })
if (wants("store")) await StoreBench.run({ traces: quick ? 20_000 : 100_000, runs: quick ? 10 : 30 })
if (wants("metrics")) await MetricsBench.run({ rounds: quick ? 2 : Math.min(runs, 5), calls: quick ? 2_000 : 20_000 })
