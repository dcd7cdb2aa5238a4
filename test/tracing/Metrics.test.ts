import * as HttpServer from "@effect/platform/HttpServer"
import * as HttpMiddleware from "@effect/platform/HttpMiddleware"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import { assert, describe, expect, it } from "@effect/vitest"
import type { ResourceMetrics } from "@opentelemetry/sdk-metrics"
import { Cause, ConfigError, ConfigProvider, Context, Effect, Exit, FastCheck, Layer, Logger, LogLevel, Option, Schema } from "effect"
import { createServer } from "node:http"
import * as GatewayModule from "../../src/gateway/Gateway.js"
import { Gateway } from "../../src/gateway/Gateway.js"
import * as GatewayConfig from "../../src/gateway/GatewayConfig.js"
import * as MetricsApi from "../../src/gateway/MetricsApi.js"
import * as Sse from "../../src/Sse.js"
import * as Metrics from "../../src/tracing/Metrics.js"
import * as Telemetry from "../../src/tracing/Telemetry.js"
import {
  expectedCounts,
  histogramPoints,
  metric,
  parsePrometheus,
  pointWith,
  samplesWith,
  sumPoints
} from "../support/metrics.js"
import * as Receiver from "../support/otlpReceiver.js"
import * as Paced from "../support/pacedUpstream.js"

const durationBounds = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92]
const tokenBounds = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864]
const httpBounds = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10]

const openai = {
  "gen_ai.operation.name": "chat",
  "gen_ai.provider.name": "openai",
  "gen_ai.request.model": "gpt-4o-mini",
  "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
  "server.address": "api.openai.com",
  "server.port": 443
}

/** A call to OpenAI's chat API with `openai`'s attributes. */
const openaiCall = (fields: Partial<Metrics.CallRecord> & Pick<Metrics.CallRecord, "duration">): Metrics.CallRecord => ({
  operation: "chat",
  provider: "openai",
  requestModel: "gpt-4o-mini",
  responseModel: "gpt-4o-mini-2024-07-18",
  serverAddress: "api.openai.com",
  serverPort: 443,
  ...fields
})

const chunksAt = (times: ReadonlyArray<number>): Metrics.ChunkTimes => {
  const chunks = Metrics.makeChunkTimes()
  for (const t of times) chunks.mark(t)
  return chunks
}

/** Records with a fresh pipeline, then returns what its reader collects. */
const recorded = (record: (metrics: Metrics.Metrics["Type"]) => void, options?: Metrics.Options) =>
  Effect.gen(function*() {
    const metrics = yield* Metrics.Metrics
    record(metrics)
    return Option.getOrThrow(yield* metrics.collect)
  }).pipe(Effect.provide(Metrics.layer(options)))

const names = (collected: ResourceMetrics) => collected.scopeMetrics.flatMap((s) => s.metrics.map((m) => m.descriptor.name)).sort()

