/**
 * One native passthrough request, on the Node request and response themselves: authenticate, read the JSON body
 * (bounded), find the endpoint, forward — traced unless the endpoint's `usageTracking` is off — after `guard`
 * (Host, Origin, Content-Type), which every route of the gateway runs first. Both ways of serving it use this: `Routes.router` (mounted in any `@effect/platform` server) and the gateway's own
 * server (`Server.layer`), which runs it straight from Node's request event — the platform's per-request work
 * (request wrapper, router, middleware, context patches) costs more CPU than a whole proxy hop.
 *
 * One request is one scope: the gateway and provider spans start in it and one finaliser ends both (and replays)
 * with what the body relay saw — completed, failed, or neither (the client left). Logged and measured when the
 * scope closes (after the last byte); `http.route` is the route's pattern, never the raw path.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from "node:http"
import * as Finalizer from "../../internal/finalizer.js"
import * as Attributes from "../../tracing/Attributes.js"
import * as Metrics from "../../tracing/Metrics.js"
import * as Dialect from "../Dialect.js"
import * as Gateway from "../Gateway.js"
import { RequestLog } from "../RequestLog.js"
import * as Upstream from "../Upstream.js"
import * as UsageInjection from "../UsageInjection.js"
import * as Relay from "./relay.js"
import * as RequestBody from "./requestBody.js"
import * as RequestTrace from "./requestTrace.js"

/** What a request got: a JSON answer still to send, or a reply already written to the Node response. @internal */
export type Answer = Json | { readonly _tag: "Sent"; readonly status: number }

/** A JSON answer still to send. @internal */
export interface Json {
  readonly _tag: "Json"
  readonly status: number
  readonly body: unknown
  readonly headers?: Record<string, string> | undefined
}

/** An error answer in the client's own API shape (see `Dialect.errorBody`), so that its SDK surfaces it. @internal */
export const errorAnswer = (
  dialect: Dialect.Dialect | undefined,
  status: number,
  message: string,
  type?: string,
  headers?: Record<string, string>
): Json => ({ _tag: "Json", status, body: Dialect.errorBody(dialect, status, message, type), headers })

/** Writes a JSON answer to a Node response. @internal */
export const writeJson = (response: ServerResponse, answer: Json): void => {
  const text = JSON.stringify(answer.body)
  response.writeHead(answer.status, {
    ...answer.headers,
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text)
  })
  response.end(text)
}

/** Where a route finds the endpoint name and the stream flag in the request body. @internal */
export type Target = (body: Record<string, unknown>) => { readonly endpoint: string; readonly stream: boolean }

/** The OpenAI and Anthropic routes: the endpoint is the body's `model`. @internal */
export const fromBody: Target = (body) => ({
  endpoint: typeof body["model"] === "string" ? body["model"] : "",
  stream: body["stream"] === true
})

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
  response: ServerResponse,
  trace: RequestTrace.Trace | undefined,
  upstream: { readonly body: Record<string, unknown>; readonly stripUsage: boolean }
): Effect.Effect<Answer, never, Scope.Scope> => {
  const extra = trace === undefined ? {} : serverTiming(trace)
  const { dialect, target } = incoming
  const call = target.provider.call({
    dialect,
    body: upstream.body,
    stream: incoming.stream,
    model: target.model,
    headers: incoming.headers,
    traceparent: trace?.provider.traceparent,
    plainBody: upstream.stripUsage
  })
  // No generator: while the body streams, the fiber holds only the relay (not this request's parsed body).
  return Effect.matchEffect(call, {
    onFailure: (error) => {
      trace?.provider.fail(error)
      const status = error.reason === "Timeout" ? 504 : 502
      trace?.gateway.setStatusCode(status)
      return Effect.succeed(errorAnswer(dialect, status, error.message, error.errorType, extra))
    },
    onSuccess: ({ body, headers, status }) => {
      trace?.gateway.setStatusCode(status)
      trace?.provider.respond(status, headers["content-type"])
      const eventStream = headers["content-type"]?.includes("text/event-stream") === true
      response.writeHead(status, { ...Upstream.replyHeaders(headers), ...extra })
      const address = target.provider.server.address
      const pumped = Relay.pump(body, response, {
        sink: trace?.provider,
        rewrite: upstream.stripUsage && status < 400 && eventStream ? UsageInjection.makeStripper() : undefined,
        encoding: headers["content-encoding"],
        toError: (cause, stage) => Upstream.toUpstreamError(address, cause, stage === "body" ? "BodyInterrupted" : "Undecodable")
      })
      return Effect.as(pumped, { _tag: "Sent", status } satisfies Answer)
    }
  })
}

