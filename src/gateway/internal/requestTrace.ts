/**
 * The trace of one gateway request: the gateway span and the provider span, started in the request's scope, and
 * ONE finaliser that ends both (the provider's outcome becomes the request's) and replays. Also the short error
 * trace of a request the gateway refused.
 *
 * @internal
 */
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type * as Tracer from "effect/Tracer"
import * as Finalizer from "../../internal/finalizer.js"
import * as Headers from "../../internal/headers.js"
import type * as Api from "../../providers/Api.js"
import * as Attributes from "../../tracing/Attributes.js"
import type * as Metrics from "../../tracing/Metrics.js"
import * as GatewayCall from "../../tracing/internal/gatewayCall.js"
import * as Outcome from "../../tracing/internal/outcome.js"
import * as Payload from "../../tracing/internal/payload.js"
import * as ProviderCall from "../../tracing/internal/providerCall.js"
import type * as Dialect from "../Dialect.js"
import type * as Gateway from "../Gateway.js"

/** What a passthrough route knows about one request. @internal */
export interface Incoming {
  readonly dialect: Dialect.Dialect
  readonly target: Gateway.Endpoint
  readonly body: Record<string, unknown>
  readonly stream: boolean
  readonly headers: Headers.HeadersInput
  readonly identity: Option.Option<Gateway.Identity>
}

/** What the provider call's inputs add to the gateway span's: the top-level fields the gateway changed. */
const changedFields = (client: Record<string, unknown>, upstream: Record<string, unknown>): Record<string, unknown> => {
  const changed: Record<string, unknown> = {}
  for (const key of Object.keys(upstream)) if (upstream[key] !== client[key]) changed[key] = upstream[key]
  return changed
}

// Tracing ---------------------------------------------------------------------------------------------------------

/** The spans of one traced request. @internal */
export interface Trace {
  readonly gateway: GatewayCall.GatewayCall
  readonly provider: ProviderCall.ProviderCall<unknown>
}

const traceMetadata = (identity: Option.Option<Gateway.Identity>): Record<string, string> => {
  const metadata: Record<string, string> = {}
  if (Option.isSome(identity)) {
    metadata[Attributes.AuthUsername] = identity.value.username
    if (identity.value.userId !== undefined) metadata[Attributes.AuthUserId] = identity.value.userId
  }
  return metadata
}

/** The provider span, a child of the gateway span; its inputs are only what the gateway changed. */
const startProvider = <R, S>(
  api: Api.Api<R, S>,
  incoming: Incoming,
  gatewaySpan: Tracer.Span,
  upstream: Record<string, unknown>,
  capture: Gateway.Capture,
  metrics: Metrics.Metrics["Type"]
): Effect.Effect<ProviderCall.ProviderCall<R>> => {
  const { target } = incoming
  const request: ProviderCall.Request<R, S> = {
    api,
    provider: target.provider.kind,
    model: target.model,
    stream: incoming.stream,
    server: target.provider.server,
    inputsJson: capture.content === "full" ? Payload.encode(changedFields(incoming.body, upstream), capture.maxPayloadBytes) : undefined,
    body: upstream,
    secrets: target.provider.secret === undefined ? [] : [target.provider.secret]
  }
  return Effect.zipWith(
    Effect.makeSpan(ProviderCall.spanName(target.provider.kind, target.model), {
      kind: "client",
      parent: gatewaySpan,
      captureStackTrace: false,
      attributes: { ...ProviderCall.startAttributes(request), [Attributes.InputsFromParent]: true }
    }),
    Effect.clock,
    (span, clock) => ProviderCall.start(span, clock, request, { ...ProviderCall.defaultCapture, ...capture }, metrics)
  )
}

/**
 * Starts the gateway span and the provider span in the request's scope, with ONE finaliser that ends both (the
 * provider's outcome becomes the request's) and replays.
 */
export const startTrace = (
  incoming: Incoming,
  gateway: Gateway.Gateway["Type"],
  upstream: Record<string, unknown>,
  metrics: Metrics.Metrics["Type"]
) =>
  Effect.gen(function*() {
    const { dialect, target } = incoming
    const capture = gateway.capture
    const tracer = yield* Effect.tracer
    const clock = yield* Effect.clock
    const request: GatewayCall.Request = {
      headers: incoming.headers,
      messageFormat: dialect.messageFormat,
      metadata: traceMetadata(incoming.identity),
      requestType: dialect.requestType,
      replay: gateway.replay
    }
    // `server_url`: the gateway as this client reached it (the Host passed the guard's allowlist).
    const host = Headers.get(incoming.headers, "host")
    const endpoint = host === undefined ? target.endpoint : { ...target.endpoint, serverUrl: `http://${host}` }
    const gatewaySpan = yield* Effect.makeSpan(GatewayCall.spanName(endpoint.name), {
      kind: "server",
      root: true,
      captureStackTrace: false,
      attributes: GatewayCall.startAttributes(endpoint, request)
    })
    if (capture.content === "full") GatewayCall.setInputs(gatewaySpan, incoming.body, capture.maxPayloadBytes)
    const gatewayCall = GatewayCall.start(gatewaySpan, tracer, clock, endpoint, request)
    const provider = yield* dialect.use<Effect.Effect<ProviderCall.ProviderCall<unknown>>>((api) =>
      startProvider(api, incoming, gatewaySpan, upstream, capture, metrics)
    )
    yield* Finalizer.addSync((exit) => {
      const finished = provider.finish(exit)
      gatewayCall.collect(provider.span, { outputJson: finished.outputJson })
      gatewayCall.finish(exit)
    })
    return { gateway: gatewayCall, provider } satisfies Trace
  })

/** Who sent a refused request and where it reached the gateway: the caller and `server_url`, when known. */
const refusalAttributes = (headers: Headers.HeadersInput | undefined): Record<string, string> => {
  if (headers === undefined) return {}
  const host = Headers.get(headers, "host")
  const who = GatewayCall.caller(headers)
  return {
    ...(host === undefined ? {} : { [Attributes.ServerUrl]: `http://${host}` }),
    ...(Option.isSome(who) ? { [Attributes.GatewayCaller]: who.value } : {})
  }
}

/**
 * A request the gateway refused after authentication (400, 404, 413, 415): a short error trace, no payload;
 * with the request's headers, its caller and `server_url` too.
 */
export const recordRefusal = (
  endpoint: string | undefined,
  status: number,
  errorType: string,
  message: string,
  headers?: Headers.HeadersInput
) =>
  Effect.flatMap(
    Effect.makeSpan(GatewayCall.spanName(endpoint), {
      kind: "server",
      root: true,
      captureStackTrace: false,
      attributes: {
        [Attributes.SpanType]: Attributes.SpanTypes.Llm,
        [Attributes.HttpResponseStatusCode]: status,
        ...(endpoint === undefined ? {} : { [Attributes.EndpointName]: endpoint }),
        ...refusalAttributes(headers)
      }
    }),
    (span) =>
      Effect.clockWith((clock) =>
        Effect.sync(() => {
          Outcome.endSync(span, Outcome.failed(errorType, Cause.fail(new Outcome.ProviderReportedError({ errorType, reason: message }))), clock)
        })
      )
  )

