/**
 * The gateway's HTTP routes, as an `HttpRouter` to serve or mount in another Effect server.
 *
 * Native passthrough routes (MLflow-compatible paths): the client's request goes to the endpoint's provider and
 * the upstream response comes back with its status and bytes, streamed as they arrive, while the provider fold
 * runs on the way for the trace. Every traced response carries
 * `server-timing: traceparent;desc="00-<gateway trace id>-<gateway span id>-01"`.
 *
 * - `POST /gateway/openai/v1/chat/completions`, `POST /gateway/openai/v1/responses` (endpoint = body `model`)
 * - `POST /gateway/anthropic/v1/messages` (endpoint = body `model`)
 * - `POST /gateway/gemini/v1beta/models/{endpoint}:generateContent` and `:streamGenerateContent` (`?alt=sse`)
 * - `GET /api/traces?endpoint=<name>&limit=<n>`, `GET /api/traces/{traceId}`: the embedded TraceStore
 *
 * @since 0.1.0
 */
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Chunk from "effect/Chunk"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as ExecutionStrategy from "effect/ExecutionStrategy"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import { concat } from "../internal/bytes.js"
import * as Attributes from "../tracing/Attributes.js"
import * as GatewaySpan from "../tracing/GatewaySpan.js"
import * as ProviderSpan from "../tracing/ProviderSpan.js"
import { TraceStore } from "../tracing/TraceStore.js"
import * as Dialect from "./Dialect.js"
import { Gateway } from "./Gateway.js"
import type * as GatewayModule from "./Gateway.js"
import * as Upstream from "./Upstream.js"
import * as UsageInjection from "./UsageInjection.js"

/** An upstream answered with an error status: passed through to the client, recorded as the spans' error. */
class UpstreamStatusError extends Data.TaggedError("UpstreamStatusError")<{ readonly status: number; readonly body: string }> {
  get errorType(): string {
    return String(this.status)
  }
  override get message(): string {
    return `upstream answered ${this.status}: ${this.body.slice(0, 500)}`
  }
}

/** An error in the client's own API dialect (see `Dialect.errorBody`), so that its SDK surfaces the message. */
const errorResponse = (
  dialect: Dialect.Dialect | undefined,
  status: number,
  type: string,
  message: string
): HttpServerResponse.HttpServerResponse => HttpServerResponse.unsafeJson(Dialect.errorBody(dialect, status, message, type), { status })

const collect = <E, R>(body: Stream.Stream<Uint8Array, E, R>): Effect.Effect<Uint8Array, E, R> =>
  Stream.runCollect(body).pipe(Effect.map((chunks) => concat(Chunk.toReadonlyArray(chunks))))

const parseJson = (text: string): Option.Option<unknown> => {
  try {
    return Option.some(JSON.parse(text))
  } catch {
    return Option.none()
  }
}

const asRecord = (value: unknown): Option.Option<Record<string, unknown>> =>
  typeof value === "object" && value !== null && !Array.isArray(value) ? Option.some(value as Record<string, unknown>) : Option.none()

/** What a passthrough route needs to know about one request. */
interface Incoming {
  readonly dialect: Dialect.Dialect
  readonly target: GatewayModule.Endpoint
  readonly body: Record<string, unknown>
  readonly stream: boolean
  readonly headers: Readonly<Record<string, string>>
  readonly identity: Option.Option<GatewayModule.Identity>
}

/** The upstream body: the configured model, and usage asked for when the trace needs it. */
const upstreamBody = (incoming: Incoming, traced: boolean): { readonly body: unknown; readonly stripUsage: boolean } => {
  const body = !incoming.dialect.modelInBody ? incoming.body : { ...incoming.body, model: incoming.target.model }
  if (!traced || !incoming.stream || incoming.dialect.id !== "openai.chat") return { body, stripUsage: false }
  return Option.match(UsageInjection.request(body), {
    onNone: () => ({ body, stripUsage: false }),
    onSome: (injected) => ({ body: injected, stripUsage: true })
  })
}

/** The client's response, and the failure the spans must record (an upstream error status or an unreachable upstream). */
interface Forwarded {
  readonly response: HttpServerResponse.HttpServerResponse
  readonly failure: Option.Option<UpstreamStatusError | Upstream.UpstreamError>
}

/**
 * Calls the provider and turns its reply into the client's response: error statuses and non-streamed bodies
 * pass through whole, streamed bodies as they arrive. Traced when `traced` is given: the provider span folds the
 * body on the way and its scope closes when the body ends.
 */
