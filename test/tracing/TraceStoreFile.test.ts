// Live clock throughout: `flush` and the writer wait on real time.
/**
 * The trace store on a SQLite file (and the query contract on both backends): real files in a temp dir, spans
 * made by the real OTel SDK and handed to the store's processor, as in production.
 */
import { assert, describe, expect, it } from "@effect/vitest"
import { type Attributes as OtelAttributes, ROOT_CONTEXT, trace as otelTrace } from "@opentelemetry/api"
import { BasicTracerProvider } from "@opentelemetry/sdk-trace-base"
import { Effect, Exit, Fiber, Option } from "effect"
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as Attributes from "../../src/tracing/Attributes.js"
import * as TraceStore from "../../src/tracing/TraceStore.js"

const tempPath = () => join(mkdtempSync(join(tmpdir(), "llm-trace-store-")), "nested", "traces.db")

const feed = (store: TraceStore.TraceStore["Type"]) => {
  const provider = new BasicTracerProvider({ spanProcessors: [store.spanProcessor] })
  return provider.getTracer("store-file-test")
}

type Tracer = ReturnType<typeof feed>

interface CallSpec {
  readonly endpoint: string
  readonly model?: string
  readonly startMs?: number
  readonly durationMs?: number
  readonly error?: string
  readonly input?: number
  readonly payload?: string
}

/** One gateway call: the gateway span and its provider span, ended; returns the trace id. */
const call = (tracer: Tracer, spec: CallSpec): string => {
  const start = spec.startMs ?? Date.now()
  const end = start + (spec.durationMs ?? 10)
  const root = tracer.startSpan(`gateway/${spec.endpoint}`, {
    startTime: start,
    attributes: {
      [Attributes.EndpointName]: spec.endpoint,
      [Attributes.GatewayCaller]: "tests",
      ...(spec.payload === undefined ? {} : { [Attributes.SpanInputs]: spec.payload }),
      ...(spec.error === undefined ? {} : { [Attributes.ErrorType]: spec.error })
    }
  })
  const attributes: OtelAttributes = {
    [Attributes.LlmProvider]: "openai",
    [Attributes.GenAiRequestModel]: spec.model ?? "m1",
    [Attributes.GenAiUsageInputTokens]: spec.input ?? 5,
    [Attributes.GenAiUsageOutputTokens]: 2
  }
  const child = tracer.startSpan("provider/openai", { startTime: start + 1, attributes }, otelTrace.setSpan(ROOT_CONTEXT, root))
  child.end(end - 1)
  if (spec.error !== undefined) root.setStatus({ code: 2 })
  root.end(end)
  return root.spanContext().traceId
}

/** Every trace id, page by page. */
const walk = (store: TraceStore.TraceStore["Type"], query: Omit<TraceStore.ListQuery, "cursor" | "limit">, limit: number) =>
  Effect.gen(function*() {
    const seen: Array<string> = []
    let cursor: string | undefined
    for (let pages = 0; pages < 10_000; pages++) {
      const page = yield* store.listTraces({ ...query, limit, cursor })
      seen.push(...page.traces.map((t) => t.traceId))
      if (page.nextCursor === null) return seen
      cursor = page.nextCursor
    }
    return assert.fail("pagination did not end")
  })

const backends = [
  ["memory", () => ":memory:"],
  ["file", tempPath]
] as const

