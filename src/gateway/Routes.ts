/**
 * The gateway's HTTP routes, as an `HttpRouter` to serve or mount in another Effect server.
 *
 * Native passthrough routes (MLflow-compatible paths, one per `Dialect`): the client's request goes to the
 * endpoint's provider and the upstream response comes back with its status and bytes, streamed as they arrive,
 * while the provider fold runs on the way for the trace. One request is one scope: the gateway and provider spans
 * start in it and one finaliser ends both (and replays) with what the body relay saw — completed, failed, or
 * neither (the client left). Every traced response carries
 * `server-timing: traceparent;desc="00-<gateway trace id>-<gateway span id>-01"`.
 *
 * - `POST /gateway/openai/v1/chat/completions`, `/responses`, `/completions`, `/embeddings` (endpoint = body `model`)
 * - `POST /gateway/anthropic/v1/messages` (endpoint = body `model`)
 * - `POST /gateway/gemini/v1beta/models/{endpoint}:embedContent` and `:batchEmbedContents` (JSON only)
 * - `POST /gateway/gemini/v1beta/models/{endpoint}:generateContent` and `:streamGenerateContent` (`?alt=sse`)
 * - `GET /api/traces`, `GET /api/traces/{traceId}`, `GET /api/usage`: the trace API over the embedded TraceStore
 *   (see `TraceApi`)
 * - `GET /`, `/traces/{traceId}`, `/usage`: the web viewer over that API (see `Viewer`)
 *
 * Every route is guarded first (`Host` must name the gateway, an `Origin` must be allowed, POST bodies must be
 * JSON), and every error answer is a JSON body in the client's API shape.
 *
 * @since 0.1.0
 */
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as NodeHttpServerRequest from "@effect/platform-node/NodeHttpServerRequest"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import type { IncomingHttpHeaders } from "node:http"
import * as Attributes from "../tracing/Attributes.js"
import * as Metrics from "../tracing/Metrics.js"
import * as Dialect from "./Dialect.js"
import * as Gateway from "./Gateway.js"
import * as MetricsApi from "./MetricsApi.js"
import * as Relay from "./internal/relay.js"
import * as RequestTrace from "./internal/requestTrace.js"
import * as RequestBody from "./internal/requestBody.js"
import * as TraceApi from "./TraceApi.js"
import { RequestLog } from "./RequestLog.js"
import * as Upstream from "./Upstream.js"
import * as UsageInjection from "./UsageInjection.js"
import * as Viewer from "./Viewer.js"

/** An error answer in the client's own API shape (see `Dialect.errorBody`), so that its SDK surfaces it. */
const errorResponse = (
  dialect: Dialect.Dialect | undefined,
  status: number,
  message: string,
  type?: string,
  headers?: Record<string, string>
): HttpServerResponse.HttpServerResponse =>
  HttpServerResponse.unsafeJson(Dialect.errorBody(dialect, status, message, type), headers === undefined ? { status } : { status, headers })

/** The Node request headers (lower-case names), read without copying. */
const headersOf = (request: HttpServerRequest.HttpServerRequest): IncomingHttpHeaders =>
  NodeHttpServerRequest.toIncomingMessage(request).headers

/** The upstream body: the configured model, and usage asked for when the trace needs it. */
const upstreamBody = (incoming: RequestTrace.Incoming, traced: boolean): { readonly body: Record<string, unknown>; readonly stripUsage: boolean } => {
  const body = incoming.dialect.modelInBody ? { ...incoming.body, model: incoming.target.model } : incoming.body
  if (!traced || !incoming.stream || !incoming.dialect.usageInjection) return { body, stripUsage: false }
  return Option.match(UsageInjection.request(body), {
    onNone: () => ({ body, stripUsage: false }),
    onSome: (injected) => ({ body: injected, stripUsage: true })
  })
}

// Forwarding ------------------------------------------------------------------------------------------------------

const serverTiming = (trace: RequestTrace.Trace): Record<string, string> => ({
  "server-timing": `traceparent;desc="00-${trace.gateway.span.traceId}-${trace.gateway.span.spanId}-01"`
})

/**
 * Calls the provider and relays its reply: status, headers and body as they arrive (error statuses and JSON
 * bodies too); the trace's sink reads the body on the way. An upstream that cannot be reached is a 502, one too
 * slow to answer a 504, both JSON in the client's API shape.
 */