const forward = (
  incoming: Incoming,
  traced: Option.Option<{
    readonly gateway: GatewaySpan.GatewaySpan["Type"]
    readonly span: ProviderSpan.ProviderSpan<unknown>
    readonly scope: Scope.CloseableScope
  }>
): Effect.Effect<Forwarded> =>
  Effect.gen(function*() {
    const { body, stripUsage } = upstreamBody(incoming, Option.isSome(traced))
    const close = (exit: Exit.Exit<unknown, unknown>) =>
      Option.match(traced, { onNone: () => Effect.void, onSome: (t) => Scope.close(t.scope, exit) })
    const reply = yield* incoming.target.provider.call({
      dialect: incoming.dialect,
      body,
      stream: incoming.stream,
      model: incoming.target.model,
      headers: incoming.headers,
      traceparent: Option.getOrUndefined(Option.map(traced, (t) => t.span.traceparent))
    }).pipe(Effect.onError((cause) => close(Exit.failCause(cause))))
    const headers = Upstream.replyHeaders(reply.headers)

    if (reply.status >= 400) {
      const bytes = yield* collect(reply.body)
      const failure = new UpstreamStatusError({ status: reply.status, body: new TextDecoder().decode(bytes) })
      yield* close(Exit.fail(failure))
      return { response: HttpServerResponse.uint8Array(bytes, { status: reply.status, headers }), failure: Option.some(failure) }
    }
    if (incoming.stream) {
      const observed = Option.match(traced, { onNone: () => reply.body, onSome: (t) => t.span.observe(reply.body) })
      const forwarded = (stripUsage ? UsageInjection.strip(observed) : observed).pipe(Stream.ensuringWith(close))
      const client = Option.match(traced, { onNone: () => forwarded, onSome: (t) => GatewaySpan.observeExit(t.gateway)(forwarded) })
      return { response: HttpServerResponse.stream(client, { status: reply.status, headers }), failure: Option.none() }
    }
    const bytes = yield* collect(reply.body)
    if (Option.isSome(traced)) {
      const json = parseJson(new TextDecoder().decode(bytes))
      if (Option.isSome(json)) yield* traced.value.span.observeResponse(json.value)
    }
    yield* close(Exit.void)
    return { response: HttpServerResponse.uint8Array(bytes, { status: reply.status, headers }), failure: Option.none() }
  }).pipe(
    Effect.catchTag("UpstreamError", (error) =>
      Effect.succeed<Forwarded>({
        response: errorResponse(incoming.dialect, 502, "upstream_unreachable", error.message),
        failure: Option.some(error)
      }))
  )

/** The traced path: gateway span in the request's scope, provider span in a child scope ended with the body. */
const tracedForward = (incoming: Incoming) =>
  Effect.gen(function*() {
    const gateway = yield* Gateway
    const requestScope = yield* Effect.scope
    const target = incoming.target
    const metadata: Record<string, string> = {}
    if (Option.isSome(incoming.identity)) {
      metadata[Attributes.AuthUsername] = incoming.identity.value.username
      const userId = incoming.identity.value.userId
      if (userId !== undefined) metadata[Attributes.AuthUserId] = userId
    }
    const context = yield* Layer.buildWithScope(
      GatewaySpan.layer(target.endpoint, {
        payload: incoming.body,
        headers: incoming.headers,
        messageFormat: incoming.dialect.messageFormat,
        metadata,
        requestType: incoming.dialect.requestType,
        replay: gateway.replay
      }),
      requestScope
    )
    const gatewaySpan = Context.get(context, GatewaySpan.GatewaySpan)
    const providerScope = yield* Scope.fork(requestScope, ExecutionStrategy.sequential)
    const span = yield* incoming.dialect.use((api): Effect.Effect<ProviderSpan.ProviderSpan<unknown>, never, Scope.Scope> =>
      ProviderSpan.start({
        api,
        provider: target.provider.kind,
        model: target.model,
        stream: incoming.stream,
        payload: incoming.body,
        server: target.provider.server,
        maxChunkEvents: gateway.maxChunkEvents
      })
    ).pipe(Scope.extend(providerScope), Effect.provide(context))

    const { response, failure } = yield* forward(incoming, Option.some({ gateway: gatewaySpan, span, scope: providerScope }))
    if (Option.isSome(failure)) yield* gatewaySpan.setExit(Exit.fail(failure.value))
    const serverTiming = `traceparent;desc="00-${gatewaySpan.span.traceId}-${gatewaySpan.span.spanId}-01"`
    return HttpServerResponse.setHeader(response, "server-timing", serverTiming)
  })

/**
 * Logs one line per request when the request's scope closes, i.e. after the last byte of a streamed body:
 * method, path, endpoint, status (or `aborted`), milliseconds.
 */
const logged = <E, R>(handler: Effect.Effect<{ readonly response: HttpServerResponse.HttpServerResponse; readonly endpoint: string }, E, R>) =>
  Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    const started = yield* Clock.currentTimeMillis
    const seen = { endpoint: "-", status: 500 }
    yield* Effect.addFinalizer((exit) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) =>
        Effect.logInfo(
          // The path only: a query may carry a credential (Gemini clients can send `?key=`).
          `${request.method} ${request.url.split("?", 1)[0]} endpoint=${seen.endpoint} status=${
            Exit.isInterrupted(exit) ? "aborted" : seen.status
          } ${now - started}ms`
        ))
    )
    const { response, endpoint } = yield* handler
    seen.endpoint = endpoint
    seen.status = response.status
    return response
  })

