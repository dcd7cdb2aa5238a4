/**
 * One traced provider call, synchronously: the span, the response body observed chunk by chunk (an SSE stream
 * folded on the way, or a JSON/error body held within a byte bound), and `finish`, which ends the span with the
 * outcome, usage, finish reasons and output. Every caller — `ProviderSpan` over an Effect Stream, the gateway over
 * a Node stream, client tracing over `fetch` — drives this one object: feed bytes, then end, fail, or nothing (an
 * interruption), then finish once from a finaliser.
 *
 * @internal
 */
import * as Cause from "effect/Cause"
import type * as Clock from "effect/Clock"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import type * as Tracer from "effect/Tracer"
import type * as Api from "../../providers/Api.js"
import * as Sse from "../../Sse.js"
import * as TokenUsage from "../../TokenUsage.js"
import * as Attributes from "../Attributes.js"
import * as Metrics from "../Metrics.js"
import * as TraceContext from "../TraceContext.js"
import * as Attribute from "./attribute.js"
import * as Outcome from "./outcome.js"
import * as Payload from "./payload.js"

/** How payloads are recorded. @internal */
export interface Capture {
  /** `"none"`: no inputs, outputs or chunk events (the GenAI conventions' default). */
  readonly content: "full" | "none"
  readonly maxPayloadBytes: number
  /** The first N stream events as `mlflow.chunk.item.{i}` span events. */
  readonly maxChunkEvents: number
  /** Bound on a non-streamed (JSON or error) response body held for tracing; beyond it the body is not read. */
  readonly maxResponseBytes: number
}

/** @internal */
export const defaultCapture: Capture = {
  content: "full",
  maxPayloadBytes: Payload.defaultMaxPayloadBytes,
  maxChunkEvents: 0,
  maxResponseBytes: 16 * 1024 * 1024
}

/** What one call is: its API and the request's facts. @internal */
export interface Request<R, S> {
  readonly api: Api.Api<R, S>
  readonly provider: string
  readonly model: string | undefined
  readonly stream: boolean
  /** The inputs, already encoded (within the budget), or undefined for none. */
  readonly inputsJson: string | undefined
  /**
   * The request body sent upstream, read for its parameters (`Api.requestAttributes`: `gen_ai.request.*`,
   * `gen_ai.output.type`) whatever the content capture: parameters are not content.
   */
  readonly body?: unknown
  readonly server?: { readonly address: string; readonly port?: number | undefined } | undefined
  /** Strings never recorded (the upstream key, which an upstream error body may echo): replaced by `***`. */
  readonly secrets?: ReadonlyArray<string> | undefined
}

/** How the call ended, for the gateway span and the replay. @internal */
export interface Finished {
  readonly outcome: Outcome.Outcome
  /** The response, serialised once (for this span and the gateway's), when there was one and content is captured. */
  readonly outputJson: string | undefined
  readonly usage: TokenUsage.TokenUsage
  readonly responseModel: string | undefined
  readonly endTime: bigint
  /** Seconds from the start to the first streamed event. */
  readonly timeToFirstChunk: number | undefined
}

/** @internal */
export interface ProviderCall<R> {
  readonly span: Tracer.Span
  /** The W3C `traceparent` of THIS span, to send upstream (never the caller's). */
  readonly traceparent: string
  /** The response's status and content type: decides how the body is read (SSE fold, JSON, or error text). */
  readonly respond: (status: number, contentType: string | undefined) => void
  readonly feed: (bytes: Uint8Array) => void
  /** The body arrived whole. */
  readonly end: () => void
  /** The call failed (unreachable upstream, broken body, timeout): `error` gives `error.type` and the message. */
  readonly fail: (error: unknown) => void
  /** A non-streamed response, already parsed. */
  readonly setResponse: (body: unknown) => void
  /** The response so far (partial while streaming). */
  readonly response: () => Option.Option<R>
  /** The provider's terminal marker arrived: a body left unread after it is complete, not cancelled. */
  readonly complete: () => boolean
  /** Ends the span (once; later calls return the first result). `exit` is the scope's: it tells an interruption. */
  readonly finish: (exit: Exit.Exit<unknown, unknown>) => Finished
}

/** An upstream answered with an error status: passed through to the client, recorded as the span's error. */
class UpstreamStatus extends Error {
  readonly errorType: string
  constructor(readonly status: number, body: string) {
    super(`upstream answered ${status}: ${body}`)
    this.errorType = String(status)
  }
}

const IncompleteStream = "incomplete_stream"

const reported = (errorType: string, reason: string): Outcome.Outcome =>
  Outcome.failed(errorType, Cause.fail(new Outcome.ProviderReportedError({ errorType, reason })))

