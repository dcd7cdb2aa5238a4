/**
 * The SQLite trace store: write throughput (spans and traces per second, through the span processor and the
 * batched writer, until flushed) and the trace API's latency for a page of 100 at N stored traces (through the
 * real gateway over HTTP, and through the store directly). Standalone: `npx tsx bench/store.bench.ts
 * [--traces 100000] [--runs 50]`; or `npm run bench -- --only store`.
 */
import * as HttpServer from "@effect/platform/HttpServer"
import { ROOT_CONTEXT, trace as otelTrace } from "@opentelemetry/api"
import { BasicTracerProvider } from "@opentelemetry/sdk-trace-base"
import { Context, Effect, Layer, Logger, LogLevel, Schema } from "effect"
import { mkdtempSync, rmSync, statSync } from "node:fs"
import { loadavg, tmpdir } from "node:os"
import { join } from "node:path"
import { parseArgs } from "node:util"
import * as GatewayConfig from "../src/gateway/GatewayConfig.js"
import * as Server from "../src/gateway/Server.js"
import * as Attributes from "../src/tracing/Attributes.js"
import * as TraceStore from "../src/tracing/TraceStore.js"
import { median, quantile } from "./support.js"

const endpoints = ["chat", "claude", "gem", "embed"]
const models = ["gpt-5-mini", "claude-sonnet-4-6", "gemini-2.5-flash", "text-embedding-3"]

/** Feeds `count` gateway calls (2 spans each, ~1 KiB of payload) into the store, spread over the last day. */
const feed = (store: TraceStore.TraceStore["Type"], count: number, offset: number) => {
  const tracer = new BasicTracerProvider({ spanProcessors: [store.spanProcessor] }).getTracer("bench")
  const now = Date.now()
  for (let i = 0; i < count; i++) {
    const n = offset + i
    const start = now - 86_000_000 + n * 0.5
    const root = tracer.startSpan(`gateway/${endpoints[n % 4]}`, {
      startTime: start,
      attributes: {
        [Attributes.EndpointName]: endpoints[n % 4]!,
        [Attributes.GatewayCaller]: `app-${n % 7}`,
        [Attributes.HttpResponseStatusCode]: n % 50 === 0 ? 429 : 200,
        [Attributes.SpanInputs]: JSON.stringify({ messages: [{ role: "user", content: "x".repeat(400) }] })
      }
    })
    const child = tracer.startSpan(`provider/${models[n % 4]}`, {
      startTime: start + 1,
      attributes: {
        [Attributes.LlmProvider]: "openai",
        [Attributes.GenAiRequestModel]: models[n % 4]!,
        [Attributes.GenAiRequestStream]: n % 2 === 0,
        [Attributes.GenAiUsageInputTokens]: 100 + (n % 13),
        [Attributes.GenAiUsageOutputTokens]: 20 + (n % 5),
        [Attributes.GenAiResponseTimeToFirstChunk]: 0.2,
        [Attributes.SpanOutputs]: JSON.stringify({ content: "y".repeat(400) })
      }
    }, otelTrace.setSpan(ROOT_CONTEXT, root))
    child.end(start + 300)
    root.end(start + 301)
  }
}

const time = async (f: () => Promise<unknown>): Promise<number> => {
  const t0 = performance.now()
  await f()
  return performance.now() - t0
}