describe("Metrics: a call recorded, read back through the SDK's reader", () => {
  it.effect("a streamed call: the four histograms with their names, units, buckets and exact attributes", () =>
    Effect.gen(function*() {
      const collected = yield* recorded((m) =>
        m.recordCall(openaiCall({
          duration: 1.6,
          chunks: chunksAt([0.3, 0.35, 0.4, 0.5, 1.5]),
          usage: { inputTokens: 12, outputTokens: 40, totalTokens: 52 }
        }))
      )
      expect(names(collected)).toEqual([
        "gen_ai.client.operation.duration",
        "gen_ai.client.operation.time_per_output_chunk",
        "gen_ai.client.operation.time_to_first_chunk",
        "gen_ai.client.token.usage"
      ])
      const descriptors = Object.fromEntries(collected.scopeMetrics.flatMap((s) => s.metrics).map((m) => [m.descriptor.name, m.descriptor.unit]))
      expect(descriptors).toEqual({
        "gen_ai.client.operation.duration": "s",
        "gen_ai.client.operation.time_per_output_chunk": "s",
        "gen_ai.client.operation.time_to_first_chunk": "s",
        "gen_ai.client.token.usage": "{token}"
      })

      const duration = pointWith(histogramPoints(collected, "gen_ai.client.operation.duration"), openai).value
      expect(duration.buckets).toEqual({ boundaries: durationBounds, counts: expectedCounts(durationBounds, [1.6]) })
      expect(duration.buckets.counts[8]).toBe(1) // (1.28, 2.56]
      expect([duration.count, duration.sum]).toEqual([1, 1.6])

      const first = pointWith(histogramPoints(collected, "gen_ai.client.operation.time_to_first_chunk"), openai).value
      expect([first.count, first.sum, first.buckets.counts[5]]).toEqual([1, 0.3, 1]) // (0.16, 0.32]

      // Each chunk after the first: 0.05, 0.05, 0.1, 1.0 s.
      const perChunk = pointWith(histogramPoints(collected, "gen_ai.client.operation.time_per_output_chunk"), openai).value
      expect(perChunk.buckets).toEqual({ boundaries: durationBounds, counts: expectedCounts(durationBounds, [0.05, 0.05, 0.1, 1.0]) })
      expect(perChunk.count).toBe(4)
      expect(perChunk.sum).toBeCloseTo(1.2, 12)
      expect([perChunk.min, perChunk.max]).toEqual([0.35 - 0.3, 1.0])

      const tokens = histogramPoints(collected, "gen_ai.client.token.usage")
      expect(tokens).toHaveLength(2)
      const input = pointWith(tokens, { ...openai, "gen_ai.token.type": "input" }).value
      const output = pointWith(tokens, { ...openai, "gen_ai.token.type": "output" }).value
      expect(input.buckets).toEqual({ boundaries: tokenBounds, counts: expectedCounts(tokenBounds, [12]) })
      expect([input.count, input.sum, output.count, output.sum]).toEqual([1, 12, 1, 40])
    }))

  it.effect("a value on a bucket's bound falls in that bucket (upper bounds are inclusive, as Prometheus' le)", () =>
    Effect.gen(function*() {
      const values = [0.01, 0.0100001, 81.92, 81.93, 0]
      const collected = yield* recorded((m) => {
        for (const duration of values) m.recordCall({ operation: "chat", provider: "openai", duration })
      })
      const point = pointWith(histogramPoints(collected, "gen_ai.client.operation.duration"), {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai"
      }).value
      const counts = new Array(15).fill(0)
      counts[0] = 2 // 0 and 0.01
      counts[1] = 1 // 0.0100001
      counts[13] = 1 // 81.92
      counts[14] = 1 // 81.93
      expect(point.buckets.counts).toEqual(counts)
    }))

  it.effect.prop(
    "any duration lands in the bucket (b[i-1], b[i]] that holds it",
    [FastCheck.array(FastCheck.oneof(FastCheck.double({ min: 0, max: 200, noNaN: true }), FastCheck.constantFrom(...durationBounds)), { minLength: 1, maxLength: 100 })],
    ([durations]) =>
      Effect.gen(function*() {
        const collected = yield* recorded((m) => {
          for (const duration of durations) m.recordCall({ operation: "chat", provider: "p", duration })
        })
        const point = histogramPoints(collected, "gen_ai.client.operation.duration")[0]!.value
        expect(point.buckets.counts).toEqual(expectedCounts(durationBounds, durations))
        expect([point.count, point.min, point.max]).toEqual([durations.length, Math.min(...durations), Math.max(...durations)])
      }),
    { fastCheck: { numRuns: 50 } }
  )

  it.effect.prop(
    "time to first chunk and time per output chunk are those of the arrival times, for any stream",
    [FastCheck.array(FastCheck.double({ min: 0, max: 5, noNaN: true }), { minLength: 1, maxLength: 300 })],
    ([gaps]) => Effect.gen(function*() {
      // Arrival times: a running sum of gaps (non-decreasing), the first one being the time to first chunk.
      const times: Array<number> = []
      for (const gap of gaps) times.push((times.at(-1) ?? 0) + gap)
      const collected = yield* recorded((m) =>
        m.recordCall({ operation: "chat", provider: "p", duration: times.at(-1)! + 0.01, chunks: chunksAt(times) })
      )
      const first = histogramPoints(collected, "gen_ai.client.operation.time_to_first_chunk")[0]!.value
      expect([first.count, first.sum]).toEqual([1, times[0]])
      const intervals = times.slice(1).map((t, i) => t - times[i]!)
      const perChunk = histogramPoints(collected, "gen_ai.client.operation.time_per_output_chunk")
      if (intervals.length === 0) {
        expect(perChunk).toEqual([])
        return
      }
      expect(perChunk[0]!.value.buckets.counts).toEqual(expectedCounts(durationBounds, intervals))
      expect(perChunk[0]!.value.count).toBe(intervals.length)
      expect(perChunk[0]!.value.sum).toBeCloseTo(intervals.reduce((a, b) => a + b, 0), 9)
    }),
    { fastCheck: { numRuns: 50 } }
  )

  it.effect("a non-streamed call records no chunk timing, and token usage only for the counts observed", () =>
    Effect.gen(function*() {
      const collected = yield* recorded((m) => m.recordCall(openaiCall({ duration: 0.5, usage: { inputTokens: 7 } })))
      expect(names(collected)).toEqual(["gen_ai.client.operation.duration", "gen_ai.client.token.usage"])
      const tokens = histogramPoints(collected, "gen_ai.client.token.usage")
      expect(tokens.map((p) => p.attributes["gen_ai.token.type"])).toEqual(["input"])
      expect(tokens[0]!.value.sum).toBe(7)
    }))

  it.effect("failed and cancelled calls: error.type on the duration only", () =>
    Effect.gen(function*() {
      const collected = yield* recorded((m) => {
        m.recordCall(openaiCall({ duration: 0.2, errorType: "429" }))
        m.recordCall(openaiCall({ duration: 3, errorType: "cancelled", chunks: chunksAt([0.5, 1]), usage: { inputTokens: 9 } }))
        m.recordCall(openaiCall({ duration: 1 }))
      })
      const durations = histogramPoints(collected, "gen_ai.client.operation.duration")
      expect(durations).toHaveLength(3)
      expect(pointWith(durations, { ...openai, "error.type": "429" }).value.sum).toBe(0.2)
      expect(pointWith(durations, { ...openai, "error.type": "cancelled" }).value.sum).toBe(3)
      expect(pointWith(durations, openai).value.sum).toBe(1)
      // The other histograms define no error.type: the cancelled call's chunks and usage are recorded as they were.
      expect(pointWith(histogramPoints(collected, "gen_ai.client.operation.time_to_first_chunk"), openai).value.sum).toBe(0.5)
      expect(pointWith(histogramPoints(collected, "gen_ai.client.token.usage"), { ...openai, "gen_ai.token.type": "input" }).value.sum)
        .toBe(9)
    }))

  it.effect.prop(
    "token sums equal the usage of the calls, per model and type",
    [FastCheck.array(
      FastCheck.record({
        model: FastCheck.constantFrom("a", "b"),
        input: FastCheck.option(FastCheck.nat(100_000), { nil: undefined }),
        output: FastCheck.option(FastCheck.nat(100_000), { nil: undefined })
      }),
      { maxLength: 50 }
    )],
    ([calls]) => Effect.gen(function*() {
      const collected = yield* recorded((m) => {
        for (const c of calls) {
          m.recordCall({
            operation: "chat",
            provider: "p",
            requestModel: c.model,
            duration: 1,
            usage: { ...(c.input === undefined ? {} : { inputTokens: c.input }), ...(c.output === undefined ? {} : { outputTokens: c.output }) }
          })
        }
      })
      const points = histogramPoints(collected, "gen_ai.client.token.usage")
      for (const model of ["a", "b"]) {
        for (const [type, field] of [["input", "input"], ["output", "output"]] as const) {
          const values = calls.filter((c) => c.model === model).map((c) => c[field]).filter((v): v is number => v !== undefined)
          const found = points.filter((p) => p.attributes["gen_ai.request.model"] === model && p.attributes["gen_ai.token.type"] === type)
          if (values.length === 0) expect(found).toEqual([])
          else {
            expect(found[0]!.value.sum).toBe(values.reduce((a, b) => a + b, 0))
            expect(found[0]!.value.buckets.counts).toEqual(expectedCounts(tokenBounds, values))
          }
        }
      }
    }),
    { fastCheck: { numRuns: 30 } }
  )

  it.effect("models beyond the cap become _OTHER; known values and earlier ones stay; over-long values are _OTHER", () =>
    Effect.gen(function*() {
      const collected = yield* recorded((m) => {
        for (const model of ["a", "b", "c", "configured", "a", "d", "x".repeat(300)]) {
          m.recordCall({ operation: "chat", provider: "p", requestModel: model, responseModel: model, duration: 1 })
        }
      }, { maxAttributeValues: 2, knownValues: ["configured"] })
      const counts = Object.fromEntries(
        histogramPoints(collected, "gen_ai.client.operation.duration").map((p) => [
          `${p.attributes["gen_ai.request.model"]}/${p.attributes["gen_ai.response.model"]}`,
          p.value.count
        ])
      )
      expect(counts).toEqual({ "a/a": 2, "b/b": 1, "configured/configured": 1, "_OTHER/_OTHER": 3 })
    }))

  it.effect("past 2000 attribute sets per instrument, measurements go to one otel.metric.overflow series", () =>
    Effect.gen(function*() {
      const collected = yield* recorded((m) => {
        for (let i = 0; i < 2100; i++) {
          m.recordCall({ operation: "chat", provider: "p", requestModel: `m${i % 50}`, responseModel: `r${Math.floor(i / 50)}`, duration: 1 })
        }
      })
      const points = histogramPoints(collected, "gen_ai.client.operation.duration")
      expect(points).toHaveLength(2001)
      expect(pointWith(points, { "otel.metric.overflow": true }).value.count).toBe(100)
    }))

  it.effect.prop(
    "recording never throws, whatever the record holds",
    [FastCheck.record({
      model: FastCheck.string(),
      duration: FastCheck.oneof(FastCheck.double(), FastCheck.constant(NaN), FastCheck.constant(-1)),
      times: FastCheck.array(FastCheck.oneof(FastCheck.double(), FastCheck.constant(Infinity))),
      tokens: FastCheck.oneof(FastCheck.integer(), FastCheck.double()),
      status: FastCheck.integer(),
      method: FastCheck.string()
    })],
    ([r]) =>
      recorded((m) => {
        m.recordCall({
          operation: "chat",
          provider: "p",
          requestModel: r.model,
          errorType: r.model,
          serverAddress: r.model,
          duration: r.duration,
          chunks: chunksAt(r.times),
          usage: { inputTokens: r.tokens, outputTokens: r.tokens }
        })
        m.recordRequest({ method: r.method, route: r.model, status: r.status, duration: r.duration, endpoint: r.model })
      }, { semconv: "latest" }).pipe(Effect.asVoid),
    { fastCheck: { numRuns: 50 } }
  )

  it.effect("enabled: false is the no-op service", () =>
    Effect.gen(function*() {
      const metrics = yield* Metrics.Metrics
      metrics.recordCall(openaiCall({ duration: 1 }))
      expect(metrics.enabled).toBe(false)
      expect(yield* metrics.collect).toEqual(Option.none())
      expect(yield* metrics.prometheus).toEqual(Option.none())
    }).pipe(Effect.provide(Metrics.layer({ enabled: false }))))
})

