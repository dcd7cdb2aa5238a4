/**
 * Tracing overhead: the same streamed calls with and without tracing, in this process (chunk events off). The
 * bytes are many calls of a realistic size (128 KiB, about 400 events each), so that per-call costs (two spans,
 * the output serialised once) count as they would in a gateway, not one giant response.
 *
 * - forward only: the bytes pass through an Effect Stream untouched (what an untraced proxy does);
 * - decode + fold, untraced: `Sse.decode` + the provider fold, no span (the work tracing needs done anyway);
 * - traced: the bytes pass untouched through a gateway span and a provider span that fold them on the way
 *   (`GatewaySpan.tracedStream` + `ProviderSpan.tracedStream`), with the real OpenTelemetry SDK and TraceStore.
 *
 * traced / (decode + fold) is the cost of the tracing machinery itself (spans, tap, finalisers, attributes);
 * traced / forward-only is what observing a stream costs a proxy at all, parsing included.
 */
import * as NodeSdk from "@effect/opentelemetry/NodeSdk"
import { Effect, ManagedRuntime, Stream } from "effect"
import * as Fold from "../src/Fold.js"
import { concat } from "../src/internal/bytes.js"
import * as OpenAiChat from "../src/providers/OpenAiChat.js"
import * as Sse from "../src/Sse.js"
import * as GatewaySpan from "../src/tracing/GatewaySpan.js"
import * as ProviderSpan from "../src/tracing/ProviderSpan.js"
import * as TraceStore from "../src/tracing/TraceStore.js"
import { syntheticChatStream } from "./sse/stream.js"
import { chunked, compare, printTable, ratio } from "./support.js"

const endpoint: GatewaySpan.Endpoint = { id: "bench", name: "bench", usageTracking: true }

const callBytes = 128 * 1024

/** A whole call: the synthetic chunks, then the finish chunk, the usage chunk and `[DONE]`, as OpenAI ends one. */
export const completeCall = (bytes: number): Uint8Array => {
  const end = (fields: object) =>
    `data: ${JSON.stringify({ id: "chatcmpl-9xYz", object: "chat.completion.chunk", created: 1730000000, model: "gpt-4o-mini", ...fields })}\n\n`
  const tail = new TextEncoder().encode(
    end({ choices: [{ index: 0, delta: {}, logprobs: null, finish_reason: "stop" }] }) +
      end({ choices: [], usage: { prompt_tokens: 12, completion_tokens: 400, total_tokens: 412 } }) +
      "data: [DONE]\n\n"
  )
  return concat([syntheticChatStream(bytes - tail.length), tail])
}

export const run = async (options: { readonly mib: number; readonly runs: number }) => {
  const call = completeCall(callBytes)
  const chunks = chunked(call, 16 * 1024)
  const calls = Math.max(1, Math.round((options.mib * 1024 * 1024) / call.length))
  const totalBytes = calls * call.length
  const events = calls * Sse.makeParser().feed(call).length
  const body = (sample: () => void) =>
    Stream.fromIterable(chunks).pipe(Stream.mapChunks((c) => {
      sample()
      return c
    }))
  /** Runs `one` for every call, sequentially. */
  const each = <E>(one: Effect.Effect<unknown, E>) => Effect.repeatN(one, calls - 1)
  const store = TraceStore.make({ maxTraces: 10 })
  const telemetry = NodeSdk.layer(() => ({ resource: { serviceName: "bench" }, spanProcessor: [store.spanProcessor] }))
  const runtime = ManagedRuntime.make(telemetry)

  const rows = await compare(totalBytes, options.runs, [
    { name: "forward only (untraced proxy)", run: (sample) => Effect.runPromise(each(Stream.runDrain(body(sample)))) },
    {
      name: "decode + fold, untraced",
      run: (sample) =>
        Effect.runPromise(each(body(sample).pipe(Sse.decode({ dispatchIncompleteAtEnd: true }), Fold.run(OpenAiChat.fold))))
    },
    {
      name: "traced: gateway + provider spans folding on the way",
      run: (sample) =>
        ProviderSpan.tracedStream({ api: OpenAiChat.api, model: "gpt-4o-mini", stream: true }, () => Effect.succeed(body(sample))).pipe(
          GatewaySpan.tracedStream(endpoint, { payload: { model: "gpt-4o-mini", messages: [] } }),
          Stream.runDrain,
          each,
          runtime.runPromise
        )
    }
  ])
  const [forward, untraced, traced] = rows as [typeof rows[0], typeof rows[0], typeof rows[0]]
  printTable(
    `Tracing overhead: ${calls} calls × ${(call.length / 1024).toFixed(0)} KiB (${events} events), 16 KiB chunks, node ${process.version}`,
    rows
  )
  console.log(ratio("traced / (decode + fold, untraced)", traced, untraced, 0.8))
  console.log(ratio("traced / forward only", traced, forward))
  const perEvent = (m: typeof forward) => (totalBytes / (m.mbPerSec * 1024 * 1024)) / events * 1e9
  console.log(`per event: tracing machinery ${(perEvent(traced) - perEvent(untraced)).toFixed(0)} ns, observing at all ${(perEvent(traced) - perEvent(forward)).toFixed(0)} ns`)
  // The traced rows must really have traced: both spans of the last call are in the store.
  const [last] = await Effect.runPromise(store.searchTraces({ limit: 1 }))
  const trace = last === undefined ? undefined : await Effect.runPromise(store.getTrace(last.traceId))
  if (trace === undefined || trace._tag === "None" || trace.value.spans.length !== 2) throw new Error("the traced runs recorded no trace")
  if (trace.value.spans.some((span) => span.status.code !== "OK")) throw new Error("the traced calls did not end OK")
  await runtime.dispose()
}