const forward = (
  incoming: RequestTrace.Incoming,
  request: HttpServerRequest.HttpServerRequest,
  trace: RequestTrace.Trace | undefined,
  body: Record<string, unknown>,
  stripUsage: boolean
): Effect.Effect<HttpServerResponse.HttpServerResponse, never, Scope.Scope> =>
  Effect.gen(function*() {
    const extra = trace === undefined ? {} : serverTiming(trace)
    const reply = yield* Effect.either(incoming.target.provider.call({
      dialect: incoming.dialect,
      body,
      stream: incoming.stream,
      model: incoming.target.model,
      headers: incoming.headers,
      traceparent: trace?.provider.traceparent,
      plainBody: stripUsage
    }))
    if (Either.isLeft(reply)) {
      const error = reply.left
      trace?.provider.fail(error)
      const status = error.reason === "Timeout" ? 504 : 502
      trace?.gateway.setStatusCode(status)
      return errorResponse(incoming.dialect, status, error.message, error.errorType, extra)
    }
    const { status, headers } = reply.right
    trace?.gateway.setStatusCode(status)
    trace?.provider.respond(status, headers["content-type"])
    const eventStream = headers["content-type"]?.includes("text/event-stream") === true
    const response = NodeHttpServerRequest.toServerResponse(request)
    response.writeHead(status, { ...Upstream.replyHeaders(headers), ...extra })
    yield* Relay.pump(reply.right.body, response, {
      sink: trace?.provider,
      rewrite: stripUsage && status < 400 && eventStream ? UsageInjection.makeStripper() : undefined,
      encoding: headers["content-encoding"],
      toError: (cause, stage) =>
        Upstream.toUpstreamError(
          incoming.target.provider.server.address,
          cause,
          stage === "body" ? "BodyInterrupted" : "Undecodable"
        )
    })
    // Already sent: the platform writes nothing more for a response that ended.
    return HttpServerResponse.empty({ status })
  })

// Routes ----------------------------------------------------------------------------------------------------------

/** Where a route finds the endpoint name and the stream flag. */
type Target = (body: Record<string, unknown>) => Effect.Effect<{ readonly endpoint: string; readonly stream: boolean }, never, HttpRouter.RouteContext>

/**
 * One passthrough route: authenticate, read the JSON body (bounded), find the endpoint, forward — traced unless
 * the endpoint's `usageTracking` is off. Logged and measured when the request's scope closes (after the last
 * byte); `http.route` is the route's pattern, never the raw path.
 */
const passthrough = (dialect: Dialect.Dialect, targetOf: Target) =>
  Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    const gateway = yield* Gateway.Gateway
    const log = yield* Effect.serviceOption(RequestLog)
    const metrics = Option.getOrElse(yield* Effect.serviceOption(Metrics.Metrics), () => Metrics.noop)
    const started = performance.now()
    const seen = { endpoint: "-", status: 500 }
    yield* Effect.addFinalizer((exit) =>
      Effect.sync(() => {
        const aborted = Exit.isInterrupted(exit)
        const millis = performance.now() - started
        if (Option.isSome(log)) log.value.record({ method: request.method, url: request.url, endpoint: seen.endpoint, status: aborted ? "aborted" : seen.status, millis: Math.round(millis) })
        metrics.recordRequest({
          method: request.method,
          route: dialect.route,
          status: aborted ? 499 : seen.status,
          duration: millis / 1000,
          endpoint: gateway.endpoints.has(seen.endpoint) ? seen.endpoint : undefined,
          errorType: aborted ? Attributes.ErrorTypeCancelled : undefined
        })
      })
    )
    const response = yield* handle(dialect, targetOf, request, gateway, seen, metrics)
    seen.status = response.status
    return response
  })