describe("Metrics: gateway requests (http.server.request.duration)", () => {
  it.effect("method, scheme, route pattern, status, endpoint; error.type for 5xx and cancelled; unknown methods are _OTHER", () =>
    Effect.gen(function*() {
      const route = "/gateway/openai/v1/chat/completions"
      const collected = yield* recorded((m) => {
        m.recordRequest({ method: "POST", route, status: 200, duration: 0.3, endpoint: "chat" })
        m.recordRequest({ method: "POST", route, status: 200, duration: 0.6, endpoint: "chat" })
        m.recordRequest({ method: "POST", route, status: 404, duration: 0.001 })
        m.recordRequest({ method: "POST", route, status: 502, duration: 0.02, endpoint: "chat" })
        m.recordRequest({ method: "POST", route, status: 200, duration: 2, endpoint: "chat", errorType: "cancelled" })
        m.recordRequest({ method: "BREW", route: "/metrics", status: 404, duration: 0.001 })
      })
      const points = histogramPoints(collected, "http.server.request.duration")
      const base = { "http.request.method": "POST", "url.scheme": "http", "http.route": route }
      const ok = pointWith(points, { ...base, "http.response.status_code": 200, "endpoint_name": "chat" }).value
      expect(ok.buckets).toEqual({ boundaries: httpBounds, counts: expectedCounts(httpBounds, [0.3, 0.6]) })
      expect([ok.count, ok.sum]).toEqual([2, 0.8999999999999999])
      expect(pointWith(points, { ...base, "http.response.status_code": 404 }).value.count).toBe(1)
      expect(pointWith(points, { ...base, "http.response.status_code": 502, "error.type": "502", "endpoint_name": "chat" }).value.count)
        .toBe(1)
      expect(pointWith(points, { ...base, "http.response.status_code": 200, "error.type": "cancelled", "endpoint_name": "chat" }).value.count)
        .toBe(1)
      expect(pointWith(points, { "http.request.method": "_OTHER", "url.scheme": "http", "http.route": "/metrics", "http.response.status_code": 404 }).value.count)
        .toBe(1)
    }))
})

