/**
 * Provider folds, bytes → final response, against each official SDK's accumulator on the same bytes (see
 * bench/folds/*.ts for how each SDK is fed). The agreement checks run here; every run of every contender is its
 * own fresh process (`bench/folds/worker.ts`), interleaved (run 1 of each, then run 2, …). A process's figure is
 * the median of its three passes; a row's, the median over its processes (min–max).
 */
import { join } from "node:path"
import { groups as byApi } from "./folds/group.js"
import { inFreshProcess, loadLine, median, spread, verdict } from "./support.js"

interface WorkerResult {
  readonly rates: ReadonlyArray<number>
  readonly peakHeapMb: number
}

const worker = join(import.meta.dirname, "folds", "worker.ts")

export const run = async (options: { readonly mib: number; readonly runs: number }) => {
  const groups = Object.values(byApi).map((make) => make(options.mib))
  for (const group of groups) await group.check()
  const names = groups.flatMap((g) => g.variants.map((v) => v.name))
  const results = names.map((): Array<WorkerResult> => [])
  for (let i = 0; i < options.runs; i++) {
    for (const [k, name] of names.entries()) results[k]!.push(await inFreshProcess<WorkerResult>(worker, [name, String(options.mib)]))
  }
  const rates = results.map((rs) => rs.map((r) => median(r.rates)))
  console.log(
    `\nFolds, bytes → aggregate: ${options.mib} MiB per provider, 16 KiB chunks, ${options.runs} fresh processes per row, ` +
      `MB per CPU-second; ${loadLine()}`
  )
  console.log("| pipeline | MB/s | peak heap growth (MB) |")
  console.log("| --- | ---: | ---: |")
  for (const [k, name] of names.entries()) {
    console.log(`| ${name} | ${spread(rates[k]!)} | ${Math.max(...results[k]!.map((r) => r.peakHeapMb)).toFixed(1)} |`)
  }
  for (const group of groups) {
    const [ours, stream, peer] = group.variants.map((v) => median(rates[names.indexOf(v.name)]!))
    const provider = group.variants[0]!.name.split(":", 1)[0]!
    const peerName = group.variants[2]!.name.slice(provider.length + 2)
    console.log(verdict(`${provider}: ours aggregate / ${peerName}`, ours! / peer!))
    console.log(verdict(`${provider}: ours Stream / ${peerName}`, stream! / peer!))
  }
}
