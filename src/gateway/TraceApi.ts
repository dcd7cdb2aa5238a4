/**
 * The trace API (v2), as an `HttpRouter` to serve or mount: read the `TraceStore` to find calls.
 *
 * - `GET /api/traces?endpoint=&status=ok|error|unset&model=&kind=gateway|replay&since=&until=&minDurationMs=&cursor=&limit=`
 *   → `{ traces: Summary[], nextCursor: string | null }`, newest first, `limit` 1..1000 (default 50). With
 *   `endpoint`, replayed copies (a caller's trace holding a copy of the call) are left out unless `kind=replay`.
 *   `since`/`until`: ISO 8601 or epoch milliseconds.
 * - `GET /api/traces/:traceId` → `{ traceId, summary, metadata, spans }`; an unknown id is a 404.
 * - `GET /api/usage?since=&until=&groupBy=endpoint|model|caller&bucket=minute|hour` → `{ groupBy, bucket,
 *   groups, series }` over gateway traces (defaults: `endpoint`, `hour`).
 *
 * A bad parameter is a 400 `{ "error": { "type": "invalid_parameter", "parameter": …, "message": … } }`. Every
 * route asks for a gateway key when the gateway has any (see {@link authorised}).
 *
 * @since 0.2.0
 */
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import { TraceStore, type TraceStoreError } from "../tracing/TraceStore.js"
import * as Gateway from "./Gateway.js"
import * as TraceApiSchema from "./TraceApiSchema.js"

const errorJson = (status: number, type: string, message: string, extra: Record<string, string> = {}) =>
  HttpServerResponse.unsafeJson({ error: { type, ...extra, message } }, { status })

/** A parameter that could not be decoded. */
interface Invalid {
  readonly parameter: string
  readonly message: string
}

type Fields = Readonly<Record<string, Schema.Schema.AnyNoContext>>
type Decoded<F extends Fields> = { readonly [K in keyof F]?: Schema.Schema.Type<F[K]> }

/** Decodes each present parameter with its Schema; the first bad one (or one given twice) is the error. */
const decodeParams = <F extends Fields>(
  fields: F,
  params: Readonly<Record<string, string | ReadonlyArray<string>>>
): Either.Either<Decoded<F>, Invalid> => {
  const out: Record<string, unknown> = {}
  for (const name of Object.keys(fields)) {
    const raw = params[name]
    if (raw === undefined) continue
    if (typeof raw !== "string") return Either.left({ parameter: name, message: "given more than once" })
    const decoded = Schema.decodeUnknownEither(fields[name]!)(raw)
    if (Either.isLeft(decoded)) {
      return Either.left({ parameter: name, message: ParseResult.TreeFormatter.formatErrorSync(decoded.left).split("\n")[0]! })
    }
    out[name] = decoded.right
  }
  return Either.right(out as Decoded<F>)
}

const invalid = (error: Invalid) =>
  errorJson(400, "invalid_parameter", `${error.parameter}: ${error.message}`, { parameter: error.parameter })

const storeFailed = (error: TraceStoreError) => Effect.succeed(errorJson(500, "store_error", error.message))

/**
 * Runs `handler` only for a request the gateway authenticates (any request when it has no keys); else a 401
 * JSON answer. For routes that read traces: a trace holds the calls' inputs and outputs.
 *
 * @since 0.2.0
 * @category combinators
 */
export const authorised = <E, R>(
  handler: Effect.Effect<HttpServerResponse.HttpServerResponse, E, R>
): Effect.Effect<HttpServerResponse.HttpServerResponse, E, R | Gateway.Gateway | HttpServerRequest.HttpServerRequest> =>
  Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    const gateway = yield* Gateway.Gateway
    return Option.isNone(gateway.authenticate(request.headers))
      ? errorJson(401, "authentication_error", "missing or unknown gateway key")
      : yield* handler
  })

const listTraces = Effect.gen(function*() {
  const params = yield* HttpServerRequest.ParsedSearchParams
  const decoded = decodeParams(TraceApiSchema.ListParams, params)
  if (Either.isLeft(decoded)) return invalid(decoded.left)
  const { cursor, endpoint, kind, limit, ...filters } = decoded.right
  if (cursor !== undefined && !TraceApiSchema.isCursor(cursor)) {
    return invalid({ parameter: "cursor", message: "not a cursor this API returned" })
  }
  const store = yield* TraceStore
  const page = yield* store.listTraces({
    ...filters,
    endpoint,
    cursor,
    // A caller's trace holding a replayed copy is not the endpoint's own call: listed only when asked for.
    kind: kind ?? (endpoint === undefined ? undefined : "gateway"),
    limit: limit ?? 50
  })
  return HttpServerResponse.unsafeJson(page)
}).pipe(Effect.catchTag("TraceStoreError", storeFailed))

const getTrace = Effect.gen(function*() {
  const { traceId } = yield* HttpRouter.params
  const store = yield* TraceStore
  const trace = traceId === undefined || traceId.length > 64 ? Option.none() : yield* store.getTrace(traceId)
  return Option.match(trace, {
    onNone: () => errorJson(404, "not_found", `no trace ${JSON.stringify(traceId)}`),
    onSome: (t) => HttpServerResponse.unsafeJson({ traceId: t.traceId, summary: t.summary, metadata: t.metadata, spans: t.spans })
  })
}).pipe(Effect.catchTag("TraceStoreError", storeFailed))

const usage = Effect.gen(function*() {
  const params = yield* HttpServerRequest.ParsedSearchParams
  const decoded = decodeParams(TraceApiSchema.UsageParams, params)
  if (Either.isLeft(decoded)) return invalid(decoded.left)
  const query = { ...decoded.right, groupBy: decoded.right.groupBy ?? "endpoint", bucket: decoded.right.bucket ?? "hour" }
  const store = yield* TraceStore
  const result = yield* store.usage(query)
  return HttpServerResponse.unsafeJson({ groupBy: query.groupBy, bucket: query.bucket, ...result })
}).pipe(Effect.catchTag("TraceStoreError", storeFailed))

/**
 * The trace API's routes. Needs `TraceStore` and `Gateway` (for {@link authorised}).
 *
 * @since 0.2.0
 * @category routers
 */
export const router = HttpRouter.fromIterable([
  HttpRouter.makeRoute("GET", "/api/traces", authorised(listTraces)),
  HttpRouter.makeRoute("GET", "/api/traces/:traceId", authorised(getTrace)),
  HttpRouter.makeRoute("GET", "/api/usage", authorised(usage))
])
