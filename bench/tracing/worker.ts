/**
 * One measured way of tracing a streamed call, in a fresh process (spawned by `../tracing.bench.ts`):
 * `node --expose-gc --import tsx bench/tracing/worker.ts <variant> <calls>`. Prints one JSON line: CPU µs per
 * call (median of 3 passes after a warm-up pass) and bytes allocated per call.
 *
 * A call is the 20-event (~3.9 KB) OpenAI chat stream of the gateway bench, fed one event per chunk (how a model's
 * stream arrives), with the real OpenTelemetry SDK and the TraceStore behind it.
 *
 * Allocation: `v8.GCProfiler` over one more pass; allocated = heap growth + what every GC in the pass freed.
 */
import * as NodeSdk from "@effect/opentelemetry/NodeSdk"
import { context, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api"
import { BasicTracerProvider } from "@opentelemetry/sdk-trace-base"
import { Effect, Either, ManagedRuntime, Option } from "effect"
import { GCProfiler, getHeapStatistics } from "node:v8"
import type * as GatewayT from "../../src/gateway/Gateway.js"
import type * as DialectT from "../../src/gateway/Dialect.js"
import type * as GatewayConfigT from "../../src/gateway/GatewayConfig.js"
import type * as RequestTraceT from "../../src/gateway/internal/requestTrace.js"
import type * as OpenAiChatT from "../../src/providers/OpenAiChat.js"
import type * as SseT from "../../src/Sse.js"
import type * as MetricsT from "../../src/tracing/Metrics.js"
import type * as TraceStoreT from "../../src/tracing/TraceStore.js"
import { chatStream } from "../gateway/chatStream.js"
import { cpuSeconds, gc, median } from "../support.js"
import { compiled } from "../support.js"

// The compiled package (dist/), as users run it: `npm run bench` builds it first.
const Gateway = await compiled<typeof GatewayT>("gateway/Gateway.js")
const Dialect = await compiled<typeof DialectT>("gateway/Dialect.js")
const GatewayConfig = await compiled<typeof GatewayConfigT>("gateway/GatewayConfig.js")
const RequestTrace = await compiled<typeof RequestTraceT>("gateway/internal/requestTrace.js")
const OpenAiChat = await compiled<typeof OpenAiChatT>("providers/OpenAiChat.js")
const Sse = await compiled<typeof SseT>("Sse.js")
const Metrics = await compiled<typeof MetricsT>("tracing/Metrics.js")
const TraceStore = await compiled<typeof TraceStoreT>("tracing/TraceStore.js")

const bytes = chatStream(16, true)
/** One chunk per event (20). */
const chunks: ReadonlyArray<Uint8Array> = bytes.toString("latin1").split(/(?<=\n\n)/).map((s) => Buffer.from(s, "latin1"))
const requestBody = {
  model: "bench",
  stream: true,
  stream_options: { include_usage: true },
  max_tokens: 16,
  messages: [{ role: "system", content: "You are terse." }, { role: "user", content: "Benchmark the gateway." }]
}

// The pieces ------------------------------------------------------------------------------------------------------

/** Parse + fold, no Effect: the work any tracer must do to know the response (and its usage). */
const parseAndFold = () => {
  const fold = Sse.foldBytes(OpenAiChat.fold, { dispatchIncompleteAtEnd: true })
  let state = fold.initial()
  for (const c of chunks) state = fold.step(state, c)
  const aggregate = Option.getOrThrow(fold.done(state))
  if (!aggregate.complete || aggregate.response.usage == null) throw new Error("the fold saw no complete response")
  return aggregate.response
}

const store = TraceStore.make({ maxTraces: 1000 })
const otel = new BasicTracerProvider({ spanProcessors: [store.spanProcessor] }).getTracer("bench")

/** Two raw OTel spans (gateway, provider) with the attributes a traced call needs; `work` runs between. */
const rawSpans = (work: () => { readonly output: unknown; readonly usage: unknown } | undefined) => {
  const gatewaySpan = otel.startSpan("gateway/bench", {
    kind: SpanKind.SERVER,
    attributes: { "mlflow.spanType": "LLM", "llm_trace.endpoint.name": "bench", "http.request.method": "POST" }
  })
  gatewaySpan.setAttribute("mlflow.spanInputs", JSON.stringify(requestBody))
  const providerSpan = otel.startSpan("chat gpt-bench", {
    kind: SpanKind.CLIENT,
    attributes: { "gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai", "gen_ai.request.model": "gpt-bench" }
  }, trace.setSpan(context.active(), gatewaySpan))
  const result = work()
  if (result !== undefined) {
    const output = JSON.stringify(result.output)
    providerSpan.setAttribute("mlflow.spanOutputs", output)
    providerSpan.setAttribute("gen_ai.usage.input_tokens", 12)
    providerSpan.setAttribute("gen_ai.usage.output_tokens", 16)
    gatewaySpan.setAttribute("mlflow.spanOutputs", output)
  }
  providerSpan.setStatus({ code: SpanStatusCode.OK })
  providerSpan.end()
  gatewaySpan.setAttribute("http.response.status_code", 200)
  gatewaySpan.setStatus({ code: SpanStatusCode.OK })
  gatewaySpan.end()
}

// The library path, as the gateway uses it (Routes → RequestTrace.startTrace → ProviderCall/GatewayCall) --------

const config = Either.getOrThrow(GatewayConfig.decode({
  server: { host: "127.0.0.1", port: 8080 },
  endpoints: [{ name: "bench", provider: { kind: "openai", model: "gpt-bench", baseUrl: "http://127.0.0.1:9/v1", apiKeyEnv: "BENCH_API_KEY" } }]
}))
const gateway = Gateway.make(config, { BENCH_API_KEY: "sk-bench" })
const incoming: RequestTraceT.Incoming = {
  dialect: Dialect.dialects["openai.chat"],
  target: gateway.endpoints.get("bench")!,
  body: requestBody,
  stream: true,
  headers: { "content-type": "application/json", host: "127.0.0.1:8080" },
  identity: Option.none()
}
const upstreamBody = { ...requestBody, model: "gpt-bench" }
const runtime = ManagedRuntime.make(NodeSdk.layer(() => ({ resource: { serviceName: "bench" }, spanProcessor: [store.spanProcessor] })))

const libraryCall = Effect.scoped(Effect.gen(function*() {
  const t = yield* RequestTrace.startTrace(incoming, gateway, upstreamBody, Metrics.noop)
  t.gateway.setStatusCode(200)
  t.provider.respond(200, "text/event-stream")
  for (const c of chunks) t.provider.feed(c)
  t.provider.end()
}))

// Variants ----------------------------------------------------------------------------------------------------------

/** Runs `calls` calls of the variant. */
const variants: Record<string, (calls: number) => void | Promise<void>> = {
  "otel": (calls) => {
    for (let i = 0; i < calls; i++) rawSpans(() => undefined)
  },
  "fold": (calls) => {
    for (let i = 0; i < calls; i++) {
      parseAndFold()
    }
  },
  "floor": (calls) => {
    for (let i = 0; i < calls; i++) {
      rawSpans(() => {
        const response = parseAndFold()
        return { output: response, usage: response.usage }
      })
    }
  },
  "library": (calls) => runtime.runPromise(Effect.repeatN(libraryCall, calls - 1))
}

const [variant = "", callsArg = "2000"] = process.argv.slice(2)
const body = variants[variant]
if (body === undefined) {
  console.error(`unknown variant ${JSON.stringify(variant)}; one of ${Object.keys(variants).join(", ")}`)
  process.exit(2)
}
const calls = Number(callsArg)

await body(Math.max(1, calls >> 2)) // warm-up
const times: Array<number> = []
for (let pass = 0; pass < 3; pass++) {
  gc()
  const start = cpuSeconds()
  await body(calls)
  times.push(((cpuSeconds() - start) * 1e6) / calls)
}

gc()
const profiler = new GCProfiler()
profiler.start()
const before = getHeapStatistics().used_heap_size
await body(calls)
const after = getHeapStatistics().used_heap_size
const { statistics } = profiler.stop()
let freed = 0
for (const s of statistics) freed += s.beforeGC.heapStatistics.usedHeapSize - s.afterGC.heapStatistics.usedHeapSize
const bytesPerCall = (after - before + freed) / calls

// The library path must really have traced: both spans of a call are in the store.
if (variant === "library" || variant === "otel" || variant === "floor") {
  const [last] = await Effect.runPromise(store.searchTraces({ limit: 1 }))
  const found = last === undefined ? undefined : await Effect.runPromise(store.getTrace(last.traceId))
  if (found === undefined || Option.isNone(found) || found.value.spans.length !== 2) throw new Error(`${variant}: no trace of 2 spans recorded`)
}
await runtime.dispose()
console.log(JSON.stringify({ us: median(times), passes: times, bytesPerCall }))