/** Where a route finds the endpoint name and the stream flag. */
type Target = (body: Record<string, unknown>) => Effect.Effect<{ readonly endpoint: string; readonly stream: boolean }, never, HttpRouter.RouteContext>

/**
 * One passthrough route: authenticate, read the JSON body, find the endpoint, forward (traced unless the
 * endpoint's `usageTracking` is off).
 */
const passthrough = (dialect: Dialect.Dialect, targetOf: Target) =>
  logged(Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    const gateway = yield* Gateway
    const headers = request.headers
    const identity = gateway.authenticate(headers)
    if (Option.isNone(identity)) {
      return { endpoint: "-", response: errorResponse(dialect, 401, "authentication_error", "missing or unknown gateway key") }
    }
    const text = yield* Effect.orElseSucceed(request.text, () => "")
    const body = Option.flatMap(parseJson(text), asRecord)
    if (Option.isNone(body)) {
      return { endpoint: "-", response: errorResponse(dialect, 400, "invalid_request_error", "the request body must be a JSON object") }
    }
    const { endpoint, stream } = yield* targetOf(body.value)
    const target = gateway.endpoints.get(endpoint)
    if (target === undefined) {
      return { endpoint, response: errorResponse(dialect, 404, "not_found_error", `no endpoint named ${JSON.stringify(endpoint)}`) }
    }
    if (target.provider.kind !== "echo" && target.provider.kind !== dialect.kind) {
      const message = `endpoint ${JSON.stringify(endpoint)} serves the ${target.provider.kind} API, not ${dialect.kind}`
      return { endpoint, response: errorResponse(dialect, 400, "invalid_request_error", message) }
    }
    const incoming: Incoming = { dialect, target, body: body.value, stream, headers, identity: identity.value }
    const response = target.endpoint.usageTracking
      ? yield* tracedForward(incoming)
      : (yield* forward(incoming, Option.none())).response
    return { endpoint, response }
  }))

const fromBody: Target = (body) =>
  Effect.succeed({ endpoint: typeof body["model"] === "string" ? body["model"] : "", stream: body["stream"] === true })

/** Gemini puts `<endpoint>:<method>` in the last path segment. */
const geminiTarget = Effect.map(HttpRouter.params, (params) => {
  const segment = params["target"] ?? ""
  const colon = segment.lastIndexOf(":")
  return colon === -1 ? { endpoint: segment, method: "" } : { endpoint: segment.slice(0, colon), method: segment.slice(colon + 1) }
})

const gemini = Effect.flatMap(geminiTarget, ({ method }) => {
  const found = Dialect.byGeminiMethod(method)
  return found === undefined
    ? Effect.succeed(errorResponse(Dialect.dialects["gemini.generateContent"], 404, "not_found", `unknown method ${JSON.stringify(method)}`))
    : passthrough(found.dialect, () => Effect.map(geminiTarget, (t) => ({ endpoint: t.endpoint, stream: found.stream })))
})

const authorised = <E, R>(handler: Effect.Effect<HttpServerResponse.HttpServerResponse, E, R>) =>
  Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    const gateway = yield* Gateway
    return Option.isNone(gateway.authenticate(request.headers))
      ? errorResponse(undefined, 401, "authentication_error", "missing or unknown gateway key")
      : yield* handler
  })

const searchTraces = authorised(Effect.gen(function*() {
  const store = yield* TraceStore
  const params = yield* HttpServerRequest.ParsedSearchParams
  const endpoint = typeof params["endpoint"] === "string" ? params["endpoint"] : undefined
  const limit = typeof params["limit"] === "string" && /^\d+$/.test(params["limit"]) ? Number(params["limit"]) : undefined
  const traces = yield* store.searchTraces({ endpoint, limit })
  return HttpServerResponse.unsafeJson({ traces })
}))

const getTrace = authorised(Effect.gen(function*() {
  const store = yield* TraceStore
  const { traceId } = yield* HttpRouter.params
  const trace = yield* store.getTrace(traceId ?? "")
  return Option.match(trace, {
    onNone: () => errorResponse(undefined, 404, "not_found", `no trace ${JSON.stringify(traceId)}`),
    onSome: (t) => HttpServerResponse.unsafeJson(t)
  })
}))

/**
 * The gateway router. Serve it with `HttpServer.serve` (see `main.ts`), or mount it in your own server; it needs
 * `Gateway` and `TraceStore` (from `Gateway.layer` and `Telemetry.layer`).
 *
 * @since 0.1.0
 * @category routers
 */
export const router = HttpRouter.fromIterable([
  ...Dialect.all.filter((dialect) => dialect.modelInBody).map((dialect) =>
    HttpRouter.makeRoute("POST", dialect.route, passthrough(dialect, fromBody))
  ),
  HttpRouter.makeRoute("POST", Dialect.dialects["gemini.generateContent"].route, gemini),
  HttpRouter.makeRoute("GET", "/api/traces", searchTraces),
  HttpRouter.makeRoute("GET", "/api/traces/:traceId", getTrace)
])
