/**
 * The query parameters of the trace API (`GET /api/traces`, `GET /api/usage`), as Schemas from the URL's text,
 * and the wire shape of its errors.
 *
 * @since 0.2.0
 */
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import * as Summaries from "../tracing/internal/summary.js"

// `override`: the text replaces the messages of inner failures too (e.g. NumberFromString on "abc").
const message = (text: string) => ({ message: () => ({ message: text, override: true }) })

const IntFromString = (min: number, max: number, what: string) =>
  Schema.NumberFromString.pipe(
    Schema.int(message(what)),
    Schema.between(min, max, message(what))
  ).annotations(message(what))

/**
 * `limit`: a whole number from 1 to 1000.
 *
 * @since 0.2.0
 * @category schemas
 */
export const Limit = IntFromString(1, 1000, "expected a whole number from 1 to 1000")

/**
 * A point in time: ISO 8601 (`2026-12-02T21:00:00Z`, a date, or with an offset) or epoch milliseconds; decoded
 * to epoch milliseconds.
 *
 * @since 0.2.0
 * @category schemas
 */
export const Instant = Schema.transformOrFail(Schema.String, Schema.Number, {
  strict: true,
  decode: (text, _, ast) => {
    const millis = /^\d{1,15}$/.test(text)
      ? Number(text)
      : /^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/i.test(text)
      ? Date.parse(text)
      : Number.NaN
    return Number.isFinite(millis)
      ? ParseResult.succeed(millis)
      : ParseResult.fail(new ParseResult.Type(ast, text, "expected an ISO 8601 time or epoch milliseconds"))
  },
  encode: (millis) => ParseResult.succeed(String(millis))
}).annotations(message("expected an ISO 8601 time or epoch milliseconds"))

const NonEmpty = Schema.String.pipe(Schema.minLength(1), Schema.maxLength(1024)).annotations(
  message("expected a non-empty value of at most 1024 characters")
)

const literal = <const L extends ReadonlyArray<string>>(...values: L) =>
  Schema.Literal(...values).annotations(message(`expected ${values.map((v) => JSON.stringify(v)).join(" | ")}`))

/**
 * The parameters of `GET /api/traces`. Each is decoded on its own, so that an error names its parameter.
 *
 * @since 0.2.0
 * @category schemas
 */
export const ListParams = {
  endpoint: NonEmpty,
  status: literal("ok", "error", "unset", "in_progress"),
  model: NonEmpty,
  kind: literal("gateway", "replay"),
  since: Instant,
  until: Instant,
  minDurationMs: Schema.NumberFromString.pipe(Schema.nonNegative(message("expected a number of milliseconds, 0 or more")), Schema.finite(message("expected a number of milliseconds, 0 or more"))).annotations(message("expected a number of milliseconds, 0 or more")),
  cursor: NonEmpty,
  limit: Limit
} as const

/**
 * The parameters of `GET /api/usage`.
 *
 * @since 0.2.0
 * @category schemas
 */
export const UsageParams = {
  since: Instant,
  until: Instant,
  groupBy: literal("endpoint", "model", "caller"),
  bucket: literal("minute", "hour")
} as const

/**
 * The body of a 400 answer: the parameter and why.
 *
 * @since 0.2.0
 * @category schemas
 */
export const InvalidParameterBody = Schema.Struct({
  error: Schema.Struct({
    type: Schema.Literal("invalid_parameter"),
    parameter: Schema.String,
    message: Schema.String
  })
})

/**
 * Whether `text` is a page cursor the API returned (`nextCursor`); it is opaque to clients.
 *
 * @since 0.2.0
 * @category schemas
 */
export const isCursor = (text: string): boolean => Summaries.decodeCursor(text) !== undefined
