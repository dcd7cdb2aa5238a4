/**
 * The `provider/<provider>/<model>` span around one upstream call, as a scoped resource.
 *
 * `start(options)` opens the span (kind CLIENT, child of the current span — the gateway span inside a gateway
 * request) with the request's GenAI attributes; the caller sends `traceparent` upstream, folds the response
 * through `observe` (streams: the bytes pass untouched, the provider fold runs on the way) or `observeResponse`
 * (a JSON body), and the scope's finaliser ends the span with the usage, finish reasons, output and status seen —
 * on success, failure and interruption, with the partial result when the call was cut short.
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Cause from "effect/Cause"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import type * as Tracer from "effect/Tracer"
import * as Fold from "../Fold.js"
import type * as Api from "../providers/Api.js"
import * as Sse from "../Sse.js"
import * as TokenUsage from "../TokenUsage.js"
import * as Attributes from "./Attributes.js"
import * as Attribute from "./internal/attribute.js"
import { GatewaySpan, toJson } from "./GatewaySpan.js"
import * as Outcome from "./internal/outcome.js"
import * as Replay from "./Replay.js"
import * as TraceContext from "./TraceContext.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface Options<R, S> {
  /** How to fold and read this provider API's responses. */
  readonly api: Api.Api<R, S>
  /** `mlflow.llm.provider` and the span name's provider part; default `api.provider`. */
  readonly provider?: string | undefined
  /** The requested model: `gen_ai.request.model`, `mlflow.llm.model`, the span name's model part. */
  readonly model?: string | undefined
  readonly stream: boolean
  /** The upstream request body, recorded as the span's inputs. */
  readonly payload?: unknown
  readonly server?: { readonly address: string; readonly port?: number | undefined } | undefined
  /** Record the first N stream events as `mlflow.chunk.item.{i}` span events (default 0: off). */
  readonly maxChunkEvents?: number | undefined
}

/**
 * A started provider span.
 *
 * @since 0.1.0
 * @category models
 */
export interface ProviderSpan<R> {
  readonly span: Tracer.Span
  /** The W3C `traceparent` of THIS span, to send upstream (never the caller's). */
  readonly traceparent: string
  /** Folds a streamed response body on the way through; the bytes are not altered, delayed or re-chunked. */
  readonly observe: <E, Rq>(body: Stream.Stream<Uint8Array, E, Rq>) => Stream.Stream<Uint8Array, E, Rq>
  /** Records a non-streamed response body (parsed JSON). */
  readonly observeResponse: (body: unknown) => Effect.Effect<void>
  /** The response seen so far (partial while streaming). */
  readonly response: Effect.Effect<Option.Option<R>>
}

/** What the span has seen of the response so far. */
interface Seen<R> {
  aggregate: Option.Option<Api.Aggregate<R>>
  /** The stream's own exit: it knows a consumer that stopped early, which the scope reports as success. */
  streamExit: Option.Option<Exit.Exit<unknown, unknown>>
  foldError: Option.Option<Fold.FoldError>
  firstChunkAt: bigint | undefined
}

const requestAttributes = <R, S>(options: Options<R, S>, provider: string): Record<string, unknown> => {
  const attributes: Record<string, unknown> = {
    [Attributes.SpanType]: Attributes.SpanTypes.Llm,
    [Attributes.LlmProvider]: provider,
    [Attributes.GenAiOperationName]: options.api.operation,
    [Attributes.GenAiProviderName]: options.api.provider,
    [Attributes.GenAiRequestStream]: options.stream,
    [Attributes.MessageFormat]: options.api.messageFormat
  }
  if (options.model !== undefined) {
    attributes[Attributes.LlmModel] = options.model
    attributes[Attributes.GenAiRequestModel] = options.model
  }
  if (options.server !== undefined) {
    attributes[Attributes.ServerAddress] = options.server.address
    if (options.server.port !== undefined) attributes[Attributes.ServerPort] = options.server.port
  }
  if (options.payload !== undefined) {
    attributes[Attributes.SpanInputs] = Option.getOrElse(toJson(options.payload), () => "null")
  }
  return attributes
}

/**
 * Starts a provider span in the current scope; it ends when the scope closes.
 *
 * @since 0.1.0
 * @category constructors
 */