describe("Metrics: semconv gen_ai_latest_experimental", () => {
  it.effect("OTEL_SEMCONV_STABILITY_OPT_IN selects the names (a comma-separated list; other values ignored)", () =>
    Effect.gen(function*() {
      const read = (value: string | undefined) =>
        Metrics.semconvFromEnv.pipe(Effect.withConfigProvider(ConfigProvider.fromMap(new Map(value === undefined ? [] : [["OTEL_SEMCONV_STABILITY_OPT_IN", value]]))))
      expect(yield* read(undefined)).toBe("default")
      expect(yield* read("http")).toBe("default")
      expect(yield* read("http, gen_ai_latest_experimental")).toBe("latest")
    }))

  it.effect("inference names; per-direction token histograms with error.type; counters with modality unknown, 0 when not reported", () =>
    Effect.gen(function*() {
      const collected = yield* recorded((m) => {
        m.recordCall(openaiCall({
          duration: 1.6,
          chunks: chunksAt([0.3, 0.4]),
          usage: { inputTokens: 100, outputTokens: 40, cacheReadInputTokens: 64, reasoningTokens: 10 }
        }))
        m.recordCall(openaiCall({ duration: 0.1, errorType: "500" }))
      }, { semconv: "latest" })
      expect(names(collected)).toEqual([
        "gen_ai.client.inference.duration",
        "gen_ai.client.inference.operation.input_tokens",
        "gen_ai.client.inference.operation.output_tokens",
        "gen_ai.client.inference.time_per_output_chunk",
        "gen_ai.client.inference.time_to_first_chunk",
        "gen_ai.client.inference.usage.cache_read.input_tokens",
        "gen_ai.client.inference.usage.cache_write.input_tokens",
        "gen_ai.client.inference.usage.input_tokens",
        "gen_ai.client.inference.usage.output_tokens",
        "gen_ai.client.inference.usage.reasoning.output_tokens"
      ])
      const input = histogramPoints(collected, "gen_ai.client.inference.operation.input_tokens")
      expect(pointWith(input, openai).value.sum).toBe(100)
      expect(pointWith(input, { ...openai, "error.type": "500" }).value).toMatchObject({ count: 1, sum: 0 })
      const modality = { ...openai, "gen_ai.token.modality": "unknown" }
      const counter = (name: string) => pointWith(sumPoints(collected, name), modality).value
      expect(metric(collected, "gen_ai.client.inference.usage.input_tokens")).toMatchObject({ isMonotonic: true })
      expect(counter("gen_ai.client.inference.usage.input_tokens")).toBe(100)
      expect(counter("gen_ai.client.inference.usage.output_tokens")).toBe(40)
      expect(counter("gen_ai.client.inference.usage.cache_read.input_tokens")).toBe(64)
      expect(counter("gen_ai.client.inference.usage.cache_write.input_tokens")).toBe(0)
      expect(counter("gen_ai.client.inference.usage.reasoning.output_tokens")).toBe(10)
    }))
})