const handle = (
  dialect: Dialect.Dialect,
  targetOf: Target,
  request: HttpServerRequest.HttpServerRequest,
  gateway: Gateway.Gateway["Type"],
  seen: { endpoint: string },
  metrics: Metrics.Metrics["Type"]
) =>
  Effect.gen(function*() {
    const headers = headersOf(request)
    const identity = gateway.authenticate(headers)
    if (Option.isNone(identity)) return errorResponse(dialect, 401, "missing or unknown gateway key", "authentication_error")
    const refuse = (status: number, message: string, endpoint?: string) =>
      Effect.as(RequestTrace.recordRefusal(endpoint, status, String(status), message, headers), errorResponse(dialect, status, message))
    const read = yield* RequestBody.read(request, gateway.maxBodyBytes)
    if (read._tag === "TooLarge") {
      const response = yield* refuse(413, `the request body is larger than ${read.limit} bytes`)
      // The rest of the body is not read: close the connection once the answer is out.
      return HttpServerResponse.setHeader(response, "connection", "close")
    }
    if (read._tag === "Invalid") return yield* refuse(400, read.message)
    const { endpoint, stream } = yield* targetOf(read.value)
    seen.endpoint = endpoint
    const target = gateway.endpoints.get(endpoint)
    if (target === undefined) return yield* refuse(404, `no endpoint named ${JSON.stringify(endpoint)}`, endpoint)
    if (target.provider.kind !== "echo" && target.provider.kind !== dialect.kind) {
      return yield* refuse(400, `endpoint ${JSON.stringify(endpoint)} serves the ${target.provider.kind} API, not ${dialect.kind}`, endpoint)
    }
    const incoming: RequestTrace.Incoming = { dialect, target, body: read.value, stream, headers, identity: identity.value }
    const traced = target.endpoint.usageTracking
    const upstream = upstreamBody(incoming, traced)
    const trace = traced ? yield* RequestTrace.startTrace(incoming, gateway, upstream.body, metrics) : undefined
    return yield* forward(incoming, request, trace, upstream.body, upstream.stripUsage)
  })

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
    ? Effect.succeed(errorResponse(Dialect.dialects["gemini.generateContent"], 404, `unknown method ${JSON.stringify(method)}`))
    : passthrough(found.dialect, () => Effect.map(geminiTarget, (t) => ({ endpoint: t.endpoint, stream: found.stream })))
})

// The guard ------------------------------------------------------------------------------------------------------

const isJson = (contentType: string | undefined): boolean => {
  const type = contentType?.split(";", 1)[0]?.trim().toLowerCase()
  return type === "application/json" || (type !== undefined && type.startsWith("application/") && type.endsWith("+json"))
}

/**
 * Before any route: the `Host` must name the gateway (a DNS-rebinding page cannot read it), a browser's `Origin`
 * must be allowed (a page cannot spend the upstream keys), and a POST body must be uncompressed JSON (`text/plain`
 * is how a page posts without a CORS preflight).
 */
const guard = <E, R>(app: Effect.Effect<HttpServerResponse.HttpServerResponse, E, R>) =>
  Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    const gateway = yield* Gateway.Gateway
    const headers = headersOf(request)
    if (!gateway.allowsHost(headers.host)) {
      return errorResponse(undefined, 421, "this gateway does not answer for that Host", "misdirected_request")
    }
    const origin = headers.origin
    if (origin !== undefined && !gateway.allowsOrigin(origin)) {
      return errorResponse(undefined, 403, "requests from this Origin are not allowed", "forbidden_origin")
    }
    // A refused body of an authenticated caller leaves a short error trace (an anonymous one could fill the store).
    const unsupported = (message: string) =>
      Effect.as(
        Option.isSome(gateway.authenticate(headers))
          ? RequestTrace.recordRefusal(undefined, 415, "415", message, headers)
          : Effect.void,
        errorResponse(undefined, 415, message, "unsupported_media_type")
      )
    if (request.method === "POST" && !isJson(headers["content-type"])) {
      return yield* unsupported("the request body must be application/json")
    }
    // The body is read as plain JSON (and sent upstream re-serialised): a compressed one is refused, not misread.
    if (request.method === "POST" && !Relay.isIdentity(headers["content-encoding"])) {
      return yield* unsupported("compressed request bodies are not supported")
    }
    return yield* app
  })

/**
 * The gateway router. Serve it with `HttpServer.serve` (see `Server`), or mount it in your own server; it needs
 * `Gateway` and `TraceStore` (from `Gateway.layer` and `Telemetry.layer`). With `RequestLog` (`RequestLog.layer`)
 * it logs each request; with `Metrics` (`Metrics.layer`) it records metrics and serves `/metrics`.
 *
 * @since 0.1.0
 * @category routers
 */
export const router = HttpRouter.fromIterable([
  ...MetricsApi.router.routes,
  ...Dialect.all.filter((dialect) => dialect.modelInBody).map((dialect) =>
    HttpRouter.makeRoute("POST", dialect.route, passthrough(dialect, fromBody))
  ),
  HttpRouter.makeRoute("POST", Dialect.dialects["gemini.generateContent"].route, gemini),
  ...TraceApi.router.routes,
  ...Viewer.router.routes
]).pipe(HttpRouter.use(guard))

/**
 * The router as the app to serve: an unknown path or method answers 404 with a JSON body. (`HttpRouter.use`
 * wraps each route's handler, so the router's own "no route" failure happens outside the guard: it is answered
 * here, or the platform would send an empty 404.)
 *
 * @since 0.2.0
 * @category routers
 */
export const httpApp = Effect.catchTag(router, "RouteNotFound", () =>
  Effect.succeed(errorResponse(undefined, 404, "no such route", "not_found")))
