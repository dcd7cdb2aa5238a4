/**
 * Span attributes that keep their OpenTelemetry type. Effect's bridge turns every non-primitive value into a
 * pretty-printed string, so `gen_ai.response.finish_reasons` would be exported as the text `[\n  "stop"\n]`
 * instead of a string array. Arrays of primitives are therefore also set on the OTel span behind the Effect span
 * (the bridge's span keeps it as its `span` field), synchronously.
 *
 * @internal
 */
import type * as Tracer from "effect/Tracer"

type Primitive = string | number | boolean

interface OtelLike {
  readonly setAttribute: (key: string, value: Array<Primitive>) => unknown
}

const isPrimitiveArray = (value: unknown): value is ReadonlyArray<Primitive> =>
  Array.isArray(value) && value.every((v) => typeof v === "string" || typeof v === "number" || typeof v === "boolean")

const otelSpanOf = (span: Tracer.Span): OtelLike | undefined => {
  const inner = (span as { readonly span?: unknown }).span
  return typeof inner === "object" && inner !== null && typeof (inner as OtelLike).setAttribute === "function"
    ? inner as OtelLike
    : undefined
}

/**
 * Sets `key` on the span: on the Effect span (its attribute map is what a replay copies) and, for arrays of
 * primitives, as a typed array on the OTel span. Never throws.
 *
 * @internal
 */
export const set = (span: Tracer.Span, key: string, value: unknown): void => {
  span.attribute(key, value)
  if (isPrimitiveArray(value)) otelSpanOf(span)?.setAttribute(key, [...value])
}

/** Sets every attribute of `attributes`, in order. @internal */
export const setAll = (span: Tracer.Span, attributes: Iterable<readonly [string, unknown]>): void => {
  for (const [key, value] of attributes) set(span, key, value)
}
