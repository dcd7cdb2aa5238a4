/**
 * Tracing per streamed call: a 20-event (~3.9 KB) OpenAI chat call fed one event per chunk, with the real
 * OpenTelemetry SDK and the TraceStore; CPU µs and bytes allocated per call (`bench/tracing/worker.ts`).
 *
 * - raw OTel: two spans (gateway, provider) made with the SDK directly, into the store, nothing else;
 * - pure parse + fold: `Sse.makeParser` + the OpenAI chat fold, no Effect, no span;
 * - the floor: both of the above, the output serialised once (the least any tracer of this call must do);
 * - gateway + provider spans through the library, as the gateway runs them (`RequestTrace.startTrace` in the
 *   request's scope: `GatewayCall` + `ProviderCall`, the body fed chunk by chunk, one finaliser).
 *
 * Every run of every row is its own fresh process, rows interleaved; median (min–max) over the processes.
 */
import { join } from "node:path"
import { inFreshProcess, loadLine, median, spread } from "./support.js"

interface WorkerResult {
  readonly us: number
  readonly bytesPerCall: number
}

const rows = [
  { name: "raw OTel: 2 spans + TraceStore", variant: "otel" },
  { name: "pure parse + fold (no Effect, no span)", variant: "fold" },
  { name: "floor: pure parse + fold + 2 raw spans", variant: "floor" },
  { name: "gateway + provider spans, library path (RequestTrace)", variant: "library" }
] as const

const worker = join(import.meta.dirname, "tracing", "worker.ts")

export const run = async (options: { readonly runs: number; readonly calls: number }) => {
  const results = rows.map((): Array<WorkerResult> => [])
  for (let i = 0; i < options.runs; i++) {
    for (const [k, row] of rows.entries()) {
      results[k]!.push(await inFreshProcess<WorkerResult>(worker, [row.variant, String(options.calls)]))
    }
  }
  const floor = median(results[2]!.map((r) => r.us))
  console.log(
    `\nTracing per 20-event streamed call (one event per chunk), CPU µs per call (median of 3 passes of ` +
      `${options.calls} calls per process; ${options.runs} fresh processes per row: median (min–max)); ${loadLine()}`
  )
  console.log("| pipeline | µs per call | KB allocated per call | / floor |")
  console.log("| --- | ---: | ---: | ---: |")
  for (const [k, row] of rows.entries()) {
    const us = results[k]!.map((r) => r.us)
    console.log(
      `| ${row.name} | ${spread(us, 1)} | ${spread(results[k]!.map((r) => r.bytesPerCall / 1024), 1)} | ${(median(us) / floor).toFixed(2)}× |`
    )
  }
  const library = median(results[3]!.map((r) => r.us)) / floor
  const kb = median(results[3]!.map((r) => r.bytesPerCall)) / 1024
  console.log(`library path / floor: ${library.toFixed(2)}× (target ≤ 4×: ${library <= 4 ? "met" : "MISSED"})`)
  console.log(`library path allocation: ${kb.toFixed(0)} KB per call (target ≤ 300 KB: ${kb <= 300 ? "met" : "MISSED"})`)
}