describe("Metrics: chunk timing of a real stream", () => {
  // 200 ms to the first event, then 60, 60, 120, 60 ms between events, written by a real HTTP server.
  const delaysMs = [200, 60, 60, 120, 60]

  it.live("marks taken as the SSE events arrive give a time to first chunk and intervals the pauses bound", () =>
    Effect.scoped(Effect.gen(function*() {
      const upstream = yield* Paced.start(delaysMs.map((_, i) => JSON.stringify({ i })), delaysMs)
      const marks = Metrics.makeChunkTimes()
      const seen: Array<number> = []
      const duration = yield* Effect.promise(async () => {
        const start = performance.now()
        const response = await fetch(upstream.url, { method: "POST", body: "{}" })
        const parser = Sse.makeParser({ dispatchIncompleteAtEnd: true })
        for await (const bytes of response.body!) {
          // Every event the bytes complete arrived now (as a provider fold's step sees them).
          for (const _ of parser.feed(bytes)) {
            const at = (performance.now() - start) / 1000
            seen.push(at)
            marks.mark(at)
          }
        }
        return (performance.now() - start) / 1000
      })
      const collected = yield* recorded((m) => m.recordCall({ operation: "chat", provider: "openai", duration, chunks: marks }))
      expect(seen).toHaveLength(delaysMs.length)
      const first = histogramPoints(collected, "gen_ai.client.operation.time_to_first_chunk")[0]!.value
      // A pause can be stretched on the way, never shortened.
      expect(first.sum).toBeGreaterThanOrEqual(0.2)
      expect(first.sum).toBe(seen[0])
      const perChunk = histogramPoints(collected, "gen_ai.client.operation.time_per_output_chunk")[0]!.value
      const intervals = seen.slice(1).map((t, i) => t - seen[i]!)
      expect(perChunk.count).toBe(delaysMs.length - 1)
      expect(perChunk.buckets.counts).toEqual(expectedCounts(durationBounds, intervals))
      expect(perChunk.sum).toBeCloseTo(seen.at(-1)! - seen[0]!, 9)
      const total = pointWith(histogramPoints(collected, "gen_ai.client.operation.duration"), {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai"
      }).value
      expect(total.sum).toBeGreaterThanOrEqual(delaysMs.reduce((a, b) => a + b, 0) / 1000)
    })))
})