export const run = async (options: { readonly traces: number; readonly runs: number }): Promise<void> => {
  const dir = mkdtempSync(join(tmpdir(), "llm-trace-store-bench-"))
  const path = join(dir, "traces.db")
  const chunk = 10_000
  console.log(`\n## store: SQLite file, ${options.traces} traces (2 spans each), load ${loadavg()[0]!.toFixed(2)}`)

  // Write throughput: enqueue a chunk synchronously, wait for the writer to flush it, repeat.
  const writeMs = await Effect.runPromise(Effect.scoped(Effect.gen(function*() {
    const store = yield* TraceStore.makeScoped({ path, queueSize: 2 * chunk + 10 })
    let total = 0
    for (let offset = 0; offset < options.traces; offset += chunk) {
      const count = Math.min(chunk, options.traces - offset)
      total += yield* Effect.promise(() => time(() => Effect.runPromise(Effect.sync(() => feed(store, count, offset)).pipe(Effect.zipRight(store.flush)))))
    }
    const stats = yield* store.stats
    if (stats.dropped > 0 || stats.failed > 0) console.log(`  (dropped ${stats.dropped}, failed ${stats.failed})`)
    return total
  })))
  const spans = options.traces * 2
  console.log(`  write: ${Math.round(spans / (writeMs / 1000))} spans/s = ${Math.round(options.traces / (writeMs / 1000))} traces/s ` +
    `(${(writeMs / 1000).toFixed(1)} s incl. span conversion); file ${(statSync(path).size / 1024 ** 2).toFixed(0)} MiB`)

  // Store-level reads.
  await Effect.runPromise(Effect.scoped(Effect.gen(function*() {
    const store = yield* TraceStore.makeScoped({ path })
    const measure = (name: string, effect: Effect.Effect<unknown, unknown>) =>
      Effect.promise(async () => {
        const xs: Array<number> = []
        for (let i = 0; i < options.runs; i++) xs.push(await time(() => Effect.runPromise(effect)))
        console.log(`  store ${name}: median ${median(xs).toFixed(2)} ms, p95 ${quantile(xs, 0.95).toFixed(2)} ms`)
      })
    const first = yield* store.listTraces({ limit: 100 })
    yield* measure("page of 100 (newest)", store.listTraces({ limit: 100 }))
    yield* measure("page of 100 (?endpoint=claude)", store.listTraces({ limit: 100, endpoint: "claude", kind: "gateway" }))
    yield* measure("page of 100 (?model=gemini-2.5-flash)", store.listTraces({ limit: 100, model: "gemini-2.5-flash" }))
    yield* measure("page of 100 (?status=error, sparse)", store.listTraces({ limit: 100, status: "error" }))
    yield* measure("page of 100 (a cursor)", store.listTraces({ limit: 100, cursor: first.nextCursor! }))
    yield* measure("one trace", store.getTrace(first.traces[50]!.traceId))
    yield* measure("usage by model per hour (all)", store.usage({ groupBy: "model", bucket: "hour" }))
  })))

  // Through the gateway over HTTP: GET /api/traces?limit=100.
  await Effect.runPromise(Effect.scoped(Effect.gen(function*() {
    const config = Schema.decodeUnknownSync(GatewayConfig.Config)({
      server: { port: 0 },
      tracing: { store: { path } },
      endpoints: [{ name: "echo", provider: { kind: "echo" } }]
    })
    const context = yield* Layer.build(Server.layer(config))
    const address = Context.get(context, HttpServer.HttpServer).address
    if (address._tag !== "TcpAddress") return
    const url = `http://127.0.0.1:${address.port}`
    yield* Effect.promise(async () => {
      for (const query of ["limit=100", "limit=100&endpoint=claude", "limit=100&model=gemini-2.5-flash"]) {
        const xs: Array<number> = []
        let bytes = 0
        for (let i = 0; i < options.runs; i++) {
          xs.push(await time(async () => {
            bytes = (await (await fetch(`${url}/api/traces?${query}`)).arrayBuffer()).byteLength
          }))
        }
        console.log(`  HTTP GET /api/traces?${query}: median ${median(xs).toFixed(2)} ms, p95 ${quantile(xs, 0.95).toFixed(2)} ms (${Math.round(bytes / 1024)} KiB)`)
      }
    })
  })).pipe(Logger.withMinimumLogLevel(LogLevel.Error)))
  rmSync(dir, { recursive: true, force: true })
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { traces: { type: "string" }, runs: { type: "string" } } })
  await run({ traces: Number(values.traces ?? 100_000), runs: Number(values.runs ?? 50) })
}
