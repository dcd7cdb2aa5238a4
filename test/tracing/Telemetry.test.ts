import { assert, describe, expect, it } from "@effect/vitest"
import { diag, DiagLogLevel } from "@opentelemetry/api"
import {
  Cause,
  ConfigError,
  ConfigProvider,
  Context,
  Effect,
  Exit,
  FastCheck,
  Logger,
  LogLevel,
  Option,
  Redacted
} from "effect"
import * as Attributes from "../../src/tracing/Attributes.js"
import * as Telemetry from "../../src/tracing/Telemetry.js"
import { TraceStore } from "../../src/tracing/TraceStore.js"
import * as Receiver from "../support/otlpReceiver.js"

const withEnv = (env: Record<string, string>) =>
  Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env))))

const fromEnv = (env: Record<string, string>) => Telemetry.otlpFromEnv.pipe(withEnv(env))

const revealed = (headers: Telemetry.OtlpOptions["headers"]): Record<string, string> =>
  Object.fromEntries(
    Object.entries(headers ?? {}).map(([k, v]) => [k, Redacted.isRedacted(v) ? Redacted.value(v) : v])
  )

/** Every trace in the store, as served (JSON). */
const storedJson = Effect.gen(function*() {
  const store = yield* TraceStore
  const summaries = yield* store.searchTraces({ limit: 10_000 })
  const traces = yield* Effect.forEach(summaries, (s) => store.getTrace(s.traceId))
  return JSON.stringify({ summaries, traces: traces.map(Option.getOrThrow) })
})

describe("Telemetry.layerTest: Effect spans reach the store", () => {
  it.effect("withSpan: parent and child, with ids, kinds, attributes and status", () =>
    Effect.gen(function*() {
      const { child, parent } = yield* Effect.gen(function*() {
        const parent = yield* Effect.currentSpan
        const child = yield* Effect.currentSpan.pipe(
          Effect.withSpan("child", { kind: "client", attributes: { [Attributes.GenAiRequestModel]: "m-1", n: 2 } })
        )
        return { parent, child }
      }).pipe(Effect.withSpan("parent", { kind: "server" }))
      const failed = yield* Effect.fail(new Error("boom")).pipe(Effect.withSpan("failing", { parent }), Effect.exit)
      assert(Exit.isFailure(failed))

      const store = yield* TraceStore
      const trace = Option.getOrThrow(yield* store.getTrace(parent.traceId))
      const byName = new Map(trace.spans.map((s) => [s.name, s]))
      expect(trace.spans.map((s) => s.name)).toEqual(["parent", "child", "failing"])
      expect(byName.get("parent")).toMatchObject({
        traceId: parent.traceId,
        spanId: parent.spanId,
        parentSpanId: null,
        kind: "SERVER",
        status: { code: "OK" }
      })
      expect(byName.get("child")).toMatchObject({
        traceId: parent.traceId,
        spanId: child.spanId,
        parentSpanId: parent.spanId,
        kind: "CLIENT",
        status: { code: "OK" },
        attributes: { [Attributes.GenAiRequestModel]: "m-1", n: 2 }
      })
      const failing = byName.get("failing")!
      expect(failing.parentSpanId).toBe(parent.spanId)
      expect(failing.status).toEqual({ code: "ERROR", message: "boom" })
      expect(failing.events.map((e) => e.name)).toEqual(["exception"])
      expect(failing.events[0]!.attributes["exception.message"]).toBe("boom")
      const [summary] = yield* store.searchTraces()
      expect(summary!.rootSpan!.spanId).toBe(parent.spanId)
    }).pipe(Effect.provide(Telemetry.layerTest)))

  it.effect("makeSpanScoped: the span is stored when its scope closes, under its parent", () =>
    Effect.gen(function*() {
      const store = yield* TraceStore
      const { outer, scoped } = yield* Effect.gen(function*() {
        const outer = yield* Effect.currentSpan
        const scoped = yield* Effect.scoped(Effect.gen(function*() {
          const span = yield* Effect.makeSpanScoped("scoped", { kind: "producer" })
          // still open: not in the store yet
          expect(Option.isNone(yield* store.getTrace(span.traceId))).toBe(true)
          return span
        }))
        return { outer, scoped }
      }).pipe(Effect.withSpan("outer"))
      const trace = Option.getOrThrow(yield* store.getTrace(outer.traceId))
      const stored = trace.spans.find((s) => s.spanId === scoped.spanId)
      expect(stored).toMatchObject({ name: "scoped", kind: "PRODUCER", parentSpanId: outer.spanId })
    }).pipe(Effect.provide(Telemetry.layerTest)))

  it.effect("spans of a released layer stay readable; each build has its own store", () =>
    Effect.gen(function*() {
      const inside = Effect.gen(function*() {
        const store = yield* TraceStore
        const span = yield* Effect.currentSpan.pipe(Effect.withSpan("inside"))
        return { store, span }
      })
      const first = yield* inside.pipe(Effect.provide(Telemetry.layerTest))
      const second = yield* inside.pipe(Effect.provide(Telemetry.layerTest))
      // both layers are released here
      const trace = Option.getOrThrow(yield* first.store.getTrace(first.span.traceId))
      expect(trace.spans.map((s) => s.spanId)).toEqual([first.span.spanId])
      expect(Option.isNone(yield* second.store.getTrace(first.span.traceId))).toBe(true)
      expect(Option.isSome(yield* second.store.getTrace(second.span.traceId))).toBe(true)
    }))
})