// GET /metrics ---------------------------------------------------------------------------------------------------

const gatewayWithKey = (key: string) =>
  GatewayModule.make(Schema.decodeUnknownSync(GatewayConfig.Config)({
    auth: { keys: [{ key, username: "prometheus" }] },
    endpoints: [{ name: "echo", provider: { kind: "echo" } }]
  }))

/** `MetricsApi.router` on 127.0.0.1 (ephemeral port), with the given metrics; `test` gets its base URL. */
const serving = <A, E>(metrics: Layer.Layer<Metrics.Metrics>, test: (url: string, service: Metrics.Metrics["Type"]) => Effect.Effect<A, E>) =>
  Effect.scoped(Effect.gen(function*() {
    const context = yield* Layer.build(
      MetricsApi.router.pipe(
        HttpServer.serve(),
        HttpMiddleware.withTracerDisabledWhen(() => true),
        Layer.provide(Layer.succeed(Gateway, gatewayWithKey("k-1"))),
        Layer.provideMerge(metrics),
        Layer.provideMerge(NodeHttpServer.layer(createServer, { host: "127.0.0.1", port: 0 }))
      )
    )
    const address = Context.get(context, HttpServer.HttpServer).address
    assert(address._tag === "TcpAddress")
    return yield* test(`http://127.0.0.1:${address.port}`, Context.get(context, Metrics.Metrics))
  })).pipe(Logger.withMinimumLogLevel(LogLevel.Warning))

const get = (url: string, headers: Record<string, string> = {}) =>
  Effect.promise(async () => {
    const response = await fetch(url, { headers })
    return { status: response.status, type: response.headers.get("content-type"), body: await response.text() }
  })

