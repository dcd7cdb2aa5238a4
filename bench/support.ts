/**
 * Shared benchmark helpers: timing (median of runs), heap sampling, fresh worker processes and table printing.
 */
import { spawn } from "node:child_process"
import { loadavg } from "node:os"
import { getHeapStatistics } from "node:v8"

export interface Measurement {
  readonly name: string
  readonly mbPerSec: number
  readonly peakHeapMb: number
}

/** A full GC when the process runs with `--expose-gc` (the bench and its workers do); nothing otherwise. */
export const gc = (): void => {
  const collect = (globalThis as { gc?: () => void }).gc
  if (collect !== undefined) collect()
}

/** Samples heap use; call `sample()` from inside the measured loop (cheap) and read `peak` afterwards. */
export const heapSampler = () => {
  gc()
  const base = getHeapStatistics().used_heap_size
  let peak = base
  return {
    sample: (): void => {
      const used = getHeapStatistics().used_heap_size
      if (used > peak) peak = used
    },
    peakMb: (): number => (peak - base) / (1024 * 1024)
  }
}

export const median = (xs: ReadonlyArray<number>): number => {
  const sorted = [...xs].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

/** The `q` quantile of `xs` (NaN when empty: every call of a cell failed). */
export const quantile = (xs: ReadonlyArray<number>, q: number): number => {
  const sorted = [...xs].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN
}

/** One contender of a comparison: `run` does the whole job once and calls `sample` now and then (heap). */
export interface Variant {
  readonly name: string
  readonly run: (sample: () => void) => unknown | Promise<unknown>
}

/**
 * Measures every variant `runs` times, round-robin (variant A run 1, B run 1, …, A run 2, …) after one warm-up
 * each, so that drift on a shared machine hits all of them alike. A full GC precedes every run. Reports the
 * median throughput over `bytes` and the peak heap growth seen.
 */
export const compare = async (
  bytes: number,
  runs: number,
  variants: ReadonlyArray<Variant>
): Promise<Array<Measurement>> => {
  for (const v of variants) await v.run(() => {})
  const rates = variants.map((): Array<number> => [])
  const peaks = variants.map(() => 0)
  for (let i = 0; i < runs; i++) {
    for (let k = 0; k < variants.length; k++) {
      const heap = heapSampler()
      const start = performance.now()
      await variants[k]!.run(heap.sample)
      const seconds = (performance.now() - start) / 1000
      rates[k]!.push(bytes / (1024 * 1024) / seconds)
      peaks[k] = Math.max(peaks[k]!, heap.peakMb())
    }
  }
  return variants.map((v, k) => ({ name: v.name, mbPerSec: median(rates[k]!), peakHeapMb: peaks[k]! }))
}

/** Splits `bytes` into chunks of `size` bytes (views, no copies). */
export const chunked = (bytes: Uint8Array, size: number): Array<Uint8Array> => {
  const chunks: Array<Uint8Array> = []
  for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.subarray(i, Math.min(bytes.length, i + size)))
  return chunks
}

/** One variant on its own (see {@link compare}, preferred for ratios: it interleaves the contenders). */
export const measure = async (
  name: string,
  bytes: number,
  runs: number,
  run: (sample: () => void) => unknown | Promise<unknown>
): Promise<Measurement> => (await compare(bytes, runs, [{ name, run }]))[0]!

/** CPU seconds (user + system, all threads) this process has used: on a shared machine wall time counts others. */
export const cpuSeconds = (): number => {
  const { user, system } = process.cpuUsage()
  return (user + system) / 1e6
}

/**
 * Runs `node --expose-gc --import tsx <script> <args>` in a fresh process and parses the JSON on the last line of
 * its stdout: each JIT-sensitive measurement gets a process of its own, with nothing warmed before it.
 */
export const inFreshProcess = <A>(script: string, args: ReadonlyArray<string>): Promise<A> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--expose-gc", "--import", "tsx", script, ...args], {
      stdio: ["ignore", "pipe", "inherit"]
    })
    let out = ""
    child.stdout.setEncoding("utf8").on("data", (s: string) => out += s)
    child.on("error", reject)
    child.on("exit", (code) => {
      const last = out.trim().split("\n").at(-1)
      if (code !== 0 || last === undefined) return reject(new Error(`${script} ${args.join(" ")} exited with ${code}`))
      try {
        resolve(JSON.parse(last) as A)
      } catch {
        reject(new Error(`${script} ${args.join(" ")} printed no JSON: ${last}`))
      }
    })
  })

/** `median (min–max)` of `xs`. */
export const spread = (xs: ReadonlyArray<number>, digits = 0): string =>
  `${median(xs).toFixed(digits)} (${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)})`

/** `a / b` with the verdict against a `≥ target`. */
export const verdict = (label: string, value: number, target?: number, unit = "×"): string => {
  const met = target === undefined ? "" : value >= target ? ` (target ≥ ${target}${unit}: met)` : ` (target ≥ ${target}${unit}: MISSED)`
  return `${label}: ${value.toFixed(2)}${unit}${met}`
}

/** The machine's load when a bench starts (its figures are only comparable at a similar load). */
export const loadLine = (): string => {
  const [one = 0, five = 0] = loadavg()
  return `node ${process.version}, load average ${one.toFixed(2)} (1 min), ${five.toFixed(2)} (5 min)`
}

/**
 * A module of the compiled package (`dist/`, built by `npm run bench` before it runs anything): what users run, and
 * measurably faster than the sources through tsx (whose transform slows closure-heavy code).
 */
export const compiled = <M>(path: string): Promise<M> =>
  import(new URL(`../dist/${path}`, import.meta.url).href) as Promise<M>