const sseErrorType = (error: Sse.SseError): string =>
  error.reason === "LineTooLong" ? "sse_line_too_long" : "sse_event_too_large"

/** `text` with every secret replaced by `***`. */
const mask = (text: string, secrets: ReadonlyArray<string> | undefined): string => {
  if (secrets === undefined) return text
  let out = text
  for (const secret of secrets) if (secret.length >= 4) out = out.split(secret).join("***")
  return out
}

const isEventStream = (contentType: string | undefined): boolean =>
  contentType !== undefined && contentType.toLowerCase().includes("text/event-stream")

/** A byte accumulator that stops (and remembers it stopped) at `max` bytes. */
const boundedBytes = (max: number) => {
  const parts: Array<Uint8Array> = []
  let size = 0
  let over = false
  return {
    push: (bytes: Uint8Array): void => {
      if (over) return
      if (size + bytes.length > max) {
        over = true
        parts.length = 0
        return
      }
      parts.push(bytes.slice())
      size += bytes.length
    },
    text: (): string | undefined => over ? undefined : Buffer.concat(parts, size).toString("utf8"),
    over: () => over
  }
}

/**
 * Starts a call on an already made span (the caller made it with `Effect.makeSpan`, so that parents, annotations
 * and the tracer come from the fiber). Synchronous from here on.
 *
 * @internal
 */
