/**
 * Shared benchmark helpers: timing (median of runs), heap sampling and table printing.
 */
import { getHeapStatistics } from "node:v8"

export interface Measurement {
  readonly name: string
  readonly mbPerSec: number
  readonly peakHeapMb: number
}

const gc = (): void => {
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

export const quantile = (xs: ReadonlyArray<number>, q: number): number => {
  const sorted = [...xs].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!
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

export const printTable = (title: string, rows: ReadonlyArray<Measurement>): void => {
  console.log(`\n${title}`)
  console.log(`| pipeline | MB/s (median) | peak heap growth (MB) |`)
  console.log(`| --- | ---: | ---: |`)
  for (const r of rows) console.log(`| ${r.name} | ${r.mbPerSec.toFixed(0)} | ${r.peakHeapMb.toFixed(1)} |`)
}

export const ratio = (label: string, a: Measurement, b: Measurement, target?: number): string => {
  const value = a.mbPerSec / b.mbPerSec
  const verdict = target === undefined ? "" : value >= target ? ` (target ≥ ${target}: met)` : ` (target ≥ ${target}: MISSED)`
  return `${label}: ${value.toFixed(2)}×${verdict}`
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
