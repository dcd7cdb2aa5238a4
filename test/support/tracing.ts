/**
 * The tracing test harness: the real OpenTelemetry SDK pipeline (through `@effect/opentelemetry`) feeding a
 * TraceStore and a span ledger, as one Layer. Tests read what was recorded from the store, as users do.
 */
import * as NodeSdk from "@effect/opentelemetry/NodeSdk"
import { Effect, Layer } from "effect"
import * as TraceStore from "../../src/tracing/TraceStore.js"
import { makeSpanLedger, type SpanLedger } from "./spanLedger.js"

export class Ledger extends Effect.Tag("test/Ledger")<Ledger, SpanLedger>() {}

/** TraceStore + ledger behind the OTel SDK; a fresh pipeline per layer build. */
export const layer = Layer.unwrapEffect(Effect.sync(() => {
  const store = TraceStore.make({ maxTraces: 100_000 })
  const ledger = makeSpanLedger()
  const sdk = NodeSdk.layer(() => ({
    resource: { serviceName: "test" },
    spanProcessor: [store.spanProcessor, ledger]
  }))
  return Layer.mergeAll(Layer.succeed(TraceStore.TraceStore, store), Layer.succeed(Ledger, ledger), sdk)
}))
