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
import * as SseParser from "../../internal/sseParser.js"
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

/** One call's steps: methods of one object (`start` makes a class), so call them on it, never detached. @internal */
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
class BoundedBytes {
  private readonly parts: Array<Uint8Array> = []
  private size = 0
  private over = false
  constructor(private readonly max: number) {}
  push(bytes: Uint8Array): void {
    if (this.over) return
    if (this.size + bytes.length > this.max) {
      this.over = true
      this.parts.length = 0
      return
    }
    this.parts.push(bytes.slice())
    this.size += bytes.length
  }
  text(): string | undefined {
    return this.over ? undefined : Buffer.concat(this.parts, this.size).toString("utf8")
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
): ProviderCall<R> => new Call(span, clock, request, capture, metrics)

/**
 * One call's state and its steps. A class, not closures: a gateway holds one per open stream, and a dozen
 * closures with their contexts cost more than one object with shared prototype methods. Its methods are called
 * on it (never detached).
 */
class Call<R, S> implements ProviderCall<R> {
  readonly traceparent: string
  private readonly startTime: bigint
  /** Arrival times for `time_per_output_chunk`: kept only when metrics record them. */
  private readonly chunks: Metrics.ChunkTimes | undefined
  private mode: "sse" | "json" | "error"
  private status = 200
  // SSE fold state.
  private readonly parser: SseParser.SseParser
  private state: S | undefined = undefined
  private foldError: unknown = undefined
  private events = 0
  private firstEventAt: bigint | undefined = undefined
  // JSON / error body.
  private body: BoundedBytes | undefined = undefined
  private parsed: Option.Option<Api.Aggregate<R>> = Option.none()
  private ended = false
  private failure: unknown = undefined
  private finished: Finished | undefined = undefined

  constructor(
    readonly span: Tracer.Span,
    private readonly clock: Clock.Clock,
    private readonly request: Request<R, S>,
    private readonly capture: Capture,
    private readonly metrics: Metrics.Metrics["Type"]
  ) {
    this.startTime = span.status.startTime
    this.chunks = metrics.enabled ? Metrics.makeChunkTimes() : undefined
    this.mode = request.stream ? "sse" : "json"
    this.parser = new SseParser.SseParser({ maxBufferSize: SseParser.defaultMaxBufferSize, dispatchIncompleteAtEnd: true })
    setRequestAttributes(span, request)
    this.traceparent = TraceContext.formatTraceParent({ traceId: span.traceId, parentId: span.spanId, flags: span.sampled ? 1 : 0 })
  }

  private stepEvents(batch: ReadonlyArray<Sse.Event>): void {
    if (batch.length === 0 || this.foldError !== undefined) return
    const now = this.clock.unsafeCurrentTimeNanos()
    if (this.firstEventAt === undefined) this.firstEventAt = now
    const { capture, chunks, request: { api } } = this
    const since = chunks === undefined ? 0 : Number(now - this.startTime) / 1e9
    try {
      let state = this.state === undefined ? api.fold.initial() : this.state
      for (const event of batch) {
        if (capture.content === "full" && this.events < capture.maxChunkEvents) {
          this.span.event(Attributes.chunkEventName(this.events), now, {
            [Attributes.ChunkValue]: Payload.fit(event.data, capture.maxPayloadBytes)
          })
        }
        this.events++
        chunks?.mark(since)
        state = api.fold.step(state, event)
        this.state = state
      }
    } catch (cause) {
      this.foldError = cause
    }
  }

  private aggregate(): Option.Option<Api.Aggregate<R>> {
    if (this.mode !== "sse") return this.parsed
    if (this.state === undefined || this.foldError !== undefined) return Option.none()
    try {
      return this.request.api.fold.done(this.state)
    } catch (cause) {
      this.foldError = cause
      return Option.none()
    }
  }

  private decodeJson(text: string | undefined): void {
    if (text === undefined) return
    try {
      this.parsed = Option.map(this.request.api.decodeResponse(JSON.parse(text)), whole)
    } catch {
      // Not JSON: nothing to record as the response.
    }
  }

  private outcomeOf(exit: Exit.Exit<unknown, unknown>): Outcome.Outcome {
    const failure = this.failure
    if (failure !== undefined) {
      const errorType = failure instanceof Sse.SseError ? sseErrorType(failure) : Outcome.errorTypeOf(failure)
      return Outcome.failed(errorType, Cause.fail(failure))
    }
    // Neither end nor failure seen: the call failed elsewhere (its exit says how) or was stopped early.
    if (!this.ended) return Exit.isFailure(exit) ? Outcome.fromExit(exit) : Outcome.cancelled
    const result = this.aggregate()
    if (Option.isNone(result)) {
      return this.mode === "sse" ? reported(IncompleteStream, "the stream ended without any event") : Outcome.ok
    }
    const { complete, error } = result.value
    if (Option.isSome(error)) return reported(error.value.type, error.value.message)
    if (!complete) return reported(IncompleteStream, "the stream ended without its final event")
    return Outcome.ok
  }