// Explicit nanosecond times (not multiples of a microsecond), for exactness checks end to end.
const t0 = 1_700_000_000_123_456_789n
const t1 = t0 + 1_001n
const t2 = t0 + 2_000_003n
const t3 = t0 + 3_000_000_007n
const t4 = t0 + 4_999_999_999n

/** A root (server) and a failing child (client) with an event, at explicit times, plus a `withSpan` span. */
const emitSpans = Effect.gen(function*() {
  const tracer = yield* Effect.tracer
  const root = tracer.span("gateway/chat", Option.none(), Context.empty(), [], t0, "server")
  root.attribute(Attributes.EndpointName, "chat")
  root.attribute(Attributes.TraceSession, "session-1")
  root.attribute("count", 3)
  root.attribute("ratio", 0.25)
  root.attribute("flag", true)
  const child = tracer.span("provider/openai/gpt", Option.some(root), Context.empty(), [], t1, "client")
  child.attribute(Attributes.GenAiUsageInputTokens, 12)
  child.event("first_chunk", t2, { index: 0 })
  child.end(t3, Exit.fail(new Error("upstream failed")))
  root.end(t4, Exit.void)
  const auto = yield* Effect.currentSpan.pipe(Effect.withSpan("auto", { attributes: { k: "v" } }))
  return { root, child, auto }
})

const byName = (spans: ReadonlyArray<Receiver.DecodedSpan>, name: string): Receiver.DecodedSpan => {
  const found = spans.filter((s) => s.name === name)
  expect(found.length).toBe(1)
  return found[0]!
}

