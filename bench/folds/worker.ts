/**
 * One fold contender in a fresh process (spawned by `../folds.bench.ts`; never imported by another bench):
 * `node --expose-gc --import tsx bench/folds/worker.ts <variant name> <mib>`. Prints one JSON line.
 *
 * No other contender runs in this process (the agreement check runs in the parent), so no other path's JIT state
 * leaks in: "ours Stream" is not timed after "ours aggregate" has warmed the same fold. Three passes, each timed in
 * CPU seconds; the first is a cold process's.
 */
import { cpuSeconds, gc, heapSampler } from "../support.js"
import { apiOf, groups } from "./group.js"

const [name = "", mibArg = "16"] = process.argv.slice(2)
// Only this contender's stream is generated.
const group = groups[apiOf(name)]?.(Number(mibArg))
const variant = group?.variants.find((v) => v.name === name)
if (group === undefined || variant === undefined) {
  console.error(`unknown variant ${JSON.stringify(name)}`)
  process.exit(2)
}
gc()
const rates: Array<number> = []
let peakHeapMb = 0
for (let pass = 0; pass < 3; pass++) {
  const heap = heapSampler()
  const start = cpuSeconds()
  await variant.run(heap.sample)
  rates.push(group.bytes / 1048576 / (cpuSeconds() - start))
  peakHeapMb = Math.max(peakHeapMb, heap.peakMb())
}
console.log(JSON.stringify({ rates, peakHeapMb }))