  private recordResponse(result: Api.Aggregate<R>): Recorded {
    const { span, request: { api } } = this
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
    if (this.capture.content === "full") {
      outputJson = Payload.encode(response, this.capture.maxPayloadBytes)
      if (outputJson !== undefined) span.attribute(Attributes.SpanOutputs, outputJson)
      else span.attribute(Attributes.TracingError, "outputs are not JSON-serialisable")
    }
    return { usage, model, outputJson }
  }

  respond(code: number, contentType: string | undefined): void {
    this.status = code
    // The answer's content type decides, not the request's flag: a stream request may be answered with JSON
    // (a proxy, a cached reply, an error as 200) and is traced as what it is. Without one, the request decides.
    const mode = code >= 400
      ? "error"
      : contentType === undefined
      ? (this.request.stream ? "sse" : "json")
      : isEventStream(contentType)
      ? "sse"
      : "json"
    this.mode = mode
    if (mode !== "sse") this.body = new BoundedBytes(mode === "error" ? 64 * 1024 : this.capture.maxResponseBytes)
  }

  feed(bytes: Uint8Array): void {
    if (this.ended || this.failure !== undefined) return
    if (this.mode !== "sse") return this.body?.push(bytes)
    this.stepEvents(this.parser.feed(bytes))
    const overflow = this.parser.overflow()
    if (overflow !== undefined) {
      this.failure = new Sse.SseError({
        reason: overflow.kind === "line" ? "LineTooLong" : "EventTooLarge",
        size: overflow.size,
        limit: overflow.limit
      })
    }
  }

  end(): void {
    if (this.ended || this.failure !== undefined) return
    if (this.mode === "sse") {
      this.stepEvents(this.parser.end())
    } else if (this.mode === "json") {
      this.decodeJson(this.body?.text())
    } else {
      const text = this.body?.text()
      const shown = text === undefined ? "(body over the tracing bound)" : mask(text, this.request.secrets).slice(0, 2000)
      this.failure = new UpstreamStatus(this.status, shown)
      return
    }
    this.ended = true
  }

  fail(error: unknown): void {
    if (!this.ended && this.failure === undefined) this.failure = error
  }

  setResponse(value: unknown): void {
    this.mode = "json"
    this.parsed = Option.map(this.request.api.decodeResponse(value), whole)
    this.ended = true
  }

  response(): Option.Option<R> {
    return Option.map(this.aggregate(), (a) => a.response)
  }

  complete(): boolean {
    return Option.exists(this.aggregate(), (a) => a.complete)
  }

  finish(exit: Exit.Exit<unknown, unknown>): Finished {
    if (this.finished !== undefined) return this.finished
    const { span, request, metrics } = this
    // A body cut short still gives what it held: the pending event too, as the fold over those bytes would.
    if (!this.ended && this.mode === "sse") this.stepEvents(this.parser.end())
    const outcome = this.outcomeOf(exit)
    const result = this.aggregate()
    const recorded = Option.isSome(result) ? this.recordResponse(result.value) : undefined
    if (recorded === undefined && outcome._tag !== "Ok") Attribute.set(span, Attributes.GenAiResponseFinishReasons, ["error"])
    const ttft = this.firstEventAt === undefined ? undefined : Number(this.firstEventAt - this.startTime) / 1e9
    if (ttft !== undefined) span.attribute(Attributes.GenAiResponseTimeToFirstChunk, ttft)
    if (this.foldError !== undefined) {
      const error = this.foldError
      span.attribute(Attributes.TracingError, `fold failed: ${error instanceof Error ? error.message : String(error)}`)
    }
    const endTime = Outcome.endSync(span, outcome, this.clock)
    if (metrics.enabled) {
      metrics.recordCall({
        operation: request.api.operation,
        provider: request.api.provider,
        requestModel: request.model,
        responseModel: recorded?.model,
        serverAddress: request.server?.address,
        serverPort: request.server?.port,
        errorType: outcome._tag === "Ok" ? undefined : outcome._tag === "Cancelled" ? Attributes.ErrorTypeCancelled : outcome.errorType,
        duration: Number(endTime - this.startTime) / 1e9,
        chunks: this.mode === "sse" ? this.chunks : undefined,
        usage: recorded?.usage
      })
    }
    this.finished = {
      outcome,
      outputJson: recorded?.outputJson,
      usage: recorded?.usage ?? TokenUsage.empty,
      responseModel: recorded?.model,
      endTime,
      timeToFirstChunk: ttft
    }
    return this.finished
  }
}

interface Recorded {
  readonly usage: TokenUsage.TokenUsage
  readonly model: string | undefined
  readonly outputJson: string | undefined
}

/** A whole (non-streamed) response as an aggregate. */
const whole = <R>(response: R): Api.Aggregate<R> => ({ response, complete: true, skipped: 0, error: Option.none() })

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