describe("OTLP export", () => {
  it("the test decoder reads the protobuf wire format (reference encodings)", () => {
    // field 1 = varint 150; field 2 = "testing"; field 3 = fixed64 1; field 4 = fixed32
    const bytes = new Uint8Array([
      0x08, 0x96, 0x01,
      0x12, 0x07, ...new TextEncoder().encode("testing"),
      0x19, 1, 0, 0, 0, 0, 0, 0, 0,
      0x25, 1, 2, 3, 4
    ])
    const fields = Receiver.readFields(bytes)
    expect(fields.map((f) => [f.no, f.wire])).toEqual([[1, 0], [2, 2], [3, 1], [4, 5]])
    expect(fields[0]).toEqual({ no: 1, wire: 0, varint: 150n })
    expect(new TextDecoder().decode((fields[1] as { bytes: Uint8Array }).bytes)).toBe("testing")
    expect(() => Receiver.readFields(new Uint8Array([0x12, 0x07, 0x74]))).toThrow()
  })

  for (const protocol of ["http/protobuf", "http/json"] as const) {
    it.scopedLive(`${protocol}: names, ids, parents, attributes, events, status, exact times; flushed on release`, () =>
      Effect.gen(function*() {
        const receiver = yield* Receiver.make
        const { auto, child, root, stored, sentBeforeRelease } = yield* Effect.gen(function*() {
          const spans = yield* emitSpans
          const store = yield* TraceStore
          const stored = Option.getOrThrow(yield* store.getTrace(spans.root.traceId))
          return { ...spans, stored, sentBeforeRelease: receiver.requests.length }
        }).pipe(Effect.provide(Telemetry.layer({
          serviceName: "svc",
          serviceVersion: "1.2.3",
          otlp: { url: receiver.url, protocol, headers: { "x-test-header": "present" } }
        })))

        // The batch processor waits 5 s between exports: what arrived, arrived with the flush on release.
        expect(sentBeforeRelease).toBe(0)
        expect(receiver.requests.length).toBeGreaterThan(0)
        for (const request of receiver.requests) {
          expect(request.method).toBe("POST")
          expect(request.path).toBe("/v1/traces")
          expect(request.headers["content-type"]).toBe(
            protocol === "http/json" ? "application/json" : "application/x-protobuf"
          )
          expect(request.headers["x-test-header"]).toBe("present")
        }
        const spans = receiver.spans()
        expect(spans.length).toBe(3)

        const r = byName(spans, "gateway/chat")
        expect(r.resource["service.name"]).toBe("svc")
        expect(r.resource["service.version"]).toBe("1.2.3")
        expect(r).toMatchObject({
          traceId: root.traceId,
          spanId: root.spanId,
          parentSpanId: "",
          kind: 2,
          startTimeUnixNano: t0.toString(),
          endTimeUnixNano: t4.toString(),
          status: { code: 1 }
        })
        expect(r.attributes).toEqual({
          [Attributes.EndpointName]: "chat",
          // trace metadata stays a root span attribute on OTLP ...
          [Attributes.TraceSession]: "session-1",
          count: 3,
          ratio: 0.25,
          flag: true
        })
        // ... while the store holds it at trace level
        expect(stored.metadata).toEqual({ [Attributes.TraceSession]: "session-1" })
        expect(stored.spans[0]!.attributes[Attributes.TraceSession]).toBeUndefined()
        expect(stored.spans.map((s) => [s.spanId, s.startTimeUnixNano, s.endTimeUnixNano])).toEqual([
          [root.spanId, t0.toString(), t4.toString()],
          [child.spanId, t1.toString(), t3.toString()]
        ])

        const c = byName(spans, "provider/openai/gpt")
        expect(c).toMatchObject({
          traceId: root.traceId,
          spanId: child.spanId,
          parentSpanId: root.spanId,
          kind: 3,
          startTimeUnixNano: t1.toString(),
          endTimeUnixNano: t3.toString(),
          status: { code: 2, message: "upstream failed" }
        })
        expect(c.attributes).toEqual({ [Attributes.GenAiUsageInputTokens]: 12 })
        expect(c.events.map((e) => [e.name, e.timeUnixNano])).toEqual([
          ["first_chunk", t2.toString()],
          ["exception", t3.toString()]
        ])
        expect(c.events[0]!.attributes).toEqual({ index: 0 })
        expect(c.events[1]!.attributes["exception.message"]).toBe("upstream failed")

        const a = byName(spans, "auto")
        expect(a).toMatchObject({ traceId: auto.traceId, spanId: auto.spanId, parentSpanId: "", kind: 1 })
        expect(a.attributes).toEqual({ k: "v" })
        expect(BigInt(a.endTimeUnixNano) >= BigInt(a.startTimeUnixNano)).toBe(true)
      }))
  }

  it.live("receiver down (closed port): the traced effect succeeds promptly and the store still records", () =>
    Effect.gen(function*() {
      const url = yield* Receiver.closedUrl
      const releaseStarted = { at: 0 }
      const outcome = yield* Effect.gen(function*() {
        const started = Date.now()
        const spans = yield* Effect.forEach(
          Array.from({ length: 50 }, (_, i) => i),
          (i) => Effect.succeed(i).pipe(Effect.withSpan(`call-${i}`))
        )
        const elapsed = Date.now() - started
        const store = yield* TraceStore
        const found = yield* store.searchTraces({ limit: 1000 })
        releaseStarted.at = Date.now()
        return { spans, elapsed, found: found.length }
      }).pipe(
        Effect.provide(Telemetry.layer({ otlp: { url, protocol: "http/protobuf" }, shutdownTimeout: "300 millis" }))
      )
      const releaseTook = Date.now() - releaseStarted.at
      expect(outcome.spans.length).toBe(50)
      expect(outcome.found).toBe(50)
      expect(outcome.elapsed).toBeLessThan(1000)
      // releasing is bounded by shutdownTimeout even though the flush cannot succeed
      expect(releaseTook).toBeLessThan(3000)
    }))

  it.scopedLive("receiver answers 500: the traced effect succeeds; the export was attempted", () =>
    Effect.gen(function*() {
      const receiver = yield* Receiver.make
      receiver.setStatus(500)
      const result = yield* Effect.succeed("ok").pipe(
        Effect.withSpan("call"),
        Effect.provide(Telemetry.layer({ otlp: { url: receiver.url, protocol: "http/json" } }))
      )
      expect(result).toBe("ok")
      expect(receiver.requests.length).toBeGreaterThan(0)
      expect(receiver.spans().map((s) => s.name)).toEqual(["call"])
    }))

  it.effect("an OTLP url that is not http(s) is a defect at build time that does not echo the url", () =>
    Effect.gen(function*() {
      const exit = yield* TraceStore.pipe(
        Effect.provide(Telemetry.layer({ otlp: { url: "not a url, secret-in-url", protocol: "http/json" } })),
        Effect.exit
      )
      assert(Exit.isFailure(exit))
      expect(Cause.isDie(exit.cause)).toBe(true)
      expect(Cause.pretty(exit.cause)).toContain("OTLP traces URL")
      expect(Cause.pretty(exit.cause)).not.toContain("secret-in-url")
    }))
})