for (const [backend, pathOf] of backends) {
  describe(`the query contract (${backend})`, () => {
    it.scopedLive("filters, newest first, pages that walk every trace exactly once, usage per group and bucket", () =>
      Effect.gen(function*() {
        const store = yield* TraceStore.makeScoped({ path: pathOf(), maxTraces: 10_000 })
        const tracer = feed(store)
        const now = Date.now() - 3_600_000
        const ids: Array<string> = []
        // Same start for several traces: the order falls back to the trace id.
        for (let i = 0; i < 57; i++) {
          ids.push(call(tracer, {
            endpoint: i % 3 === 0 ? "a" : "b",
            model: i % 2 === 0 ? "m-even" : "m-odd",
            startMs: now + Math.floor(i / 4) * 60_000,
            durationMs: i,
            ...(i % 5 === 0 ? { error: "500" } : {}),
            input: i
          }))
        }
        yield* store.flush
        for (const limit of [1, 7, 50, 1000]) {
          const all = yield* walk(store, {}, limit)
          expect(all.length).toBe(57)
          expect(new Set(all).size).toBe(57)
        }
        const page = yield* store.listTraces({ limit: 1000 })
        const starts = page.traces.map((t) => Date.parse(t.startTime))
        expect([...starts].sort((x, y) => y - x)).toEqual(starts)
        const count = (query: Omit<TraceStore.ListQuery, "limit">) => Effect.map(walk(store, query, 5), (list) => list.length)
        expect(yield* count({ endpoint: "a" })).toBe(19)
        expect(yield* count({ status: "error" })).toBe(12)
        expect(yield* count({ status: "ok" })).toBe(0) // the SDK spans' status is unset unless set
        expect(yield* count({ status: "unset" })).toBe(45)
        expect(yield* count({ model: "m-odd" })).toBe(28)
        expect(yield* count({ minDurationMs: 50 })).toBe(7)
        expect(yield* count({ since: now + 60_000, until: now + 3 * 60_000 })).toBe(8)
        expect(yield* count({ endpoint: "b", model: "m-even", status: "error" })).toBe(
          [...Array(57).keys()].filter((i) => i % 3 !== 0 && i % 2 === 0 && i % 5 === 0).length
        )
        expect(yield* count({ kind: "replay" })).toBe(0)
        const usage = yield* store.usage({ groupBy: "endpoint", bucket: "minute" })
        expect(usage.groups.map((g) => [g.key, g.calls])).toEqual([["b", 38], ["a", 19]])
        expect(usage.groups.reduce((n, g) => n + g.tokens.input, 0)).toBe((56 * 57) / 2)
        expect(usage.series.reduce((n, p) => n + p.calls, 0)).toBe(57)
        expect(new Set(usage.series.map((p) => p.time)).size).toBe(15)
        const hourly = yield* store.usage({ groupBy: "model", bucket: "hour", since: now + 60_000 })
        expect(hourly.groups.reduce((n, g) => n + g.calls, 0)).toBe(53)
        const trace = Option.getOrThrow(yield* store.getTrace(ids[10]!))
        expect(trace.spans.map((s) => s.name)).toEqual(["gateway/b", "provider/openai"])
        expect(trace.summary.tokens.input).toBe(10)
        expect(trace.metadata[Attributes.GatewayCaller]).toBe("tests")
      }))
  })
}