describe("GET /metrics", () => {
  it.live("serves the Prometheus text of what was recorded, with the gateway's keys", () =>
    serving(Metrics.layer(), (url, metrics) =>
      Effect.gen(function*() {
        metrics.recordCall(openaiCall({ duration: 1.6, chunks: chunksAt([0.3, 0.35]), usage: { inputTokens: 12, outputTokens: 40 } }))
        metrics.recordCall({ operation: "chat", provider: "anthropic", requestModel: "claude-x", duration: 0.05, errorType: "cancelled" })
        metrics.recordRequest({ method: "POST", route: "/gateway/anthropic/v1/messages", status: 200, duration: 0.06, endpoint: "claude" })

        const denied = yield* get(`${url}/metrics`)
        expect(denied.status).toBe(401)
        expect(JSON.parse(denied.body)).toEqual({
          error: { message: "missing or unknown gateway key", type: "authentication_error", param: null, code: "authentication_error" }
        })

        const response = yield* get(`${url}/metrics`, { authorization: "Bearer k-1" })
        expect(response.status).toBe(200)
        expect(response.type).toBe("text/plain; version=0.0.4; charset=utf-8")
        const text = parsePrometheus(response.body)
        for (const family of ["gen_ai_client_operation_duration", "gen_ai_client_token_usage", "gen_ai_client_operation_time_to_first_chunk", "gen_ai_client_operation_time_per_output_chunk", "http_server_request_duration"]) {
          expect(text.types.get(family)).toBe("histogram")
        }
        const labels = {
          gen_ai_operation_name: "chat",
          gen_ai_provider_name: "openai",
          gen_ai_request_model: "gpt-4o-mini",
          gen_ai_response_model: "gpt-4o-mini-2024-07-18",
          server_address: "api.openai.com",
          server_port: "443"
        }
        const buckets = samplesWith(text, "gen_ai_client_operation_duration_bucket", labels)
        expect(buckets.map((s) => [s.labels["le"], s.value])).toEqual([
          ...durationBounds.map((b) => [String(b), b < 1.6 ? 0 : 1]),
          ["+Inf", 1]
        ])
        expect(samplesWith(text, "gen_ai_client_operation_duration_count", labels).map((s) => s.value)).toEqual([1])
        expect(samplesWith(text, "gen_ai_client_token_usage_sum", { ...labels, gen_ai_token_type: "output" }).map((s) => s.value))
          .toEqual([40])
        expect(samplesWith(text, "gen_ai_client_operation_time_per_output_chunk_count", labels).map((s) => s.value)).toEqual([1])
        const cancelled = samplesWith(text, "gen_ai_client_operation_duration_count", { gen_ai_provider_name: "anthropic" })
        expect(cancelled.map((s) => s.labels)).toEqual([{
          gen_ai_operation_name: "chat",
          gen_ai_provider_name: "anthropic",
          gen_ai_request_model: "claude-x",
          error_type: "cancelled",
          otel_scope_name: "effect-llm-trace"
        }])
        expect(samplesWith(text, "http_server_request_duration_count", { http_route: "/gateway/anthropic/v1/messages", endpoint_name: "claude" })
          .map((s) => s.value)).toEqual([1])
        expect(samplesWith(text, "target_info", { service_name: "effect-llm-trace" })).toHaveLength(1)
      })))

  it.live("404 JSON when metrics are disabled", () =>
    serving(Metrics.layer({ enabled: false }), (url) =>
      Effect.gen(function*() {
        const response = yield* get(`${url}/metrics`, { authorization: "Bearer k-1" })
        expect(response.status).toBe(404)
        expect(JSON.parse(response.body)).toMatchObject({ error: { type: "not_found" } })
      })))
})

// OTLP ----------------------------------------------------------------------------------------------------------

const untilReceived = (receiver: Receiver.OtlpReceiver) =>
  Effect.gen(function*() {
    for (let i = 0; i < 200 && receiver.metrics().length === 0; i++) yield* Effect.sleep("25 millis")
    return receiver.metrics()
  })

