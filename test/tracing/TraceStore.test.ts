import { describe, expect, it } from "@effect/vitest"
import {
  type Attributes as OtelAttributes,
  type Context as OtelContext,
  type HrTime,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace as otelTrace,
  type Tracer
} from "@opentelemetry/api"
import { BasicTracerProvider, type ReadableSpan } from "@opentelemetry/sdk-trace-base"
import { Effect, FastCheck, Option } from "effect"
import * as Attributes from "../../src/tracing/Attributes.js"
import * as TraceStore from "../../src/tracing/TraceStore.js"

// Spans are made by the real OTel SDK (BasicTracerProvider) and reach the store through its processor, as in
// production.
const setup = (options?: TraceStore.Options) => {
  const store = TraceStore.make(options)
  const provider = new BasicTracerProvider({ spanProcessors: [store.spanProcessor] })
  return { store, tracer: provider.getTracer("trace-store-test") }
}

const run = <A, E>(effect: Effect.Effect<A, E>): A => Effect.runSync(effect)
const getTrace = (store: TraceStore.TraceStore["Type"], traceId: string) => run(store.getTrace(traceId))
const mustGet = (store: TraceStore.TraceStore["Type"], traceId: string): TraceStore.Trace =>
  Option.getOrThrow(getTrace(store, traceId))
const search = (store: TraceStore.TraceStore["Type"], options?: TraceStore.SearchOptions) =>
  run(store.searchTraces(options))

// Seconds since the epoch, and within-second nanoseconds.
const hr = (seconds: number, nanos: number): HrTime => [seconds, nanos]
// The expected decimal, built from the two parts as text (independently of how the store computes it).
const decimal = (seconds: number, nanos: number): string =>
  seconds === 0 ? String(nanos) : `${seconds}${String(nanos).padStart(9, "0")}`

interface SpanSpec {
  readonly name: string
  readonly parent?: Span | undefined
  readonly start?: HrTime
  readonly end?: HrTime
  readonly kind?: SpanKind
  readonly attributes?: OtelAttributes
}

const under = (parent: Span | undefined): OtelContext =>
  parent === undefined ? ROOT_CONTEXT : otelTrace.setSpan(ROOT_CONTEXT, parent)

const start = (tracer: Tracer, spec: SpanSpec): Span =>
  tracer.startSpan(spec.name, {
    ...(spec.start === undefined ? {} : { startTime: spec.start }),
    ...(spec.kind === undefined ? {} : { kind: spec.kind }),
    ...(spec.attributes === undefined ? {} : { attributes: spec.attributes })
  }, under(spec.parent))

/** Starts and immediately ends a span; returns it (ended). */
const emit = (tracer: Tracer, spec: SpanSpec): Span => {
  const span = start(tracer, spec)
  span.end(spec.end ?? spec.start)
  return span
}

const idOf = (span: Span) => span.spanContext().spanId
const traceOf = (span: Span) => span.spanContext().traceId

