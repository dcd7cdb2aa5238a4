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
import { IncomingMessage, ServerResponse } from "node:http"
import * as Dialect from "./Dialect.js"
import * as Gateway from "./Gateway.js"
import * as Passthrough from "./internal/passthrough.js"
import * as MetricsApi from "./MetricsApi.js"
import * as TraceApi from "./TraceApi.js"
import * as Viewer from "./Viewer.js"

/** An answer as the platform's response (a reply already written to the Node response is an empty one). */
const toResponse = (answer: Passthrough.Answer): HttpServerResponse.HttpServerResponse =>
  answer._tag === "Sent"
    ? HttpServerResponse.empty({ status: answer.status })
    : HttpServerResponse.unsafeJson(answer.body, answer.headers === undefined ? { status: answer.status } : { status: answer.status, headers: answer.headers })

/** The Node request and response under a platform request: the routes read and write them directly. */
const nodeOf = (request: HttpServerRequest.HttpServerRequest) => {
  const incoming: unknown = NodeHttpServerRequest.toIncomingMessage(request)
  const outgoing: unknown = incoming instanceof IncomingMessage ? NodeHttpServerRequest.toServerResponse(request) : undefined
  return incoming instanceof IncomingMessage && outgoing instanceof ServerResponse
    ? Effect.succeed({ incoming, outgoing })
    : Effect.dieMessage("effect-llm-trace: the gateway routes need @effect/platform-node's HTTP server")
}

/** One passthrough route on the platform's request. */
const passthrough = (dialect: Dialect.Dialect, targetOf: Passthrough.Target) =>
  Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) =>
    Effect.flatMap(nodeOf(request), ({ incoming, outgoing }) =>
      Effect.map(Passthrough.passthrough(dialect, targetOf, incoming, outgoing), toResponse)))

/** Gemini puts `<endpoint>:<method>` in the last path segment. */
const gemini = Effect.flatMap(HttpRouter.params, (params) => {
  const found = Passthrough.geminiTarget(params["target"] ?? "")
  return found._tag === "Json" ? Effect.succeed(toResponse(found)) : passthrough(found.dialect, found.targetOf)
})

/** `Passthrough.guard` before every route. */
const guard = <E, R>(app: Effect.Effect<HttpServerResponse.HttpServerResponse, E, R>) =>
  Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) =>
    Effect.flatMap(Gateway.Gateway, (gateway) =>
      Effect.flatMap(
        Passthrough.guard(request.method, NodeHttpServerRequest.toIncomingMessage(request).headers, gateway),
        (refused) => refused === undefined ? app : Effect.succeed(toResponse(refused))
      )))

/**
 * The gateway router. Serve it with `HttpServer.serve`, or mount it in your own server; it needs
 * `Gateway` and `TraceStore` (from `Gateway.layer` and `Telemetry.layer`). With `RequestLog` (`RequestLog.layer`)
 * it logs each request; with `Metrics` (`Metrics.layer`) it records metrics and serves `/metrics`. (`Server.layer`
 * serves the passthrough routes straight from Node's request event, and the rest through this router.)
 *
 * @since 0.1.0
 * @category routers
 */
export const router = HttpRouter.fromIterable([
  ...MetricsApi.router.routes,
  ...Dialect.all.filter((dialect) => dialect.modelInBody).map((dialect) =>
    HttpRouter.makeRoute("POST", dialect.route, passthrough(dialect, Passthrough.fromBody))
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
  Effect.succeed(toResponse(Passthrough.errorAnswer(undefined, 404, "no such route", "not_found"))))