describe("otlpFromEnv", () => {
  it.effect("no endpoint (or a blank one) → None: store only", () =>
    Effect.gen(function*() {
      expect(yield* fromEnv({})).toEqual(Option.none())
      expect(yield* fromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: "  ", OTEL_EXPORTER_OTLP_PROTOCOL: "http/json" })).toEqual(
        Option.none()
      )
    }))

  it.effect("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is used as is and wins over the base endpoint", () =>
    Effect.gen(function*() {
      const only = Option.getOrThrow(
        yield* fromEnv({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://h:4318/custom/path" })
      )
      expect(only.url).toBe("http://h:4318/custom/path")
      const both = Option.getOrThrow(
        yield* fromEnv({
          OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "https://traces.example/x",
          OTEL_EXPORTER_OTLP_ENDPOINT: "http://base:4318"
        })
      )
      expect(both.url).toBe("https://traces.example/x")
    }))

  it.effect("OTEL_EXPORTER_OTLP_ENDPOINT is a base: /v1/traces is appended", () =>
    Effect.gen(function*() {
      for (
        const [base, url] of [
          ["http://collector:4318", "http://collector:4318/v1/traces"],
          ["http://collector:4318/", "http://collector:4318/v1/traces"],
          ["https://mlflow.example/api/otel", "https://mlflow.example/api/otel/v1/traces"]
        ]
      ) {
        const options = Option.getOrThrow(yield* fromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: base! }))
        expect(options).toEqual({ url, protocol: "http/protobuf", headers: {} })
      }
    }))

  it.effect("protocol: http/protobuf by default, http/json on request, the traces-specific variable wins", () =>
    Effect.gen(function*() {
      const base = { OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318" }
      expect(Option.getOrThrow(yield* fromEnv(base)).protocol).toBe("http/protobuf")
      expect(Option.getOrThrow(yield* fromEnv({ ...base, OTEL_EXPORTER_OTLP_PROTOCOL: "http/json" })).protocol).toBe(
        "http/json"
      )
      expect(
        Option.getOrThrow(
          yield* fromEnv({
            ...base,
            OTEL_EXPORTER_OTLP_PROTOCOL: "grpc",
            OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: "http/json"
          })
        ).protocol
      ).toBe("http/json")
    }))

  it.effect("protocol grpc (or anything else) is a typed config error naming the variable", () =>
    Effect.gen(function*() {
      const grpc = yield* Effect.flip(
        fromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4317", OTEL_EXPORTER_OTLP_PROTOCOL: "grpc" })
      )
      assert(ConfigError.isConfigError(grpc))
      assert(grpc._op === "InvalidData")
      expect(grpc.path).toEqual(["OTEL_EXPORTER_OTLP_PROTOCOL"])
      expect(grpc.message).toContain("gRPC is not supported")
      const other = yield* Effect.flip(
        fromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318", OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: "thrift" })
      )
      assert(other._op === "InvalidData")
      expect(other.path).toEqual(["OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"])
    }))

  it.effect("an endpoint that is not an http(s) URL is a config error that does not echo it", () =>
    Effect.gen(function*() {
      for (const value of ["not a url secret-1", "ftp://user:secret-1@host/x"]) {
        const error = yield* Effect.flip(fromEnv({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: value }))
        assert(error._op === "InvalidData")
        expect(error.path).toEqual(["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"])
        expect(String(error)).not.toContain("secret-1")
      }
    }))

  it.effect("headers: k=v pairs, percent-decoded, trimmed; traces-specific headers override by name; Redacted", () =>
    Effect.gen(function*() {
      const options = Option.getOrThrow(
        yield* fromEnv({
          OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318",
          OTEL_EXPORTER_OTLP_HEADERS: "authorization=Bearer%20secret , x-team = a%3Db,,x-over=general",
          OTEL_EXPORTER_OTLP_TRACES_HEADERS: "x-over=traces"
        })
      )
      expect(revealed(options.headers)).toEqual({
        authorization: "Bearer secret",
        "x-team": "a=b",
        "x-over": "traces"
      })
      for (const value of Object.values(options.headers ?? {})) expect(Redacted.isRedacted(value)).toBe(true)
      // printing the options never shows a value
      expect(JSON.stringify(options)).not.toContain("secret")
      expect(String(Option.some(options))).not.toContain("secret")
    }))

  it.effect("a malformed header member is a config error naming only its position", () =>
    Effect.gen(function*() {
      for (const headers of ["authorization", "authorization=Bearer secret%", "bad key=secret", "k=secret\u20ac"]) {
        const error = yield* Effect.flip(
          fromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318", OTEL_EXPORTER_OTLP_HEADERS: headers })
        )
        assert(error._op === "InvalidData")
        expect(error.path).toEqual(["OTEL_EXPORTER_OTLP_HEADERS"])
        expect(error.message).toContain("Member 1")
        expect(String(error)).not.toContain("secret")
      }
    }))

  it.prop(
    "headers round-trip: percent-encoded values decode to exactly what was encoded",
    [FastCheck.dictionary(FastCheck.stringMatching(/^[a-z0-9-]{1,12}$/), FastCheck.string({ maxLength: 30 }))],
    ([headers]) => {
      const raw = Object.entries(headers).map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join(",")
      const options = Effect.runSync(
        fromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318", OTEL_EXPORTER_OTLP_HEADERS: raw })
      )
      expect(revealed(Option.getOrThrow(options).headers)).toEqual(headers)
    },
    { fastCheck: { numRuns: 300 } }
  )
})