const handle = (
  dialect: Dialect.Dialect,
  targetOf: Target,
  request: IncomingMessage,
  response: ServerResponse,
  gateway: Gateway.Gateway["Type"],
  seen: { endpoint: string },
  metrics: Metrics.Metrics["Type"]
): Effect.Effect<Answer, never, Scope.Scope> =>
  // The generator ends with the effect that forwards (flattened), so it is not held while the body streams.
  Effect.flatten(Effect.gen(function*() {
    const headers = request.headers
    const identity = gateway.authenticate(headers)
    if (Option.isNone(identity)) return Effect.succeed(errorAnswer(dialect, 401, "missing or unknown gateway key", "authentication_error"))
    const refuse = (status: number, message: string, endpoint?: string, extra?: Record<string, string>) =>
      Effect.as(
        RequestTrace.recordRefusal(endpoint, status, String(status), message, headers),
        errorAnswer(dialect, status, message, undefined, extra)
      )
    const read = yield* RequestBody.read(request, gateway.maxBodyBytes)
    // The rest of an oversized body is not read: the connection closes once the answer is out.
    if (read._tag === "TooLarge") return refuse(413, `the request body is larger than ${read.limit} bytes`, undefined, { connection: "close" })
    if (read._tag === "Invalid") return refuse(400, read.message)
    const { endpoint, stream } = targetOf(read.value)
    seen.endpoint = endpoint
    const target = gateway.endpoints.get(endpoint)
    if (target === undefined) return refuse(404, `no endpoint named ${JSON.stringify(endpoint)}`, endpoint)
    if (target.provider.kind !== "echo" && target.provider.kind !== dialect.kind) {
      return refuse(400, `endpoint ${JSON.stringify(endpoint)} serves the ${target.provider.kind} API, not ${dialect.kind}`, endpoint)
    }
    const incoming: RequestTrace.Incoming = { dialect, target, body: read.value, stream, headers, identity: identity.value }
    const traced = target.endpoint.usageTracking
    const upstream = upstreamBody(incoming, traced)
    const trace = traced ? yield* RequestTrace.startTrace(incoming, gateway, upstream.body, metrics) : undefined
    return forward(incoming, response, trace, upstream)
  }))

/**
 * One passthrough request (the caller runs `guard` first). Needs the request's scope; the caller writes the
 * answer when it is `Json`.
 *
 * @internal
 */
export const passthrough = (
  dialect: Dialect.Dialect,
  targetOf: Target,
  request: IncomingMessage,
  response: ServerResponse
): Effect.Effect<Answer, never, Gateway.Gateway | Scope.Scope> =>
  Effect.flatten(Effect.gen(function*() {
    const gateway = yield* Gateway.Gateway
    const log = yield* Effect.serviceOption(RequestLog)
    const metrics = Option.getOrElse(yield* Effect.serviceOption(Metrics.Metrics), () => Metrics.noop)
    const started = performance.now()
    const seen = { endpoint: "-", status: 500 }
    yield* Finalizer.addSync((exit) => {
      const aborted = Exit.isInterrupted(exit)
      const millis = performance.now() - started
      const method = request.method ?? "POST"
      if (Option.isSome(log)) log.value.record({ method, url: request.url ?? "", endpoint: seen.endpoint, status: aborted ? "aborted" : seen.status, millis: Math.round(millis) })
      metrics.recordRequest({
        method,
        route: dialect.route,
        status: aborted ? 499 : seen.status,
        duration: millis / 1000,
        endpoint: gateway.endpoints.has(seen.endpoint) ? seen.endpoint : undefined,
        errorType: aborted ? Attributes.ErrorTypeCancelled : undefined
      })
    })
    return Effect.map(handle(dialect, targetOf, request, response, gateway, seen, metrics), (answer) => {
      seen.status = answer.status
      return answer
    })
  }))

