/**
 * SSE decoding throughput: a synthetic OpenAI-chat-like stream in 16 KiB chunks, against raw TextDecoder (the
 * ceiling) and eventsource-parser (the peer).
 *
 * Every run of every variant is its own fresh process (`bench/sse/worker.ts`): decoders are JIT- and GC-state
 * sensitive, and warming one path in a process before timing another hides what a real process sees. The runs
 * are interleaved (run 1 of every variant, then run 2, …) so drift on a shared machine hits all alike. Each
 * process times three passes over the stream in CPU time; a row is the median over its processes with min–max.
 * "Poisoned": the process first holds ~7,000 events of the same decoder across GCs (a slow consumer at startup).
 */
import { join } from "node:path"
import { inFreshProcess, loadLine, median, spread, verdict } from "./support.js"

interface WorkerResult {
  readonly rates: ReadonlyArray<number>
  readonly events: number
  readonly gcShare: number
  readonly peakHeapMb: number
}

interface Row {
  readonly name: string
  readonly variant: string
  readonly poisoned: boolean
}

const rows: ReadonlyArray<Row> = [
  { name: "raw TextDecoder (ceiling: decoding alone)", variant: "ceiling", poisoned: false },
  { name: "eventsource-parser 3 + TextDecoder (peer)", variant: "peer", poisoned: false },
  { name: "Sse.makeParser (ours, pure)", variant: "pure", poisoned: false },
  { name: "Sse.decode, one Stream element per 16 KiB (ours, Effect)", variant: "decode", poisoned: false },
  { name: "Effect floor: the same source and consumer, a pass-through stage, no parsing", variant: "stage", poisoned: false },
  { name: "peer, poisoned start", variant: "peer", poisoned: true },
  { name: "Sse.makeParser, poisoned start", variant: "pure", poisoned: true },
  { name: "Sse.decode, poisoned start", variant: "decode", poisoned: true }
]

const worker = join(import.meta.dirname, "sse", "worker.ts")

export const run = async (options: { readonly mib: number; readonly runs: number }) => {
  const results = rows.map((): Array<WorkerResult> => [])
  for (let i = 0; i < options.runs; i++) {
    for (const [k, row] of rows.entries()) {
      results[k]!.push(await inFreshProcess<WorkerResult>(worker, [row.variant, String(options.mib), row.poisoned ? "1" : "0"]))
    }
  }
  // A process's figure is the median of its passes; a row's, the median over its processes.
  const rates = results.map((rs) => rs.map((r) => median(r.rates)))
  const rate = (variant: string, poisoned: boolean) => median(rates[rows.findIndex((r) => r.variant === variant && r.poisoned === poisoned)]!)
  console.log(
    `\nSSE decode: ${options.mib} MiB, 16 KiB chunks, ${options.runs} fresh processes per row, MB per CPU-second ` +
      `(median of 3 passes per process; median over processes (min–max)); ${loadLine()}`
  )
  console.log("| pipeline | MB/s | GC share of CPU | peak heap growth (MB) | / peer |")
  console.log("| --- | ---: | ---: | ---: | ---: |")
  const peer = rate("peer", false)
  for (const [k, row] of rows.entries()) {
    const gcShare = median(results[k]!.map((r) => r.gcShare))
    const heap = Math.max(...results[k]!.map((r) => r.peakHeapMb))
    console.log(
      `| ${row.name} | ${spread(rates[k]!)} | ${(gcShare * 100).toFixed(0)} % | ${heap.toFixed(1)} | ${(median(rates[k]!) / peer).toFixed(2)}× |`
    )
  }
  console.log(verdict("Sse.decode, fresh / peer", rate("decode", false) / peer, 0.9))
  console.log(verdict("Sse.decode, poisoned / peer (fresh)", rate("decode", true) / peer, 0.6))
  console.log(verdict("Sse.decode, slowest process / peer", Math.min(...rows.flatMap((r, k) => r.variant === "decode" ? rates[k]! : [])) / peer, 0.6))
  // Time per MiB adds up: what Sse.decode costs over the pure parser is about one Effect stage's cost.
  const msPerMib = (variant: string) => 1000 / rate(variant, false)
  console.log(
    `ms per MiB: Sse.decode ${msPerMib("decode").toFixed(2)} ≈ pure ${msPerMib("pure").toFixed(2)} + Effect stage ` +
      `${msPerMib("stage").toFixed(2)} (${(msPerMib("pure") + msPerMib("stage")).toFixed(2)})`
  )
  console.log(verdict("pure / peer", rate("pure", false) / peer, 1.25))
  console.log(verdict("pure / ceiling", rate("pure", false) / rate("ceiling", false), 0.6))
}