export const start = <R, S>(
  span: Tracer.Span,
  clock: Clock.Clock,
  request: Request<R, S>,
  capture: Capture,
  metrics: Metrics.Metrics["Type"] = Metrics.noop
): ProviderCall<R> => {
  const { api } = request
  const startTime = span.status.startTime
  // Arrival times for `time_per_output_chunk`: kept only when metrics record them.
  const chunks = metrics.enabled ? Metrics.makeChunkTimes() : undefined
  setRequestAttributes(span, request)
  let mode: "sse" | "json" | "error" = request.stream ? "sse" : "json"
  let status = 200

  // SSE fold state.
  const parser = Sse.makeParser({ dispatchIncompleteAtEnd: true })
  let state: S | undefined
  let foldError: unknown = undefined
  let events = 0
  let firstEventAt: bigint | undefined

  // JSON / error body.
  let body: ReturnType<typeof boundedBytes> | undefined
  let parsed: Option.Option<Api.Aggregate<R>> = Option.none()

  let ended = false
  let failure: unknown = undefined
  let finished: Finished | undefined

  const stepEvents = (batch: ReadonlyArray<Sse.Event>): void => {
    if (batch.length === 0 || foldError !== undefined) return
    const now = clock.unsafeCurrentTimeNanos()
    if (firstEventAt === undefined) firstEventAt = now
    const since = chunks === undefined ? 0 : Number(now - startTime) / 1e9
    try {
      if (state === undefined) state = api.fold.initial()
      for (const event of batch) {
        if (capture.content === "full" && events < capture.maxChunkEvents) {
          span.event(Attributes.chunkEventName(events), now, {
            [Attributes.ChunkValue]: Payload.fit(event.data, capture.maxPayloadBytes)
          })
        }
        events++
        chunks?.mark(since)
        state = api.fold.step(state, event)
      }
    } catch (cause) {
      foldError = cause
    }
  }

  const aggregate = (): Option.Option<Api.Aggregate<R>> => {
    if (mode !== "sse") return parsed
    if (state === undefined || foldError !== undefined) return Option.none()
    try {
      return api.fold.done(state)
    } catch (cause) {
      foldError = cause
      return Option.none()
    }
  }

  const decodeJson = (text: string | undefined): void => {
    if (text === undefined) return
    try {
      parsed = Option.map(api.decodeResponse(JSON.parse(text)), (response) => ({
        response,
        complete: true,
        skipped: 0,
        error: Option.none()
      }))
    } catch {
      // Not JSON: nothing to record as the response.
    }
  }

  const outcomeOf = (exit: Exit.Exit<unknown, unknown>): Outcome.Outcome => {
    if (failure !== undefined) {
      const errorType = failure instanceof Sse.SseError ? sseErrorType(failure) : Outcome.errorTypeOf(failure)
      return Outcome.failed(errorType, Cause.fail(failure))
    }
    // Neither end nor failure seen: the call failed elsewhere (its exit says how) or was stopped early.
    if (!ended) return Exit.isFailure(exit) ? Outcome.fromExit(exit) : Outcome.cancelled
    const result = aggregate()
    if (Option.isNone(result)) {
      return mode === "sse" ? reported(IncompleteStream, "the stream ended without any event") : Outcome.ok
    }
    const { complete, error } = result.value
    if (Option.isSome(error)) return reported(error.value.type, error.value.message)
    if (!complete) return reported(IncompleteStream, "the stream ended without its final event")
    return Outcome.ok
  }

  const recordResponse = (result: Api.Aggregate<R>): {
    readonly usage: TokenUsage.TokenUsage
    readonly model: string | undefined
    readonly outputJson: string | undefined
  } => {
    const response = result.response
    const usage = api.usage(response)
    setUsage(span, usage)
    const id = api.responseId(response)
    if (Option.isSome(id)) span.attribute(Attributes.GenAiResponseId, id.value)
    const model = Option.getOrUndefined(api.responseModel(response))
    if (model !== undefined) span.attribute(Attributes.GenAiResponseModel, model)
    if (result.skipped > 0) span.attribute(Attributes.SkippedEvents, result.skipped)
    Attribute.setAll(span, Object.entries(api.responseAttributes(response)))
    const reasons = api.finishReasons(response)
    // Finish reasons of an aggregate that did not complete are defaults, not answers: each is reported as "error".
    const shown = result.complete ? reasons : reasons.length === 0 ? ["error"] : reasons.map(() => "error")
    if (shown.length > 0) Attribute.set(span, Attributes.GenAiResponseFinishReasons, shown)
    let outputJson: string | undefined
    if (capture.content === "full") {
      outputJson = Payload.encode(response, capture.maxPayloadBytes)
      if (outputJson !== undefined) span.attribute(Attributes.SpanOutputs, outputJson)
      else span.attribute(Attributes.TracingError, "outputs are not JSON-serialisable")
    }
    return { usage, model, outputJson }
  }

  return {
    span,
    traceparent: TraceContext.formatTraceParent({ traceId: span.traceId, parentId: span.spanId, flags: span.sampled ? 1 : 0 }),
    respond: (code, contentType) => {
      status = code
      // The answer's content type decides, not the request's flag: a stream request may be answered with JSON
      // (a proxy, a cached reply, an error as 200) and is traced as what it is. Without one, the request decides.
      mode = code >= 400 ? "error" : contentType === undefined ? (request.stream ? "sse" : "json") : isEventStream(contentType) ? "sse" : "json"
      if (mode !== "sse") body = boundedBytes(mode === "error" ? 64 * 1024 : capture.maxResponseBytes)
    },
    feed: (bytes) => {
      if (ended || failure !== undefined) return
      if (mode === "sse") {
        const batch = parser.feed(bytes)
        stepEvents(batch)
        const overflow = parser.overflow()
        if (overflow !== undefined) {
          failure = new Sse.SseError({
            reason: overflow.kind === "line" ? "LineTooLong" : "EventTooLarge",
            size: overflow.size,
            limit: overflow.limit
          })
        }
      } else {
        body?.push(bytes)
      }
    },
    end: () => {
      if (ended || failure !== undefined) return
      if (mode === "sse") {
        stepEvents(parser.end())
      } else if (mode === "json") {
        decodeJson(body?.text())
      } else {
        const text = body?.text()
        failure = new UpstreamStatus(status, text === undefined ? "(body over the tracing bound)" : mask(text, request.secrets).slice(0, 2000))
        return
      }
      ended = true
    },
    fail: (error) => {
      if (!ended && failure === undefined) failure = error
    },
    setResponse: (value) => {
      mode = "json"
      parsed = Option.map(api.decodeResponse(value), (response) => ({ response, complete: true, skipped: 0, error: Option.none() }))
      ended = true
    },
    response: () => Option.map(aggregate(), (a) => a.response),
    complete: () => Option.exists(aggregate(), (a) => a.complete),
    finish: (exit) => {
      if (finished !== undefined) return finished
      // A body cut short still gives what it held: the pending event too, as the fold over those bytes would.
      if (!ended && mode === "sse") stepEvents(parser.end())
      const outcome = outcomeOf(exit)
      const result = aggregate()
      const recorded = Option.isSome(result) ? recordResponse(result.value) : undefined
      if (recorded === undefined && outcome._tag !== "Ok") Attribute.set(span, Attributes.GenAiResponseFinishReasons, ["error"])
      const ttft = firstEventAt === undefined ? undefined : Number(firstEventAt - startTime) / 1e9
      if (ttft !== undefined) span.attribute(Attributes.GenAiResponseTimeToFirstChunk, ttft)
      if (foldError !== undefined) {
        span.attribute(Attributes.TracingError, `fold failed: ${foldError instanceof Error ? foldError.message : String(foldError)}`)
      }
      const endTime = Outcome.endSync(span, outcome, clock)
      if (metrics.enabled) {
        metrics.recordCall({
          operation: api.operation,
          provider: api.provider,
          requestModel: request.model,
          responseModel: recorded?.model,
          serverAddress: request.server?.address,
          serverPort: request.server?.port,
          errorType: outcome._tag === "Ok" ? undefined : outcome._tag === "Cancelled" ? Attributes.ErrorTypeCancelled : outcome.errorType,
          duration: Number(endTime - startTime) / 1e9,
          chunks: mode === "sse" ? chunks : undefined,
          usage: recorded?.usage
        })
      }
      finished = {
        outcome,
        outputJson: recorded?.outputJson,
        usage: recorded?.usage ?? TokenUsage.empty,
        responseModel: recorded?.model,
        endTime,
        timeToFirstChunk: ttft
      }
      return finished
    }
  }
}

