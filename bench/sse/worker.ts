/**
 * One measured SSE decoder in a fresh process (spawned by `../sse.bench.ts`; never imported by another bench):
 * `node --expose-gc --import tsx bench/sse/worker.ts <variant> <mib> <poisoned 0|1>`. Prints one JSON line.
 *
 * No other decoder runs in this process, so no other path's JIT or allocation-site state leaks in. Before the
 * timed passes this decoder warms up on ~7,000 events; "poisoned", its consumer holds them all across garbage
 * collections (what a slow consumer at startup does), the state in which V8 may pretenure the decoder's
 * allocation sites for the process's life.
 */
import { Chunk, Effect, Option, Stream } from "effect"
import { createParser } from "eventsource-parser"
import { GCProfiler } from "node:v8"
import type * as SseT from "../../src/Sse.js"
import { chunked, cpuSeconds, gc, heapSampler } from "../support.js"
import { syntheticChatStream } from "./stream.js"
import { compiled } from "../support.js"

// The compiled package (dist/), as users run it: `npm run bench` builds it first.
const Sse = await compiled<typeof SseT>("Sse.js")

/**
 * A decoder over all `chunks`, returning the number of events (or characters, for the ceiling). With `hold`, it
 * also hands every event to `hold` (the poisoning consumer); the timed passes only count.
 */
type Decoder = (chunks: ReadonlyArray<Uint8Array>, sample: () => void, hold?: (event: unknown) => void) => number

/** One Uint8Array per stream element, as an HTTP body delivers them. */
const source = (chunks: ReadonlyArray<Uint8Array>, sample: () => void): Stream.Stream<Uint8Array> =>
  Stream.unfoldChunk(0, (i) => {
    if ((i & 63) === 0) sample()
    return i < chunks.length ? Option.some([Chunk.of(chunks[i]!), i + 1] as const) : Option.none()
  })

const decoders: Record<string, Decoder> = {
  ceiling: (chunks, sample, hold) => {
    const decoder = new TextDecoder()
    let chars = 0
    for (let i = 0; i < chunks.length; i++) {
      const text = decoder.decode(chunks[i], { stream: true })
      chars += text.length
      hold?.(text)
      if ((i & 63) === 0) sample()
    }
    return chars + decoder.decode().length
  },
  peer: (chunks, sample, hold) => {
    const decoder = new TextDecoder()
    let events = 0
    const parser = createParser({ onEvent: hold ?? (() => events++) })
    for (let i = 0; i < chunks.length; i++) {
      parser.feed(decoder.decode(chunks[i], { stream: true }))
      if ((i & 63) === 0) sample()
    }
    parser.feed(decoder.decode())
    return events
  },
  pure: (chunks, sample, hold) => {
    const parser = Sse.makeParser()
    let events = 0
    for (let i = 0; i < chunks.length; i++) {
      const out = parser.feed(chunks[i]!)
      events += out.length
      if (hold !== undefined) for (const e of out) hold(e)
      if ((i & 63) === 0) sample()
    }
    return events + parser.end().length
  },
  // One Uint8Array per stream element, as an HTTP body delivers them; the consumer counts (Stream.runCount) or,
  // poisoning, collects every event (Stream.runCollect).
  decode: (chunks, sample, hold) => {
    const events = source(chunks, sample).pipe(Sse.decode())
    if (hold === undefined) return Effect.runSync(Stream.runCount(events))
    const all = Effect.runSync(Stream.runCollect(events))
    Chunk.forEach(all, hold)
    return Chunk.size(all)
  },
  // What any Effect stage costs here: the same source and consumer, one pass-through stage, no parsing.
  stage: (chunks, sample, hold) => {
    const stage = source(chunks, sample).pipe(Stream.mapChunks((bytes) => bytes))
    if (hold === undefined) return Effect.runSync(Stream.runCount(stage))
    const all = Effect.runSync(Stream.runCollect(stage))
    Chunk.forEach(all, hold)
    return Chunk.size(all)
  }
}

const [variant = "", mibArg = "16", poisonedArg = "0"] = process.argv.slice(2)
const decoder = decoders[variant]
if (decoder === undefined) {
  console.error(`unknown variant ${JSON.stringify(variant)}; one of ${Object.keys(decoders).join(", ")}`)
  process.exit(2)
}

const bytes = syntheticChatStream(Number(mibArg) * 1024 * 1024)
const chunks = chunked(bytes, 16 * 1024)

// Before timing, the same decoder runs over a 2 MiB stream (~7,000 events): a warm-up of this path only. Poisoned,
// the consumer holds all those events across full GCs (then drops them); fresh, it only counts them.
{
  const held: Array<unknown> = []
  const warmUp = chunked(syntheticChatStream(2 * 1024 * 1024), 16 * 1024)
  if (poisonedArg === "1") {
    decoder(warmUp, () => {}, (e) => held.push(e))
    gc()
    held.length = 0
  } else {
    decoder(warmUp, () => {})
  }
  gc()
}

// Three passes over the stream, each timed in CPU seconds; the consumer counts the events. GC share: GC pause
// time over the wall time of the passes.
const rates: Array<number> = []
let events = 0
const heap = heapSampler() // after its full GC: GC cost over the passes, from V8's own per-GC accounting
const profiler = new GCProfiler()
profiler.start()
const wallStart = performance.now()
for (let pass = 0; pass < 3; pass++) {
  const passStart = cpuSeconds()
  events = decoder(chunks, heap.sample)
  rates.push(bytes.length / 1048576 / (cpuSeconds() - passStart))
}
const wallSeconds = (performance.now() - wallStart) / 1000
let gcUs = 0
for (const entry of profiler.stop().statistics) gcUs += entry.cost
console.log(JSON.stringify({ rates, events, gcShare: gcUs / 1e6 / wallSeconds, peakHeapMb: heap.peakMb() }))
