import { assert, describe, expect, it } from "@effect/vitest"
import { Chunk, Deferred, Effect, FastCheck, Fiber, Option, Ref, Stream } from "effect"
import { readFileSync } from "node:fs"
import * as Api from "../../src/providers/Api.js"
import * as OpenAiChat from "../../src/providers/OpenAiChat.js"
import * as Attributes from "../../src/tracing/Attributes.js"
import * as GatewaySpan from "../../src/tracing/GatewaySpan.js"
import * as ProviderSpan from "../../src/tracing/ProviderSpan.js"
import { type StoredSpan, TraceStore } from "../../src/tracing/TraceStore.js"
import { randomChunking } from "../support/chunking.js"
import * as Tracing from "../support/tracing.js"

const bytes = new Uint8Array(readFileSync(new URL("../fixtures/openai-chat/text-usage.sse", import.meta.url)))
const endpoint: GatewaySpan.Endpoint = { id: "ep", name: "chat", usageTracking: true }
const caller = { traceId: "4bf92f3577b34da6a3ce929d0e0e4736", spanId: "00f067aa0ba902b7" }
const headers = { traceparent: `00-${caller.traceId}-${caller.spanId}-01` }

type Stop =
  | { readonly _tag: "UpstreamPending" }
  | { readonly _tag: "Take"; readonly chunks: number }
  | { readonly _tag: "Interrupt"; readonly chunks: number }

const stopArb: FastCheck.Arbitrary<Stop> = FastCheck.oneof(
  FastCheck.constant<Stop>({ _tag: "UpstreamPending" }),
  FastCheck.nat({ max: 40 }).map((chunks): Stop => ({ _tag: "Take", chunks })),
  FastCheck.nat({ max: 40 }).map((chunks): Stop => ({ _tag: "Interrupt", chunks }))
)

/** One Uint8Array per stream chunk, as an HTTP body delivers them: the tap sees exactly what the consumer pulled. */
const body = (chunks: ReadonlyArray<Uint8Array>, thenHang: boolean) => {
  const delivered = Stream.fromChunks(...chunks.map(Chunk.of))
  return thenHang ? Stream.concat(delivered, Stream.never) : delivered
}

/** A streamed gateway call stopped as `stop` says; returns how many chunks the consumer received. */
const run = (chunks: ReadonlyArray<Uint8Array>, stop: Stop) =>
  Effect.gen(function*() {
    const received = yield* Ref.make(0)
    const reached = yield* Deferred.make<void>()
    const target = stop._tag === "UpstreamPending" ? 0 : Math.min(stop.chunks, chunks.length)
    const upstream = stop._tag === "UpstreamPending" ? Effect.never : Effect.succeed(body(chunks, stop._tag === "Interrupt"))
    const traced = ProviderSpan.tracedStream({ api: OpenAiChat.api, model: "gpt-4o", stream: true }, () => upstream).pipe(
      GatewaySpan.tracedStream(endpoint, { payload: {}, headers })
    )
    const consume = (stream: typeof traced) =>
      stream.pipe(Stream.runForEach(() =>
        Effect.flatMap(Ref.updateAndGet(received, (n) => n + 1), (n) => n >= target ? Deferred.succeed(reached, undefined) : Effect.void)
      ))
    if (stop._tag === "Take") {
      yield* consume(Stream.take(traced, stop.chunks))
    } else {
      const fiber = yield* Effect.fork(consume(traced))
      if (target === 0) yield* Effect.sleep("1 millis")
      else yield* Deferred.await(reached)
      yield* Fiber.interrupt(fiber)
    }
    return yield* Ref.get(received)
  })

const spansOf = (traceId: string) =>
  Effect.flatMap(TraceStore, (store) => store.getTrace(traceId)).pipe(Effect.map((t) => Option.getOrThrow(t).spans))

const named = (spans: ReadonlyArray<StoredSpan>, name: string) => {
  const found = spans.filter((s) => s.name === name)
  expect(found.length, name).toBe(1)
  return found[0]!
}

describe("Interruption at random points", () => {
  it.live.prop(
    "0 open spans, each ended once, cancelled with the partial output, and always replayed",
    [FastCheck.integer({ min: 1, max: 1 << 30 }), stopArb],
    ([seed, stop]) =>
      Effect.gen(function*() {
        const chunks = randomChunking(bytes, seed, 160)
        const received = yield* run(chunks, stop)
        const ledger = yield* Tracing.Ledger
        expect(ledger.open()).toEqual([])
        expect(ledger.endedMoreThanOnce()).toEqual([])

        const store = yield* TraceStore
        if (stop._tag === "Take" && stop.chunks === 0) {
          // take(0) never pulls: the call is never made, so there is nothing to trace.
          expect(ledger.started()).toBe(0)
          expect(yield* store.searchTraces()).toEqual([])
          return
        }
        const own = (yield* store.searchTraces()).find((t) => t.traceId !== caller.traceId)
        assert(own !== undefined)
        const spans = yield* spansOf(own.traceId)
        const gateway = named(spans, "gateway/chat")
        const provider = named(spans, "provider/openai/gpt-4o")
        // Completed only when the end of the stream was observed: taking exactly every chunk stops before it.
        const completed = stop._tag === "Take" && stop.chunks > chunks.length
        for (const span of [gateway, provider]) {
          expect(span.status.code, span.name).toBe(completed ? "OK" : "ERROR")
          expect(span.attributes[Attributes.ErrorType], span.name).toBe(completed ? undefined : "cancelled")
        }
        // The output is the fold of exactly the bytes the consumer got.
        const prefix = Api.aggregateBytes(OpenAiChat.api, chunks.slice(0, received))
        const output = provider.attributes[Attributes.SpanOutputs]
        if (Option.isNone(prefix)) {
          expect(output).toBeUndefined()
          if (!completed) expect(provider.attributes[Attributes.GenAiResponseFinishReasons]).toEqual(["error"])
        } else {
          expect(JSON.parse(String(output))).toEqual(prefix.value.response)
          const reasons = provider.attributes[Attributes.GenAiResponseFinishReasons]
          expect(reasons).toEqual(prefix.value.complete ? ["stop"] : ["error"])
        }

        // The replay: both spans in the caller's trace, same times and status.
        const replayed = yield* spansOf(caller.traceId)
        for (const original of [gateway, provider]) {
          const copy = named(replayed, original.name)
          expect([copy.startTimeUnixNano, copy.endTimeUnixNano, copy.status.code]).toEqual([
            original.startTimeUnixNano,
            original.endTimeUnixNano,
            original.status.code
          ])
        }
      }).pipe(Effect.provide(Tracing.layer)),
    { fastCheck: { numRuns: 1000 } }
  )
})
