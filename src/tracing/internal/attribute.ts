/**
 * Span attributes that keep their OpenTelemetry type. Effect's bridge turns every non-primitive value into a
 * pretty-printed string, so `gen_ai.response.finish_reasons` would be exported as the text `[\n  "stop"\n]`
 * instead of a string array. Arrays are therefore also set on the OTel span behind the Effect span.
 *
 * @internal
 */
import * as OtelTracer from "@effect/opentelemetry/Tracer"
import * as Effect from "effect/Effect"
import type * as Tracer from "effect/Tracer"

type Primitive = string | number | boolean

const isPrimitiveArray = (value: unknown): value is ReadonlyArray<Primitive> =>
  Array.isArray(value) && value.every((v) => typeof v === "string" || typeof v === "number" || typeof v === "boolean")

/**
 * Sets `key` on the span: on the Effect span (its attribute map is what a replay copies) and, for arrays of
 * primitives, as a typed array on the OTel span. Never fails.
 *
 * @internal
 */
export const set = (span: Tracer.Span, key: string, value: unknown): Effect.Effect<void> =>
  Effect.suspend(() => {
    span.attribute(key, value)
    if (!isPrimitiveArray(value)) return Effect.void
    return OtelTracer.currentOtelSpan.pipe(
      Effect.withParentSpan(span),
      Effect.map((otel) => {
        otel.setAttribute(key, [...value] as Array<string>)
      }),
      Effect.ignore
    )
  })

/** Sets every attribute of `attributes`, in order. @internal */
export const setAll = (span: Tracer.Span, attributes: Iterable<readonly [string, unknown]>): Effect.Effect<void> =>
  Effect.forEach(attributes, ([key, value]) => set(span, key, value), { discard: true })