describe("TraceStore on a SQLite file", () => {
  it.scopedLive("a restart keeps the traces (same file, a new store)", () =>
    Effect.gen(function*() {
      const path = tempPath()
      const ids = yield* Effect.scoped(Effect.gen(function*() {
        const store = yield* TraceStore.makeScoped({ path })
        const tracer = feed(store)
        return [call(tracer, { endpoint: "kept" }), call(tracer, { endpoint: "kept", error: "429" })]
        // no flush: closing the scope writes what is queued
      }))
      const reopened = yield* TraceStore.makeScoped({ path })
      const page = yield* reopened.listTraces({ limit: 10 })
      expect(page.traces.map((t) => t.traceId).sort()).toEqual([...ids].sort())
      const trace = Option.getOrThrow(yield* reopened.getTrace(ids[1]!))
      expect(trace.summary.errorType).toBe("429")
      expect(trace.spans).toHaveLength(2)
    }))

  it.scopedLive("migration from an empty file (0 bytes): opened, migrated, usable", () =>
    Effect.gen(function*() {
      const path = tempPath()
      yield* TraceStore.makeScoped({ path: join(path, "..", "probe.db") }) // creates the folder
      writeFileSync(path, "")
      const store = yield* TraceStore.makeScoped({ path })
      call(feed(store), { endpoint: "x" })
      yield* store.flush
      expect((yield* store.listTraces({ limit: 5 })).traces).toHaveLength(1)
    }))

  it.live("a corrupt file: one Open error naming the file, at open", () =>
    Effect.gen(function*() {
      const path = join(mkdtempSync(join(tmpdir(), "llm-trace-store-")), "traces.db")
      writeFileSync(path, Buffer.alloc(8192, 0x5a))
      const exit = yield* Effect.exit(Effect.scoped(TraceStore.makeScoped({ path })))
      assert(Exit.isFailure(exit))
      const error = exit.cause._tag === "Fail" ? exit.cause.error : undefined
      assert(error instanceof TraceStore.TraceStoreError)
      expect(error.reason).toBe("Open")
      expect(error.message).toContain(path)
      expect(error.message).toMatch(/not a database/)
      expect(error.message.split("\n")).toHaveLength(1)
    }))

  it.live("retention by age: traces older than maxAgeDays are deleted, the rest kept", () =>
    Effect.scoped(Effect.gen(function*() {
      const store = yield* TraceStore.makeScoped({ path: tempPath(), maxAgeDays: 1 })
      const tracer = feed(store)
      const old = Array.from({ length: 30 }, (_, i) => call(tracer, { endpoint: "old", startMs: Date.now() - 2 * 86_400_000 + i }))
      const fresh = Array.from({ length: 5 }, () => call(tracer, { endpoint: "fresh" }))
      yield* store.flush
      yield* waitFor(Effect.map(store.listTraces({ limit: 100 }), (p) => p.traces.length === 5))
      const left = (yield* store.listTraces({ limit: 100 })).traces.map((t) => t.traceId)
      expect(left.sort()).toEqual([...fresh].sort())
      for (const id of old.slice(0, 3)) expect(Option.isNone(yield* store.getTrace(id))).toBe(true)
    })))

  it.live("retention by bytes: the oldest traces go until the stored spans fit maxBytes", () =>
    Effect.scoped(Effect.gen(function*() {
      const maxBytes = 40_000
      const store = yield* TraceStore.makeScoped({ path: tempPath(), maxBytes })
      const tracer = feed(store)
      const start = Date.now() - 60_000
      const ids = Array.from({ length: 100 }, (_, i) => call(tracer, { endpoint: "big", startMs: start + i * 10, payload: "x".repeat(1000) }))
      yield* store.flush
      yield* waitFor(Effect.map(store.listTraces({ limit: 1000 }), (p) => p.traces.length < 100))
      const kept = (yield* store.listTraces({ limit: 1000 })).traces.map((t) => t.traceId)
      // Each trace holds > 1000 bytes of spans: at most 40 fit; the kept ones are the newest.
      expect(kept.length).toBeGreaterThan(10)
      expect(kept.length).toBeLessThanOrEqual(40)
      expect(kept).toEqual(ids.slice(ids.length - kept.length).reverse())
    })))

  it.scopedLive("a burst of 10,000 calls never waits for the store: past the queue, spans are dropped and counted", () =>
    Effect.gen(function*() {
      const store = yield* TraceStore.makeScoped({ path: tempPath(), queueSize: 1000 })
      const tracer = feed(store)
      // One synchronous loop: the writer cannot run before it ends, so every span past the queue is dropped.
      for (let i = 0; i < 10_000; i++) call(tracer, { endpoint: "burst" })
      const stats = yield* store.stats
      expect(stats).toEqual({ backend: "sqlite", queued: 1000, dropped: 19_000, failed: 0 })
      yield* store.flush
      expect((yield* store.stats).queued).toBe(0)
      expect((yield* walk(store, { endpoint: "burst" }, 1000)).length).toBe(500)
      // The queue has room again.
      call(tracer, { endpoint: "after" })
      yield* store.flush
      expect((yield* store.listTraces({ endpoint: "after", limit: 5 })).traces).toHaveLength(1)
    }))

  it.live("concurrent readers while writing: every read succeeds, lists only grow, listed traces are readable", () =>
    Effect.scoped(Effect.gen(function*() {
      const store = yield* TraceStore.makeScoped({ path: tempPath() })
      const tracer = feed(store)
      const writer = yield* Effect.fork(Effect.gen(function*() {
        for (let round = 0; round < 40; round++) {
          for (let i = 0; i < 50; i++) call(tracer, { endpoint: "rw", model: `m${i % 4}` })
          yield* Effect.sleep("2 millis")
        }
      }))
      const reader = Effect.gen(function*() {
        let last = 0
        while (true) {
          const page = yield* store.listTraces({ endpoint: "rw", limit: 1000 })
          expect(page.traces.length).toBeGreaterThanOrEqual(last)
          last = page.traces.length
          const first = page.traces[0]
          if (first !== undefined) expect(Option.isSome(yield* store.getTrace(first.traceId))).toBe(true)
          yield* store.usage({ groupBy: "model", bucket: "minute" })
          if (last === 1000) return last
          yield* Effect.sleep("1 millis")
        }
      })
      const readers = yield* Effect.all([reader, reader, reader], { concurrency: "unbounded" }).pipe(Effect.fork)
      yield* Fiber.join(writer)
      yield* store.flush
      expect(yield* Fiber.join(readers)).toEqual([1000, 1000, 1000])
      expect((yield* walk(store, { endpoint: "rw" }, 300)).length).toBe(2000)
      expect((yield* store.stats).failed).toBe(0)
    })))
})

const waitFor = (check: Effect.Effect<boolean, unknown>) =>
  Effect.gen(function*() {
    for (let i = 0; i < 500; i++) {
      if (yield* check) return
      yield* Effect.sleep("10 millis")
    }
    assert.fail("condition not reached within 5 s")
  })
