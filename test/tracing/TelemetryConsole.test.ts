/**
 * `Telemetry.layerConsole`: each finished trace printed as a tree when its local root ends, with the GenAI fields
 * a developer looks for first; bounded while roots are open.
 */
import { describe, expect, it } from "@effect/vitest"
import { Context, Effect, Exit, Option, Tracer } from "effect"
import * as Attributes from "../../src/tracing/Attributes.js"
import * as Telemetry from "../../src/tracing/Telemetry.js"
import { TraceStore } from "../../src/tracing/TraceStore.js"

const ms = 1_000_000n
const t0 = 1_700_000_000_000_000_000n

/** A gateway span with a provider child (tokens, model, TTFT) and a failed sibling, with exact times. */
const gatewayCall = Effect.gen(function*() {
  const tracer = yield* Effect.tracer
  const root = tracer.span("gateway/chat", Option.none(), Context.empty(), [], t0, "server")
  const provider = tracer.span("provider/openai/gpt-5-mini", Option.some(root), Context.empty(), [], t0 + 2n * ms, "client")
  provider.attribute(Attributes.GenAiRequestModel, "gpt-5-mini")
  provider.attribute(Attributes.GenAiResponseModel, "gpt-5-mini-2025-08-07")
  provider.attribute(Attributes.GenAiUsageInputTokens, 12)
  provider.attribute(Attributes.GenAiUsageOutputTokens, 3)
  provider.attribute(Attributes.GenAiResponseTimeToFirstChunk, 0.0452)
  provider.end(t0 + 414n * ms, Exit.void)
  const retry = tracer.span("provider/openai/gpt-5-mini", Option.some(root), Context.empty(), [], t0 + 1n * ms, "client")
  retry.attribute(Attributes.ErrorType, "429")
  retry.end(t0 + 2n * ms, Exit.fail(new Error("rate limited")))
  root.end(t0 + 415n * ms, Exit.void)
  return root.traceId
})

const capture = () => {
  const out: Array<string> = []
  return { out, write: (text: string) => void out.push(text) }
}

describe("Telemetry.layerConsole", () => {
  it.effect("prints the trace as a tree when the root ends: duration, status, model, tokens, TTFT", () => {
    const { out, write } = capture()
    return Effect.gen(function*() {
      const traceId = yield* gatewayCall
      expect(out).toEqual([
        [
          `trace ${traceId}`,
          "└─ gateway/chat  415.0 ms  OK",
          "   ├─ provider/openai/gpt-5-mini  1.0 ms  ERROR 429",
          "   └─ provider/openai/gpt-5-mini  412.0 ms  OK  model=gpt-5-mini-2025-08-07  tokens 12→3  ttft 45.2 ms",
          ""
        ].join("\n")
      ])
      // The store still has every span.
      const trace = Option.getOrThrow(yield* (yield* TraceStore).getTrace(traceId))
      expect(trace.spans.length).toBe(3)
    }).pipe(Effect.provide(Telemetry.layerConsole({ console: { write } })))
  })

  it.effect("nothing is printed before the root ends; a root under a remote parent counts as the local root", () => {
    const { out, write } = capture()
    return Effect.gen(function*() {
      const remote = Tracer.externalSpan({ traceId: "4bf92f3577b34da6a3ce929d0e0e4736", spanId: "00f067aa0ba902b7" })
      yield* Effect.gen(function*() {
        yield* Effect.void.pipe(Effect.withSpan("inner"))
        expect(out).toEqual([])
      }).pipe(Effect.withSpan("outer", { parent: remote }))
      expect(out.length).toBe(1)
      expect(out[0]).toMatch(/^trace 4bf92f3577b34da6a3ce929d0e0e4736\n└─ outer {2}[\d.]+ ms {2}OK\n {3}└─ inner {2}[\d.]+ ms {2}OK\n$/)
    }).pipe(Effect.provide(Telemetry.layerConsole({ console: { write } })))
  })

  it.effect("bounded: past maxTraces open traces the oldest is printed early; past maxSpansPerTrace spans are counted", () => {
    const { out, write } = capture()
    return Effect.gen(function*() {
      const tracer = yield* Effect.tracer
      const roots = [0, 1, 2].map((i) => tracer.span(`root-${i}`, Option.none(), Context.empty(), [], t0, "internal"))
      for (const [i, root] of roots.entries()) {
        for (let k = 0; k < 4; k++) {
          tracer.span(`child-${i}.${k}`, Option.some(root), Context.empty(), [], t0, "internal").end(t0 + ms, Exit.void)
        }
      }
      // Three open traces, two allowed: the first is printed without its root, its last two children counted.
      expect(out.length).toBe(1)
      expect(out[0]).toContain("child-0.0")
      expect(out[0]).toContain("child-0.1")
      expect(out[0]).not.toContain("child-0.2")
      expect(out[0]).toContain("(2 more spans not shown)")
      roots[2]!.end(t0 + 2n * ms, Exit.void)
      expect(out.length).toBe(2)
      // A full trace still keeps its root.
      expect(out[1]).toMatch(/└─ root-2 .*\n {3}├─ child-2.0/)
      expect(out[1]).toContain("(2 more spans not shown)")
    }).pipe(Effect.provide(Telemetry.layerConsole({ console: { write, maxTraces: 2, maxSpansPerTrace: 2 } })))
  })

  it.effect("traces still open when the layer is released are printed then", () => {
    const { out, write } = capture()
    return Effect.gen(function*() {
      yield* Effect.gen(function*() {
        const tracer = yield* Effect.tracer
        const root = tracer.span("never-ends", Option.none(), Context.empty(), [], t0, "internal")
        tracer.span("done", Option.some(root), Context.empty(), [], t0, "internal").end(t0 + ms, Exit.void)
      }).pipe(Effect.provide(Telemetry.layerConsole({ console: { write } })))
      expect(out.length).toBe(1)
      expect(out[0]).toContain("└─ done  1.0 ms  OK")
    })
  })

  it.effect("Telemetry.layer prints nothing by default", () => {
    const writes: Array<unknown> = []
    const original = process.stderr.write
    return Effect.gen(function*() {
      process.stderr.write = ((chunk: unknown) => writes.push(chunk) > 0) as typeof process.stderr.write
      yield* gatewayCall.pipe(Effect.provide(Telemetry.layer()), Effect.ensuring(Effect.sync(() => {
        process.stderr.write = original
      })))
      expect(writes).toEqual([])
    })
  })
})