describe("TraceStore", () => {
  it("groups finished spans by trace, with parent ids, sorted by start time", () => {
    const { store, tracer } = setup()
    const rootA = start(tracer, { name: "a/root", start: hr(100, 0), kind: SpanKind.SERVER })
    const childA1 = start(tracer, { name: "a/child1", parent: rootA, start: hr(100, 30), kind: SpanKind.CLIENT })
    const childA2 = start(tracer, { name: "a/child2", parent: rootA, start: hr(100, 20) })
    const rootB = emit(tracer, { name: "b/root", start: hr(50, 0) })
    childA1.end(hr(101, 0))
    childA2.end(hr(101, 0))
    rootA.end(hr(102, 0))

    expect(traceOf(rootA)).not.toBe(traceOf(rootB))
    const a = mustGet(store, traceOf(rootA))
    expect(a.traceId).toBe(traceOf(rootA))
    expect(a.spans.map((s) => s.name)).toEqual(["a/root", "a/child2", "a/child1"])
    expect(a.spans.every((s) => s.traceId === traceOf(rootA))).toBe(true)
    expect(a.spans.map((s) => s.spanId)).toEqual([idOf(rootA), idOf(childA2), idOf(childA1)])
    expect(a.spans.map((s) => s.parentSpanId)).toEqual([null, idOf(rootA), idOf(rootA)])
    expect(a.spans.map((s) => s.kind)).toEqual(["SERVER", "INTERNAL", "CLIENT"])
    expect(a.metadata).toEqual({})
    const b = mustGet(store, traceOf(rootB))
    expect(b.spans.map((s) => s.name)).toEqual(["b/root"])
  })

  it("equal start times: ancestors come before descendants", () => {
    const { store, tracer } = setup()
    const root = start(tracer, { name: "root", start: hr(7, 7) })
    const child = start(tracer, { name: "child", parent: root, start: hr(7, 7) })
    const sibling = emit(tracer, { name: "sibling", parent: root, start: hr(7, 6) })
    emit(tracer, { name: "grandchild", parent: child, start: hr(7, 7) })
    child.end(hr(8, 0))
    root.end(hr(9, 0))
    expect(idOf(sibling)).not.toBe(idOf(child))
    expect(mustGet(store, traceOf(root)).spans.map((s) => s.name)).toEqual(["sibling", "root", "child", "grandchild"])
  })

  it.prop(
    "any arrival order: getTrace holds every span once, sorted by start time",
    [
      FastCheck.array(
        FastCheck.tuple(FastCheck.integer({ min: 0, max: 999_999_999 }), FastCheck.integer()),
        { minLength: 1, maxLength: 30 }
      )
    ],
    ([children]) => {
      const { store, tracer } = setup()
      const root = start(tracer, { name: "root", start: hr(10, 0) })
      const spans = children.map(([nanos], i) =>
        start(tracer, { name: `child-${i}`, parent: root, start: hr(11, nanos) })
      )
      // End the children in the order of their generated ranks, then the root.
      const order = children.map(([, rank], i) => ({ rank, i })).sort((a, b) => a.rank - b.rank)
      for (const { i } of order) spans[i]!.end(hr(12, 0))
      root.end(hr(13, 0))
      const stored = mustGet(store, traceOf(root)).spans
      expect(stored.length).toBe(spans.length + 1)
      expect(new Set(stored.map((s) => s.spanId))).toEqual(new Set([root, ...spans].map(idOf)))
      expect(stored.map((s) => s.startTimeUnixNano)).toEqual([
        decimal(10, 0),
        ...children.map(([nanos]) => nanos).sort((a, b) => a - b).map((nanos) => decimal(11, nanos))
      ])
      expect(stored[0]!.name).toBe("root")
    },
    { fastCheck: { numRuns: 200 } }
  )

  it.prop(
    "start, end and event times are exact nanoseconds, as decimal strings",
    [
      FastCheck.integer({ min: 0, max: 2 ** 40 }),
      FastCheck.integer({ min: 0, max: 999_999_999 }),
      FastCheck.integer({ min: 0, max: 10_000 }),
      FastCheck.integer({ min: 0, max: 999_999_999 })
    ],
    ([seconds, nanos, extraSeconds, endNanos]) => {
      const { store, tracer } = setup()
      const endSeconds = seconds + extraSeconds + 1
      const span = start(tracer, { name: "timed", start: hr(seconds, nanos) })
      span.addEvent("mid", { at: "event" }, hr(seconds + 1, endNanos))
      span.end(hr(endSeconds, endNanos))
      const [stored] = mustGet(store, traceOf(span)).spans
      expect(stored!.startTimeUnixNano).toBe(decimal(seconds, nanos))
      expect(stored!.endTimeUnixNano).toBe(decimal(endSeconds, endNanos))
      expect(stored!.events).toEqual([
        { name: "mid", timeUnixNano: decimal(seconds + 1, endNanos), attributes: { at: "event" } }
      ])
    },
    { fastCheck: { numRuns: 500 } }
  )

  it("moves trace metadata keys from span attributes to the trace's metadata, stringified", () => {
    const { store, tracer } = setup()
    const metadataKeys = [...Attributes.traceMetadataKeys]
    expect(metadataKeys.length).toBeGreaterThan(0)
    const metadata: OtelAttributes = Object.fromEntries(metadataKeys.map((key, i) => [key, `value-${i}`]))
    const root = start(tracer, {
      name: "gateway/chat",
      attributes: { ...metadata, [Attributes.EndpointName]: "chat", [Attributes.AuthUserId]: 42, other: true }
    })
    emit(tracer, { name: "provider", parent: root, attributes: { [Attributes.TraceSession]: "from-child", n: 1 } })
    root.end()

    const trace = mustGet(store, traceOf(root))
    expect(trace.metadata).toEqual({
      ...Object.fromEntries(metadataKeys.map((key, i) => [key, `value-${i}`])),
      [Attributes.AuthUserId]: "42", // a number, stringified
      // the root ends last, so its value wins over the child's
      [Attributes.TraceSession]: `value-${metadataKeys.indexOf(Attributes.TraceSession)}`
    })
    const [rootSpan, child] = trace.spans
    expect(rootSpan!.attributes).toEqual({ [Attributes.EndpointName]: "chat", other: true })
    expect(child!.attributes).toEqual({ n: 1 })
    for (const span of trace.spans) {
      for (const key of metadataKeys) expect(span.attributes[key]).toBeUndefined()
    }
    expect(search(store)[0]!.metadata).toEqual(trace.metadata)
  })

  it("a metadata value set only on a child span still becomes trace metadata", () => {
    const { store, tracer } = setup()
    const root = start(tracer, { name: "root" })
    emit(tracer, { name: "child", parent: root, attributes: { [Attributes.GatewayCaller]: "curl" } })
    root.end()
    expect(mustGet(store, traceOf(root)).metadata).toEqual({ [Attributes.GatewayCaller]: "curl" })
  })

  it("maps status codes, messages, kinds, events and array attributes", () => {
    const { store, tracer } = setup()
    const root = start(tracer, { name: "root", kind: SpanKind.SERVER })
    const spans = [
      { name: "ok", kind: SpanKind.CLIENT, status: { code: SpanStatusCode.OK } },
      { name: "error", kind: SpanKind.PRODUCER, status: { code: SpanStatusCode.ERROR, message: "boom" } },
      { name: "unset", kind: SpanKind.CONSUMER, status: undefined }
    ].map(({ kind, name, status }) => {
      const span = start(tracer, { name, kind, parent: root, start: hr(5, 0) })
      if (status !== undefined) span.setStatus(status)
      return span
    })
    spans[1]!.recordException(new Error("boom"), hr(6, 7))
    spans[0]!.addEvent("first_chunk", hr(5, 9))
    spans[2]!.setAttribute("list", ["a", "b"])
    spans[2]!.setAttribute("withHoles", [1, null, 3])
    spans[2]!.setAttribute("flags", [true, false])
    for (const span of spans) span.end(hr(7, 0))
    root.end()

    const byName = new Map(mustGet(store, traceOf(root)).spans.map((s) => [s.name, s]))
    expect(byName.get("root")!.kind).toBe("SERVER")
    expect(byName.get("ok")!.kind).toBe("CLIENT")
    expect(byName.get("error")!.kind).toBe("PRODUCER")
    expect(byName.get("unset")!.kind).toBe("CONSUMER")
    expect(byName.get("ok")!.status).toEqual({ code: "OK" })
    expect(byName.get("error")!.status).toEqual({ code: "ERROR", message: "boom" })
    expect(byName.get("unset")!.status).toEqual({ code: "UNSET" })
    expect(byName.get("ok")!.events).toEqual([{ name: "first_chunk", timeUnixNano: decimal(5, 9), attributes: {} }])
    const [exception] = byName.get("error")!.events
    expect(exception!.name).toBe("exception")
    expect(exception!.timeUnixNano).toBe(decimal(6, 7))
    expect(exception!.attributes["exception.message"]).toBe("boom")
    expect(exception!.attributes["exception.type"]).toBe("Error")
    expect(byName.get("unset")!.attributes).toEqual({ list: ["a", "b"], withHoles: [1, null, 3], flags: [true, false] })
    // JSON round trip: the served shape is plain data
    const trace = mustGet(store, traceOf(root))
    expect(JSON.parse(JSON.stringify(trace))).toEqual(trace)
  })

  it("getTrace of an unknown id is None", () => {
    const { store, tracer } = setup()
    expect(Option.isNone(getTrace(store, "0af7651916cd43dd8448eb211c80319c"))).toBe(true)
    emit(tracer, { name: "x" })
    expect(Option.isNone(getTrace(store, "0af7651916cd43dd8448eb211c80319c"))).toBe(true)
    expect(Option.isNone(getTrace(store, ""))).toBe(true)
  })

  it("keeps the newest maxTraces traces and evicts the oldest", () => {
    const { store, tracer } = setup({ maxTraces: 3 })
    const roots = Array.from({ length: 5 }, (_, i) => emit(tracer, { name: `t${i}`, start: hr(i + 1, 0) }))
    expect(roots.map((root) => Option.isSome(getTrace(store, traceOf(root))))).toEqual([false, false, true, true, true])
    expect(search(store).map((s) => s.traceId)).toEqual([roots[4], roots[3], roots[2]].map((r) => traceOf(r!)))
  })

  it.prop(
    "eviction follows the least recently written trace (model: an LRU list)",
    [FastCheck.integer({ min: 1, max: 5 }), FastCheck.array(FastCheck.integer({ min: 0, max: 7 }), { maxLength: 60 })],
    ([maxTraces, writes]) => {
      const { store, tracer } = setup({ maxTraces })
      const roots = Array.from({ length: 8 }, (_, i) => start(tracer, { name: `root-${i}` }))
      // Model: trace index → spans written since it (re)entered the store, most recently written last.
      const model = new Map<number, number>()
      for (const i of writes) {
        emit(tracer, { name: "child", parent: roots[i] })
        const count = model.get(i) ?? 0
        model.delete(i)
        model.set(i, count + 1)
        if (model.size > maxTraces) model.delete(model.keys().next().value!)
      }
      roots.forEach((root, i) => {
        const stored = getTrace(store, traceOf(root))
        expect(Option.map(stored, (t) => t.spans.length)).toEqual(
          model.has(i) ? Option.some(model.get(i)!) : Option.none()
        )
      })
    },
    { fastCheck: { numRuns: 300 } }
  )

  it("bounded by bytes: 300 traces with 1 MB prompts stay under maxBytes, the newest kept, listing stays cheap", () => {
    const maxBytes = 32 * 1024 * 1024
    const { store, tracer } = setup({ maxBytes })
    const prompt = "p".repeat(1_000_000)
    const roots = Array.from({ length: 300 }, (_, i) =>
      emit(tracer, { name: `t${i}`, start: hr(i + 1, 0), attributes: { [Attributes.SpanInputs]: prompt } }))
    const kept = roots.filter((root) => Option.isSome(getTrace(store, traceOf(root))))
    // 32 MiB holds 33 one-megabyte traces: the newest 33 (each counted at its string bytes plus a small overhead).
    expect(kept.map(traceOf)).toEqual(roots.slice(-33).map(traceOf))
    const held = kept.reduce((n, root) => n + mustGet(store, traceOf(root)).spans.reduce((m, s) => m + String(s.attributes[Attributes.SpanInputs]).length, 0), 0)
    expect(held).toBeLessThanOrEqual(maxBytes)
    const page = run(store.listTraces({ limit: 100 }))
    expect(page.traces.map((t) => t.traceId)).toEqual(roots.slice(-33).reverse().map(traceOf))
  })

  it("caps spans per trace: later spans are dropped and counted, the root is kept", () => {
    const max = 3
    const { store, tracer } = setup({ maxSpansPerTrace: max })
    const root = start(tracer, { name: "root", start: hr(1, 0) })
    const children = Array.from({ length: 5 }, (_, i) =>
      emit(tracer, {
        name: `child-${i}`,
        parent: root,
        start: hr(2, i),
        // metadata on a dropped span is still recorded
        attributes: i === 4 ? { [Attributes.TraceSession]: "s-1" } : {}
      }))
    root.end(hr(3, 0))
    const trace = mustGet(store, traceOf(root))
    expect(trace.spans.length).toBe(max)
    expect(trace.spans.map((s) => s.name)).toEqual(["root", "child-0", "child-1"])
    expect(trace.metadata).toEqual({
      [Attributes.TraceSession]: "s-1",
      [TraceStore.DroppedSpansKey]: String(children.length + 1 - max)
    })
    expect(search(store)[0]!.rootSpan!.spanId).toBe(idOf(root))
  })

  it("searchTraces: newest first by earliest span start, whatever the arrival order", () => {
    const { store, tracer } = setup()
    const starts = [5, 1, 9, 3, 7]
    const roots = starts.map((s, i) => {
      const root = start(tracer, { name: `root-${i}`, start: hr(s, 500) })
      // an earlier child: the trace's earliest start is the child's, not the root's
      emit(tracer, { name: "early-child", parent: root, start: hr(s, 100), end: hr(s, 200) })
      root.end(hr(s + 1, 0))
      return root
    })
    const expected = starts.map((s, i) => ({ s, id: traceOf(roots[i]!) })).sort((a, b) => b.s - a.s).map((x) => x.id)
    const found = search(store)
    expect(found.map((t) => t.traceId)).toEqual(expected)
    for (const summary of found) {
      expect(summary.rootSpan!.parentSpanId).toBeNull()
      expect(summary.rootSpan!.name).toMatch(/^root-/)
      expect(summary.metadata).toEqual({})
    }
  })

  it("searchTraces: endpoint matches traces having a span with that endpoint_name", () => {
    const { store, tracer } = setup()
    const make = (endpoint: string | undefined, onChild: boolean) => {
      const attributes = endpoint === undefined ? {} : { [Attributes.EndpointName]: endpoint }
      const root = start(tracer, { name: "root", attributes: onChild ? {} : attributes })
      emit(tracer, { name: "child", parent: root, attributes: onChild ? attributes : {} })
      root.end()
      return traceOf(root)
    }
    const chatOnRoot = make("chat", false)
    const chatOnChild = make("chat", true)
    const embeddings = make("embeddings", false)
    make(undefined, false)
    expect(new Set(search(store, { endpoint: "chat" }).map((t) => t.traceId))).toEqual(
      new Set([chatOnRoot, chatOnChild])
    )
    expect(search(store, { endpoint: "embeddings" }).map((t) => t.traceId)).toEqual([embeddings])
    expect(search(store, { endpoint: "nope" })).toEqual([])
    expect(search(store, { endpoint: undefined }).length).toBe(4)
  })

  it("searchTraces: limit defaults to 100 and is honoured", () => {
    const { store, tracer } = setup()
    const roots = Array.from({ length: 105 }, (_, i) => emit(tracer, { name: `t${i}`, start: hr(1000 + i, 0) }))
    expect(search(store).length).toBe(100)
    expect(search(store, { limit: 2 }).map((t) => t.traceId)).toEqual([roots[104], roots[103]].map((r) => traceOf(r!)))
    expect(search(store, { limit: 0 })).toEqual([])
    expect(search(store, { limit: 1000 }).length).toBe(105)
  })

  it("rootSpan: the earliest span whose parent is not in the trace (e.g. a remote parent)", () => {
    const { store, tracer } = setup()
    const remote = otelTrace.wrapSpanContext({
      traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
      spanId: "00f067aa0ba902b7",
      traceFlags: 1,
      isRemote: true
    })
    const late = start(tracer, { name: "late", parent: remote, start: hr(20, 0) })
    const early = start(tracer, { name: "early", parent: remote, start: hr(10, 0) })
    emit(tracer, { name: "grandchild", parent: early, start: hr(5, 0) })
    late.end(hr(30, 0))
    early.end(hr(30, 0))
    const [summary] = search(store)
    expect(summary!.traceId).toBe("4bf92f3577b34da6a3ce929d0e0e4736")
    expect(summary!.rootSpan!.name).toBe("early")
    expect(summary!.rootSpan!.parentSpanId).toBe("00f067aa0ba902b7")
  })

  it("a malformed span is skipped without throwing into the SDK", () => {
    const { store, tracer } = setup()
    const good = emit(tracer, { name: "good" })
    const base = mustGet(store, traceOf(good))
    const context = { traceId: "1".repeat(32), spanId: "2".repeat(16), traceFlags: 1 }
    const wellFormed = {
      name: "fake",
      kind: SpanKind.INTERNAL,
      spanContext: () => context,
      startTime: hr(1, 0),
      endTime: hr(2, 0),
      status: { code: SpanStatusCode.UNSET },
      attributes: {},
      links: [],
      events: []
    }
    const broken: ReadonlyArray<unknown> = [
      null,
      { ...wellFormed, spanContext: () => { throw new Error("no context") } },
      { ...wellFormed, spanContext: () => ({ ...context, traceId: "" }) },
      { ...wellFormed, startTime: [1.5, 0] },
      { ...wellFormed, endTime: [Number.NaN, 0] },
      { ...wellFormed, events: [{ name: "e", time: "soon" }] },
      { ...wellFormed, status: undefined }
    ]
    for (const span of broken) {
      expect(() => store.spanProcessor.onEnd(span as ReadableSpan)).not.toThrow()
    }
    expect(Option.isNone(getTrace(store, context.traceId))).toBe(true)
    expect(mustGet(store, traceOf(good))).toEqual(base)
    // the fake itself is fine: the store was not left half-updated by the broken ones
    store.spanProcessor.onEnd(wellFormed as unknown as ReadableSpan)
    expect(mustGet(store, context.traceId).spans.map((s) => s.name)).toEqual(["fake"])
  })

  it.effect("layer: a fresh, empty store per build", () =>
    Effect.gen(function*() {
      const first = yield* TraceStore.TraceStore.pipe(Effect.provide(TraceStore.layer()))
      const second = yield* TraceStore.TraceStore.pipe(Effect.provide(TraceStore.layer()))
      expect(first).not.toBe(second)
      const tracer = new BasicTracerProvider({ spanProcessors: [first.spanProcessor] }).getTracer("t")
      const span = emit(tracer, { name: "only-in-first" })
      expect(Option.isSome(yield* first.getTrace(traceOf(span)))).toBe(true)
      expect(Option.isNone(yield* second.getTrace(traceOf(span)))).toBe(true)
      expect(yield* second.searchTraces()).toEqual([])
    }))
})