export const start = <R, S>(options: Options<R, S>): Effect.Effect<ProviderSpan<R>, never, Scope.Scope> =>
  Effect.gen(function*() {
    const provider = options.provider ?? options.api.provider
    const name = options.model === undefined ? `provider/${provider}` : `provider/${provider}/${options.model}`
    const gateway = yield* Effect.serviceOption(GatewaySpan)
    const span = yield* Effect.makeSpan(name, {
      kind: "client",
      captureStackTrace: false,
      attributes: requestAttributes(options, provider),
      // Inside a gateway request, always under the gateway span (see GatewaySpan.tracedStream).
      ...(Option.isSome(gateway) ? { parent: gateway.value.span } : {})
    })
    const clock = yield* Effect.clock
    const seen: Seen<R> = { aggregate: Option.none(), streamExit: Option.none(), foldError: Option.none(), firstChunkAt: undefined }
    yield* Effect.addFinalizer((scopeExit) => Outcome.guard("provider span", finish(options, span, seen, scopeExit, gateway)))

    const fold = Sse.foldBytes(
      instrument(options.api.fold, span, clock, seen, options.maxChunkEvents ?? 0),
      { dispatchIncompleteAtEnd: true }
    )
    return {
      span,
      traceparent: TraceContext.formatTraceParent({ traceId: span.traceId, parentId: span.spanId, flags: span.sampled ? 1 : 0 }),
      observe: (body) =>
        body.pipe(Fold.tap(fold, (completion) =>
          Effect.sync(() => {
            seen.aggregate = completion.result
            seen.streamExit = Option.some(completion.exit)
            seen.foldError = completion.error
          })
        )),
      observeResponse: (body) =>
        Effect.sync(() => {
          seen.aggregate = Option.map(options.api.decodeResponse(body), (response) => ({
            response,
            complete: true,
            skipped: 0,
            error: Option.none()
          }))
        }),
      response: Effect.sync(() => Option.map(seen.aggregate, (a) => a.response))
    }
  })

/**
 * The provider fold, plus the side effects of observation: the first event's time (time to first chunk) and,
 * when asked for, the first `max` events as span events. Pure folding is unchanged.
 */
const instrument = <R, S>(
  fold: Fold.Fold<Sse.Event, S, Api.Aggregate<R>>,
  span: Tracer.Span,
  clock: Clock.Clock,
  seen: Seen<R>,
  max: number
): Fold.Fold<Sse.Event, S, Api.Aggregate<R>> => {
  let index = 0
  return {
    initial: fold.initial,
    done: fold.done,
    step: (state, event) => {
      if (seen.firstChunkAt === undefined) seen.firstChunkAt = clock.unsafeCurrentTimeNanos()
      if (index < max) {
        span.event(Attributes.chunkEventName(index), clock.unsafeCurrentTimeNanos(), { [Attributes.ChunkValue]: event.data })
      }
      index++
      return fold.step(state, event)
    }
  }
}

const reported = (errorType: string, reason: string): Outcome.Outcome =>
  Outcome.failed(errorType, Cause.fail(new Outcome.ProviderReportedError({ errorType, reason })))

/**
 * The span's final status: the stream's own exit when it ran (it knows early stops), else the scope's; then what
 * the response says — a provider error event, or a stream that ended without its final event.
 */
const outcomeOf = <R>(seen: Seen<R>, scopeExit: Exit.Exit<unknown, unknown>, streamed: boolean): Outcome.Outcome => {
  const base = Outcome.fromExit(Option.getOrElse(seen.streamExit, () => scopeExit))
  if (base._tag !== "Ok") return base
  if (Option.isNone(seen.aggregate)) {
    return streamed ? reported(IncompleteStream, "the stream ended without any event") : base
  }
  const aggregate = seen.aggregate.value
  if (Option.isSome(aggregate.error)) return reported(aggregate.error.value.type, aggregate.error.value.message)
  if (!aggregate.complete) return reported(IncompleteStream, "the stream ended without its final event")
  return base
}

/** `error.type` of a stream that ended (without transport error) before the provider's final event. */
const IncompleteStream = "incomplete_stream"

