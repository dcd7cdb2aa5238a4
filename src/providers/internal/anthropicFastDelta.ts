/**
 * The hot path of the Anthropic fold: text, thinking and tool JSON deltas read without `JSON.parse`.
 *
 * Those `content_block_delta` events are the bulk of every stream, and `JSON.parse` costs more than the rest of the
 * fold. In the API's own compact serialisation their shape is fixed, so the index and the string are read by
 * position; anything else declines and goes through `JSON.parse`, so the result is always the same as parsing.
 *
 * @internal
 */
import type { Json } from "../../internal/json.js"

/** The string deltas (the bulk of a stream): text, tool JSON, thinking. @internal */
export const TEXT = 0
/** @internal */
export const JSON_INPUT = 1
/** @internal */
export const THINKING = 2

/** @internal */
export type PieceKind = typeof TEXT | typeof JSON_INPUT | typeof THINKING

const deltaHead = "{\"type\":\"content_block_delta\",\"index\":"

/** What follows the index in the delta kinds read without `JSON.parse`, by {@link PieceKind}. */
const fastPrefixes = [
  ",\"delta\":{\"type\":\"text_delta\",\"text\":\"",
  ",\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"",
  ",\"delta\":{\"type\":\"thinking_delta\",\"thinking\":\""
] as const

const fastTypes = ["text_delta", "input_json_delta", "thinking_delta"] as const
const fastFields = ["text", "partial_json", "thinking"] as const

const isJsonSpace = (c: number): boolean => c === 32 || c === 9 || c === 10 || c === 13

/** The position of the quote that ends the string starting at `from` (one not escaped), or -1. */
const stringEnd = (data: string, from: number): number => {
  let quote = data.indexOf("\"", from)
  while (quote !== -1) {
    let backslashes = 0
    for (let i = quote - 1; i >= from && data.charCodeAt(i) === 92; i--) backslashes++
    if (backslashes % 2 === 0) return quote
    quote = data.indexOf("\"", quote + 1)
  }
  return -1
}

/** From `from`: `}`, `}` and nothing else but JSON whitespace (Anthropic pads inside the outer object). */
const closesTwice = (data: string, from: number): boolean => {
  let braces = 0
  for (let i = from; i < data.length; i++) {
    const c = data.charCodeAt(i)
    if (c === 125 && braces < 2) braces++
    else if (!isJsonSpace(c)) return false
  }
  return braces === 2
}

/** The string literal between `start` and `end`: sliced when it has no escape, else parsed; undefined if invalid. */
const readString = (data: string, start: number, end: number): string | undefined => {
  for (let i = start; i < end; i++) {
    const c = data.charCodeAt(i)
    if (c === 92 || c < 32) {
      try {
        return JSON.parse(data.slice(start - 1, end + 1)) as string
      } catch {
        return undefined
      }
    }
  }
  return data.slice(start, end)
}

/**
 * One string delta read by {@link scanDelta}.
 *
 * @internal
 */
export interface Scanned {
  readonly index: number
  readonly kind: PieceKind
  readonly value: string
}

/** The one object every scan fills, so that the hot path allocates nothing per event. */
const scanned: { -readonly [K in keyof Scanned]: Scanned[K] } = { index: 0, kind: TEXT, value: "" }

/**
 * The delta when `data` is a string delta in the API's compact serialisation, else undefined. The result is the
 * same object on every call: read it before the next one.
 *
 * @internal
 */
export const scanDelta = (data: string): Scanned | undefined => {
  // `lastIndexOf(x, 0) === 0` is `startsWith`, several times faster in V8 (measured on Node 20).
  if (data.lastIndexOf(deltaHead, 0) !== 0) return undefined
  const digits = deltaHead.length
  let i = digits
  let index = 0
  for (; i < data.length; i++) {
    const c = data.charCodeAt(i)
    if (c < 48 || c > 57) break
    index = index * 10 + (c - 48)
  }
  // JSON numbers have no leading zero; long ones are left to JSON.parse.
  if (i === digits || i - digits > 9 || (i - digits > 1 && data.charCodeAt(digits) === 48)) return undefined
  // The type name starts 18 characters after the index: `i`nput_json, t`h`inking, else text; then checked whole.
  const kind: PieceKind = data.charCodeAt(i + 18) === 105 ? JSON_INPUT : data.charCodeAt(i + 19) === 104 ? THINKING : TEXT
  const prefix = fastPrefixes[kind]
  const start = i + prefix.length
  if (data.slice(i, start) !== prefix) return undefined
  const end = stringEnd(data, start)
  if (end === -1 || !closesTwice(data, end + 1)) return undefined
  const value = readString(data, start, end)
  if (value === undefined) return undefined
  scanned.index = index
  scanned.kind = kind
  scanned.value = value
  return scanned
}

/**
 * The index and delta of a text, thinking or tool JSON `content_block_delta` in the API's own compact serialisation
 * (the bulk of every stream), read without `JSON.parse`, which costs more than the rest of the fold. Anything
 * else (another key order, extra fields, whitespace between tokens, invalid JSON) gives undefined and goes through
 * `JSON.parse`, so the result is always the same as parsing. What the fold does through {@link scanDelta}, as a
 * value: for tests.
 *
 * @internal
 */
export const readFastDelta = (data: string): { readonly index: number; readonly delta: Json } | undefined => {
  const hit = scanDelta(data)
  return hit === undefined
    ? undefined
    : { index: hit.index, delta: { type: fastTypes[hit.kind], [fastFields[hit.kind]]: hit.value } }
}