const setUsage = (span: Tracer.Span, usage: TokenUsage.TokenUsage): void => {
  if (TokenUsage.isEmpty(usage)) return
  span.attribute(Attributes.ChatTokenUsage, JSON.stringify(TokenUsage.toMlflow(usage)))
  if (usage.inputTokens !== undefined) span.attribute(Attributes.GenAiUsageInputTokens, usage.inputTokens)
  if (usage.outputTokens !== undefined) span.attribute(Attributes.GenAiUsageOutputTokens, usage.outputTokens)
  if (usage.cacheReadInputTokens !== undefined) span.attribute(Attributes.GenAiUsageCacheReadInputTokens, usage.cacheReadInputTokens)
  if (usage.cacheWriteInputTokens !== undefined) span.attribute(Attributes.GenAiUsageCacheCreationInputTokens, usage.cacheWriteInputTokens)
  if (usage.reasoningTokens !== undefined) span.attribute(Attributes.GenAiUsageReasoningOutputTokens, usage.reasoningTokens)
}

/**
 * The request's parameters (`Api.requestAttributes` of its body) and the conversation id, set on the span with
 * their OpenTelemetry types (stop sequences as a string array). A reader that throws costs the attributes, never
 * the call.
 */
const setRequestAttributes = <R, S>(span: Tracer.Span, request: Request<R, S>): void => {
  try {
    if (request.body !== undefined) Attribute.setAll(span, Object.entries(request.api.requestAttributes(request.body)))
  } catch (cause) {
    span.attribute(Attributes.TracingError, `request attributes: ${cause instanceof Error ? cause.message : String(cause)}`)
  }
  const conversation = conversationId(span)
  if (conversation !== undefined) span.attribute(Attributes.GenAiConversationId, conversation)
}

/**
 * The trace's session (`mlflow.trace.session`) as the conversation id: the nearest ancestor span that carries it
 * (the gateway span's metadata, or a span of the user's). Spans from outside the process have no attributes.
 *
 * @internal
 */
export const conversationId = (span: Tracer.Span): string | undefined => {
  let current: Tracer.AnySpan | undefined = span
  // Bounded: a parent chain is short, and a cycle (never made by Effect) must not hang a call.
  for (let depth = 0; depth < 256 && current !== undefined && current._tag === "Span"; depth++) {
    const value = current.attributes.get(Attributes.TraceSession)
    if (typeof value === "string" && value !== "") return value
    current = Option.getOrUndefined(current.parent)
  }
  return undefined
}

/**
 * The attributes a provider span starts with: operation, provider, model, stream flag, server and the inputs.
 *
 * @internal
 */
export const startAttributes = <R, S>(request: Request<R, S>): Record<string, unknown> => {
  const attributes: Record<string, unknown> = {
    [Attributes.SpanType]: Attributes.SpanTypes.Llm,
    [Attributes.LlmProvider]: request.provider,
    [Attributes.GenAiOperationName]: request.api.operation,
    [Attributes.GenAiProviderName]: request.api.provider,
    [Attributes.GenAiRequestStream]: request.stream,
    [Attributes.MessageFormat]: request.api.messageFormat
  }
  if (request.model !== undefined) {
    attributes[Attributes.LlmModel] = request.model
    attributes[Attributes.GenAiRequestModel] = request.model
  }
  if (request.server !== undefined) {
    attributes[Attributes.ServerAddress] = request.server.address
    if (request.server.port !== undefined) attributes[Attributes.ServerPort] = request.server.port
  }
  if (request.inputsJson !== undefined) attributes[Attributes.SpanInputs] = request.inputsJson
  return attributes
}

/** The span name: `provider/<provider>/<model>`. @internal */
export const spanName = (provider: string, model: string | undefined): string =>
  model === undefined ? `provider/${provider}` : `provider/${provider}/${model}`