const setUsage = (span: Tracer.Span, usage: TokenUsage.TokenUsage): void => {
  if (TokenUsage.isEmpty(usage)) return
  span.attribute(Attributes.ChatTokenUsage, JSON.stringify(TokenUsage.toMlflow(usage)))
  const pairs: ReadonlyArray<readonly [string, number | undefined]> = [
    [Attributes.GenAiUsageInputTokens, usage.inputTokens],
    [Attributes.GenAiUsageOutputTokens, usage.outputTokens],
    [Attributes.GenAiUsageCacheReadInputTokens, usage.cacheReadInputTokens],
    [Attributes.GenAiUsageCacheWriteInputTokens, usage.cacheWriteInputTokens],
    [Attributes.GenAiUsageReasoningOutputTokens, usage.reasoningTokens]
  ]
  for (const [key, value] of pairs) if (value !== undefined) span.attribute(key, value)
}

/** Finish reasons of an aggregate that did not complete are defaults, not answers: each is reported as "error". */
const finishReasons = <R, S>(api: Api.Api<R, S>, aggregate: Api.Aggregate<R>): ReadonlyArray<string> => {
  const reasons = api.finishReasons(aggregate.response)
  if (aggregate.complete) return reasons
  return reasons.length === 0 ? ["error"] : reasons.map(() => "error")
}

const setResponse = <R, S>(api: Api.Api<R, S>, span: Tracer.Span, aggregate: Api.Aggregate<R>): void => {
  const response = aggregate.response
  setUsage(span, api.usage(response))
  Option.map(api.responseId(response), (id) => span.attribute(Attributes.GenAiResponseId, id))
  Option.map(api.responseModel(response), (model) => span.attribute(Attributes.GenAiResponseModel, model))
  if (aggregate.skipped > 0) span.attribute(Attributes.SkippedEvents, aggregate.skipped)
}

const finish = <R, S>(
  options: Options<R, S>,
  span: Tracer.Span,
  seen: Seen<R>,
  scopeExit: Exit.Exit<unknown, unknown>,
  gateway: Option.Option<GatewaySpan["Type"]>
): Effect.Effect<void> =>
  Effect.gen(function*() {
    const outcome = outcomeOf(seen, scopeExit, options.stream)
    if (Option.isSome(seen.aggregate)) setResponse(options.api, span, seen.aggregate.value)
    // Serialised once, for this span and the gateway span.
    const output = Option.flatMap(seen.aggregate, (a) => toJson(a.response))
    if (Option.isSome(output)) span.attribute(Attributes.SpanOutputs, output.value)
    const reasons = Option.isSome(seen.aggregate)
      ? finishReasons(options.api, seen.aggregate.value)
      : outcome._tag === "Ok" ? [] : ["error"]
    if (reasons.length > 0) yield* Attribute.set(span, Attributes.GenAiResponseFinishReasons, reasons)
    if (seen.firstChunkAt !== undefined && span.status._tag === "Started") {
      span.attribute(Attributes.GenAiResponseTimeToFirstChunk, Number(seen.firstChunkAt - span.status.startTime) / 1e9)
    }
    if (Option.isSome(seen.foldError)) span.attribute(Attributes.TracingError, seen.foldError.value.message)
    yield* Outcome.end(span, outcome)
    if (Option.isNone(gateway)) return
    const record = Replay.record(span)
    if (Option.isSome(record)) yield* gateway.value.addProviderSpan(record.value)
    if (Option.isSome(output)) yield* gateway.value.setOutputJson(output.value)
  })

/**
 * Traces one non-streamed upstream call: `call` receives the span (send its `traceparent` upstream) and returns
 * the parsed JSON body, which is recorded and returned.
 *
 * @since 0.1.0
 * @category tracing
 */
export const traced = <R, S, A, E, Rq>(
  options: Options<R, S>,
  call: (span: ProviderSpan<R>) => Effect.Effect<A, E, Rq>
): Effect.Effect<A, E, Rq> =>
  Effect.scoped(Effect.gen(function*() {
    const span = yield* start(options)
    const body = yield* call(span)
    yield* span.observeResponse(body)
    return body
  }))

/**
 * Traces one streamed upstream call: `call` receives the span and returns the response body; the span lives as
 * long as the returned stream and folds it on the way through.
 *
 * @since 0.1.0
 * @category tracing
 */
export const tracedStream = <R, S, E, Rq>(
  options: Options<R, S>,
  call: (span: ProviderSpan<R>) => Effect.Effect<Stream.Stream<Uint8Array, E, Rq>, E, Rq>
): Stream.Stream<Uint8Array, E, Rq> =>
  Stream.unwrapScoped(Effect.gen(function*() {
    const span = yield* start(options)
    const body = yield* call(span)
    return span.observe(body)
  }))