describe("credentials", () => {
  for (const protocol of ["http/protobuf", "http/json"] as const) {
    it.scopedLive(`${protocol}: OTLP headers (authorization=Bearer secret) never reach a span, payload or log`, () =>
      Effect.gen(function*() {
        const receiver = yield* Receiver.make
        const logs: Array<string> = []
        const diagnostics: Array<string> = []
        const push = (...args: Array<unknown>) => diagnostics.push(args.map(String).join(" "))
        yield* Effect.acquireRelease(
          Effect.sync(() =>
            diag.setLogger({ error: push, warn: push, info: push, debug: push, verbose: push }, DiagLogLevel.ALL)
          ),
          () => Effect.sync(() => diag.disable())
        )
        const logger = Logger.replace(
          Logger.defaultLogger,
          Logger.make((options) => {
            logs.push(Logger.logfmtLogger.log(options))
          })
        )

        const stored = yield* Effect.gen(function*() {
          yield* emitSpans
          yield* Effect.fail(new Error("provider error")).pipe(
            Effect.withSpan("failing", { kind: "client" }),
            Effect.ignore
          )
          yield* Effect.logInfo("a user log line")
          return yield* storedJson
        }).pipe(
          Effect.provide(Telemetry.layerFromEnv({ serviceName: "default-name" })),
          withEnv({
            OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url.replace(/\/v1\/traces$/, ""),
            OTEL_EXPORTER_OTLP_PROTOCOL: protocol,
            OTEL_EXPORTER_OTLP_HEADERS: "authorization=Bearer secret",
            OTEL_SERVICE_NAME: "from-env"
          }),
          Effect.provide(logger),
          Logger.withMinimumLogLevel(LogLevel.All)
        )

        // The header was configured and used: only on the export request itself.
        expect(receiver.requests.length).toBeGreaterThan(0)
        for (const request of receiver.requests) expect(request.headers["authorization"]).toBe("Bearer secret")
        const exported = receiver.spans()
        expect(exported.map((s) => s.name).sort()).toEqual(["auto", "failing", "gateway/chat", "provider/openai/gpt"])
        for (const span of exported) expect(span.resource["service.name"]).toBe("from-env")

        expect(stored).toContain("gateway/chat")
        expect(stored).not.toContain("secret")
        expect(JSON.stringify(exported)).not.toContain("secret")
        for (const request of receiver.requests) {
          expect(Buffer.from(request.body).toString("latin1")).not.toContain("secret")
        }
        expect(logs.some((line) => line.includes("a user log line"))).toBe(true)
        for (const line of [...logs, ...diagnostics]) expect(line).not.toContain("secret")
      }))
  }
})