// The guard ------------------------------------------------------------------------------------------------------

const isJson = (contentType: string | undefined): boolean => {
  const type = contentType?.split(";", 1)[0]?.trim().toLowerCase()
  return type === "application/json" || (type !== undefined && type.startsWith("application/") && type.endsWith("+json"))
}

/**
 * Before any route: the `Host` must name the gateway (a DNS-rebinding page cannot read it), a browser's `Origin`
 * must be allowed (a page cannot spend the upstream keys), and a POST body must be uncompressed JSON (`text/plain`
 * is how a page posts without a CORS preflight). Undefined when the request may go on.
 *
 * @internal
 */
export const guard = (
  method: string | undefined,
  headers: IncomingHttpHeaders,
  gateway: Gateway.Gateway["Type"]
): Effect.Effect<Answer | undefined> => {
  if (!gateway.allowsHost(headers.host)) {
    return Effect.succeed(errorAnswer(undefined, 421, "this gateway does not answer for that Host", "misdirected_request"))
  }
  const origin = headers.origin
  if (origin !== undefined && !gateway.allowsOrigin(origin)) {
    return Effect.succeed(errorAnswer(undefined, 403, "requests from this Origin are not allowed", "forbidden_origin"))
  }
  if (method !== "POST") return Effect.succeed(undefined)
  // A refused body of an authenticated caller leaves a short error trace (an anonymous one could fill the store).
  const unsupported = (message: string) =>
    Effect.as(
      Option.isSome(gateway.authenticate(headers))
        ? RequestTrace.recordRefusal(undefined, 415, "415", message, headers)
        : Effect.void,
      errorAnswer(undefined, 415, message, "unsupported_media_type")
    )
  if (!isJson(headers["content-type"])) return unsupported("the request body must be application/json")
  // The body is read as plain JSON (and sent upstream re-serialised): a compressed one is refused, not misread.
  if (!Relay.isIdentity(headers["content-encoding"])) return unsupported("compressed request bodies are not supported")
  return Effect.succeed(undefined)
}

// Routing --------------------------------------------------------------------------------------------------------

/** A passthrough route found for a path: its dialect and where the endpoint is. @internal */
export interface Route {
  readonly _tag: "Route"
  readonly dialect: Dialect.Dialect
  readonly targetOf: Target
}

/**
 * Gemini puts `<endpoint>:<method>` in the last path segment (already URL-decoded): the route, or a 404 for an
 * unknown method.
 *
 * @internal
 */
export const geminiTarget = (segment: string): Route | Json => {
  const colon = segment.lastIndexOf(":")
  const endpoint = colon === -1 ? segment : segment.slice(0, colon)
  const method = colon === -1 ? "" : segment.slice(colon + 1)
  const found = Dialect.byGeminiMethod(method)
  if (found === undefined) {
    return errorAnswer(Dialect.dialects["gemini.generateContent"], 404, `unknown method ${JSON.stringify(method)}`)
  }
  return { _tag: "Route", dialect: found.dialect, targetOf: () => ({ endpoint, stream: found.stream }) }
}

const bodyRoutes = new Map<string, Route>(
  Dialect.all.filter((dialect) => dialect.modelInBody).map((dialect) => [dialect.route, { _tag: "Route", dialect, targetOf: fromBody }])
)
const geminiPrefix = Dialect.dialects["gemini.generateContent"].route.slice(0, -":target".length)

/**
 * The passthrough route of a request's path (query string ignored), as `Routes.router` matches it; undefined
 * for any other path, which then goes to the router.
 *
 * @internal
 */
export const match = (url: string): Route | Json | undefined => {
  const query = url.indexOf("?")
  const path = query === -1 ? url : url.slice(0, query)
  const route = bodyRoutes.get(path)
  if (route !== undefined) return route
  if (!path.startsWith(geminiPrefix)) return undefined
  const segment = path.slice(geminiPrefix.length)
  if (segment === "" || segment.includes("/")) return undefined
  let decoded: string
  try {
    decoded = decodeURIComponent(segment)
  } catch {
    return undefined
  }
  return geminiTarget(decoded)
}
