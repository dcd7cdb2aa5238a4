/**
 * Parsed JSON: type guards for plain field reads, the open-struct Schema helpers of the wire formats, and the
 * JSON-per-SSE-event step every provider fold shares.
 *
 * @internal
 */
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"

/** A JSON object as `JSON.parse` gives it. @internal */
export type Json = Record<string, unknown>

/** A JSON object (not null, not an array). @internal */
export const isRecord = (u: unknown): u is Json => typeof u === "object" && u !== null && !Array.isArray(u)

/** The value when it is a JSON object, else undefined: for optional chaining through unchecked JSON. @internal */
export const asRecord = (u: unknown): Json | undefined => isRecord(u) ? u : undefined

/** A list index: an integer ≥ 0. @internal */
export const isIndex = (u: unknown): u is number => typeof u === "number" && Number.isInteger(u) && u >= 0

/** A string with at least one character. @internal */
export const nonEmpty = (u: unknown): u is string => typeof u === "string" && u !== ""

/** Some non-empty string, else None: how responses report an id or model that may be missing or blank. @internal */
export const someNonEmpty = (u: unknown): Option.Option<string> => nonEmpty(u) ? Option.some(u) : Option.none()

/**
 * The index signature of every wire struct: unknown fields are kept, since providers add fields monthly and a
 * trace must not drop them.
 *
 * @internal
 */
export const Rest = Schema.Record({ key: Schema.String, value: Schema.Unknown })

/** A struct with the known `fields` and every other field kept ({@link Rest}). @internal */
export const open = <Fields extends Schema.Struct.Fields>(fields: Fields) => Schema.Struct(fields, Rest)

/** An optional field that may also be `null`. @internal */
export const optionalNullable = <S extends Schema.Schema.Any>(schema: S) => Schema.optional(Schema.NullOr(schema))

/**
 * Calls `onValue(state, value)` for each JSON payload of an event's data and returns how many parts were not JSON.
 * The state is passed through rather than captured, so a fold's handler is a plain function of the API, never a
 * closure stored on (or allocated for) a state.
 *
 * One payload normally. `[DONE]` is the OpenAI end marker: no payload, not an error. When a producer packed
 * several JSON documents into one event (one per `data:` line, with no blank line between — the SSE rules join
 * them with LF), each line is parsed on its own.
 *
 * @internal
 */
export const forEachJson = <S>(data: string, state: S, onValue: (state: S, value: unknown) => void): number => {
  if (data === "[DONE]") return 0
  try {
    onValue(state, JSON.parse(data))
    return 0
  } catch {
    if (!data.includes("\n")) return 1
  }
  let bad = 0
  for (const line of data.split("\n")) {
    if (line === "" || line === "[DONE]") continue
    try {
      onValue(state, JSON.parse(line))
    } catch {
      bad++
    }
  }
  return bad
}

/** The counters {@link stepJson} keeps (a part of every provider fold's state). @internal */
export interface JsonEventCounters {
  skipped: number
  ended: boolean
}

/**
 * The common step of a provider fold: `[DONE]` ends the stream (later events are ignored, as by the official
 * SDKs), each JSON payload of the event goes to `accept`, and data that is not JSON is counted as skipped.
 *
 * @internal
 */
export const stepJson = <S extends JsonEventCounters>(
  state: S,
  data: string,
  accept: (state: S, payload: unknown) => void
): S => {
  if (state.ended) return state
  if (data.startsWith("[DONE]")) {
    state.ended = true
    return state
  }
  // Not `skipped += forEachJson(…)`: `accept` may count into `skipped` too, and `+=` would read it before.
  const notJson = forEachJson(data, state, accept)
  state.skipped += notJson
  return state
}