describe("Metrics over OTLP", () => {
  for (const protocol of ["http/protobuf", "http/json"] as const) {
    it.live(`${protocol}: releasing the layer exports what was recorded, decoded by a local receiver`, () =>
      Effect.scoped(Effect.gen(function*() {
        const receiver = yield* Receiver.make
        yield* Effect.gen(function*() {
          const metrics = yield* Metrics.Metrics
          metrics.recordCall(openaiCall({ duration: 1.6, chunks: chunksAt([0.3, 0.35, 0.4]), usage: { inputTokens: 12, outputTokens: 40 } }))
          metrics.recordRequest({ method: "POST", route: "/gateway/openai/v1/chat/completions", status: 200, duration: 1.7 })
        }).pipe(Effect.provide(Metrics.layer({
          serviceName: "otlp-test",
          otlp: { url: receiver.metricsUrl, protocol, headers: { "x-backend-token": "t-1" }, exportInterval: "1 hour" }
        })))
        const request = receiver.requests.find((r) => r.path === "/v1/metrics")
        assert(request !== undefined)
        expect(request.headers["x-backend-token"]).toBe("t-1")
        const metrics = receiver.metrics()
        const byName = new Map(metrics.map((m) => [m.name, m]))
        expect([...byName.keys()].sort()).toEqual([
          "gen_ai.client.operation.duration",
          "gen_ai.client.operation.time_per_output_chunk",
          "gen_ai.client.operation.time_to_first_chunk",
          "gen_ai.client.token.usage",
          "http.server.request.duration"
        ])
        const duration = byName.get("gen_ai.client.operation.duration")!
        expect(duration).toMatchObject({ kind: "histogram", unit: "s", temporality: 2, scope: "effect-llm-trace" })
        expect(duration.resource["service.name"]).toBe("otlp-test")
        expect(duration.points).toHaveLength(1)
        expect(duration.points[0]).toMatchObject({
          attributes: openai,
          count: 1,
          sum: 1.6,
          min: 1.6,
          max: 1.6,
          explicitBounds: durationBounds,
          bucketCounts: expectedCounts(durationBounds, [1.6])
        })
        const perChunk = byName.get("gen_ai.client.operation.time_per_output_chunk")!.points[0]!
        expect(perChunk.bucketCounts).toEqual(expectedCounts(durationBounds, [0.05, 0.05]))
        const tokens = byName.get("gen_ai.client.token.usage")!
        expect(tokens.unit).toBe("{token}")
        expect(tokens.points.map((p) => [p.attributes["gen_ai.token.type"], p.sum])).toEqual([["input", 12], ["output", 40]])
      })))
  }

  it.effect("an OTLP URL that is not http(s) is a defect at build time, whose message does not echo the URL", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(Effect.scoped(Layer.build(Metrics.layer({
        otlp: { url: "ftp://user:secret@example.com/v1/metrics", protocol: "http/json" }
      }))))
      assert(Exit.isFailure(exit))
      const message = String(Cause.squash(exit.cause))
      expect(message).toContain("the OTLP metrics URL is not a valid http(s) URL")
      expect(message).not.toContain("secret")
    }))

  it.live("exports periodically while the layer lives (OTEL_METRIC_EXPORT_INTERVAL)", () =>
    Effect.scoped(Effect.gen(function*() {
      const receiver = yield* Receiver.make
      const received = yield* Effect.gen(function*() {
        const metrics = yield* Metrics.Metrics
        metrics.recordCall(openaiCall({ duration: 0.2 }))
        return yield* untilReceived(receiver)
      }).pipe(Effect.provide(Metrics.layerFromEnv()), Effect.withConfigProvider(ConfigProvider.fromMap(new Map([
        ["OTEL_EXPORTER_OTLP_ENDPOINT", receiver.metricsUrl.replace("/v1/metrics", "/")],
        ["OTEL_EXPORTER_OTLP_METRICS_PROTOCOL", "http/json"],
        ["OTEL_METRIC_EXPORT_INTERVAL", "50"],
        ["OTEL_SERVICE_NAME", "from-env"]
      ]))))
      expect(received.map((m) => m.name)).toContain("gen_ai.client.operation.duration")
      expect(received[0]!.resource["service.name"]).toBe("from-env")
    })))
})

describe("Telemetry.otlpMetricsFromEnv", () => {
  const fromEnv = (env: Record<string, string>) =>
    Telemetry.otlpMetricsFromEnv.pipe(Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env)))))

  it.effect("the metrics variables, else the general ones (+ /v1/metrics); none without an endpoint", () =>
    Effect.gen(function*() {
      expect(yield* fromEnv({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://t:4318/v1/traces" })).toEqual(Option.none())
      const general = Option.getOrThrow(yield* fromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318/", OTEL_EXPORTER_OTLP_PROTOCOL: "http/json" }))
      expect(general).toMatchObject({ url: "http://c:4318/v1/metrics", protocol: "http/json" })
      const specific = Option.getOrThrow(yield* fromEnv({
        OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318",
        OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: "http://m:9090/otlp",
        OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
        OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: "http/protobuf",
        OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: "grpc",
        OTEL_METRIC_EXPORT_INTERVAL: "15000",
        OTEL_METRIC_EXPORT_TIMEOUT: "5000"
      }))
      expect(specific).toMatchObject({ url: "http://m:9090/otlp", protocol: "http/protobuf", exportInterval: 15000, exportTimeout: 5000 })
    }))

  it.effect("bad values are config errors naming their variable", () =>
    Effect.gen(function*() {
      const base = { OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318" }
      for (const [name, value] of [
        ["OTEL_METRIC_EXPORT_INTERVAL", "1m"],
        ["OTEL_METRIC_EXPORT_TIMEOUT", "0"],
        ["OTEL_EXPORTER_OTLP_METRICS_PROTOCOL", "grpc"],
        ["OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "ftp://m"],
        ["OTEL_EXPORTER_OTLP_METRICS_HEADERS", "novalue"]
      ] as const) {
        const exit = yield* Effect.exit(fromEnv({ ...base, [name]: value }))
        assert(Exit.isFailure(exit))
        const error = Option.getOrThrow(Exit.causeOption(exit).pipe(Option.flatMap((cause) => Option.fromNullable(cause._tag === "Fail" ? cause.error : undefined))))
        assert(ConfigError.isConfigError(error))
        expect(ConfigError.isInvalidData(error) ? error.path : []).toEqual([name])
      }
    }))
})
