/**
 * What the library knows about one provider API: how to fold its stream into its final response, and how to read
 * that response (usage, finish reasons, id, model) for tracing. One value per API: `OpenAiChat.api`, …
 *
 * A provider module describes its API once ({@link Definition}: its fold state, payload handler and accessors)
 * and {@link make} builds from it everything the module exports: the `fold`, `aggregate(chunks)` and the `api`.
 *
 * @since 0.1.0
 */
import * as Option from "effect/Option"
import * as Fold from "../Fold.js"
import { stepJson } from "../internal/json.js"
import * as Sse from "../Sse.js"
import type { TokenUsage } from "../TokenUsage.js"

/**
 * An error the provider reported inside a 200 stream (Anthropic `event: error`, an OpenAI `error` payload,
 * a Responses `error` event). Recorded on the aggregate, never thrown.
 *
 * @since 0.1.0
 * @category models
 */
export interface StreamError {
  /** The provider's error type, e.g. `overloaded_error`, `insufficient_quota`. */
  readonly type: string
  readonly message: string
}

/**
 * The result of folding one provider stream.
 *
 * @since 0.1.0
 * @category models
 */
export interface Aggregate<R> {
  /** The provider's own non-streaming response shape; partial when `complete` is false. */
  readonly response: R
  /** The provider's terminal marker arrived (finish reason, `message_stop`, `response.completed`, …). */
  readonly complete: boolean
  /** Events whose data was not JSON, or JSON of the wrong shape: skipped, never thrown. */
  readonly skipped: number
  readonly error: Option.Option<StreamError>
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Api<R, S> {
  /** `gen_ai.provider.name`: `openai`, `anthropic`, `gcp.gemini`. */
  readonly provider: string
  /** `gen_ai.operation.name`: `chat`, `generate_content`, `text_completion`, `embeddings` (`Attributes.GenAiOperations`). */
  readonly operation: string
  /** `mlflow.message.format` of requests and responses. */
  readonly messageFormat: string
  readonly fold: Fold.Fold<Sse.Event, S, Aggregate<R>>
  /** Reads a non-streaming response body (already JSON-parsed); None when it is not this API's shape. */
  readonly decodeResponse: (body: unknown) => Option.Option<R>
  readonly usage: (response: R) => TokenUsage
  readonly finishReasons: (response: R) => ReadonlyArray<string>
  readonly responseId: (response: R) => Option.Option<string>
  readonly responseModel: (response: R) => Option.Option<string>
  /**
   * The request's parameters as GenAI span attributes (`gen_ai.request.max_tokens`, `temperature`, `top_p`,
   * `top_k`, `seed`, `stop_sequences`, penalties, `choice.count`, `gen_ai.output.type`, …), read from the request
   * body. Pure; a body of another shape gives fewer attributes, never an error.
   *
   * @since 0.2.0
   */
  readonly requestAttributes: (body: unknown) => SpanAttributes
  /**
   * Attributes of a response beyond usage, id, model and finish reasons (OpenAI `openai.response.service_tier`,
   * `openai.response.system_fingerprint`). Pure.
   *
   * @since 0.2.0
   */
  readonly responseAttributes: (response: R) => SpanAttributes
}

/**
 * Span attribute values as OpenTelemetry types them: primitives and arrays of one primitive type.
 *
 * @since 0.2.0
 * @category models
 */
export type SpanAttributes = Readonly<Record<string, string | number | boolean | ReadonlyArray<string> | ReadonlyArray<number>>>

/**
 * The part of a fold's state every provider shares. States are plain data (no functions): a state can be cloned,
 * compared or inspected, and how a payload is applied comes from the API's {@link Definition}, not from the state.
 *
 * @since 0.1.0
 * @category models
 */
export interface JsonEventState {
  /** Events whose data was not JSON (or, as `accept` decides, not the provider's shape). */
  skipped: number
  /** `[DONE]` arrived: later events are ignored (as the official SDKs do). */
  ended: boolean
  /** The provider's error event or payload, when one arrived. */
  error: StreamError | undefined
}

/**
 * Applies one JSON payload (the data of one SSE event, parsed) to the state; counts into `skipped` what is not
 * the API's shape.
 *
 * @since 0.2.0
 * @category models
 */
export type Accept<S> = (state: S, payload: unknown) => void

/**
 * One provider API, described once: the names tracing reports, the fold (a fresh plain-data state, the payload
 * handler, how to read the response out of the state) and the response accessors.
 *
 * @since 0.2.0
 * @category models
 */
export interface Definition<R, S extends JsonEventState>
  extends Omit<Api<R, S>, "fold" | "requestAttributes" | "responseAttributes">
{
  /** Default: none. */
  readonly requestAttributes?: ((body: unknown) => SpanAttributes) | undefined
  /** Default: none. */
  readonly responseAttributes?: ((response: R) => SpanAttributes) | undefined
  readonly initial: () => S
  readonly accept: Accept<S>
  /**
   * Replaces the default step, which parses each event's data as JSON and hands every payload to `accept`
   * (`[DONE]` ends the stream): for APIs that read some events otherwise (by SSE event name, or without
   * `JSON.parse` on the hot path). It receives `accept` for the events it leaves to JSON.
   */
  readonly step?: (state: S, event: Sse.Event, accept: Accept<S>) => S
  /** A response arrived (else the fold gives None, unless an error did). */
  readonly hasResponse: (state: S) => boolean
  /** The response so far: partial until `complete`. */
  readonly response: (state: S) => R
  /** The API's terminal marker arrived. */
  readonly complete: (state: S) => boolean
  /** When `aggregate(chunks)` gives the response; `hasResponse` unless the API needs more (a terminal event). */
  readonly aggregateWhen?: (state: S) => boolean
}

/**
 * What {@link make} builds from a {@link Definition}: what a provider module exports.
 *
 * @since 0.2.0
 * @category models
 */
export interface Exports<R, S> {
  /**
   * The fold over SSE events: None when neither a response nor an error arrived, else the {@link Aggregate}
   * (the response, partial when the stream stopped early).
   */
  readonly fold: Fold.Fold<Sse.Event, S, Aggregate<R>>
  /** Folds raw body chunks (SSE bytes, any split) into the bare response, synchronously. */
  readonly aggregate: (chunks: Iterable<Uint8Array>) => Option.Option<R>
  /** Folds already-parsed event payloads (e.g. an SDK's stream objects) into the bare response; they are not mutated. */
  readonly aggregatePayloads: (payloads: Iterable<unknown>) => Option.Option<R>
  readonly api: Api<R, S>
}

/**
 * Builds a provider API's fold, `aggregate` and `api` from its definition: the one place where a state becomes an
 * {@link Aggregate} and where raw bytes become events.
 *
 * @since 0.2.0
 * @category constructors
 */
export const make = <R, S extends JsonEventState>(definition: Definition<R, S>): Exports<R, S> => {
  const { accept, complete, hasResponse, initial, response } = definition
  const custom = definition.step
  const step = custom === undefined
    ? (state: S, event: Sse.Event): S => stepJson(state, event.data, accept)
    : (state: S, event: Sse.Event): S => custom(state, event, accept)
  const fold: Fold.Fold<Sse.Event, S, Aggregate<R>> = Fold.make({
    initial,
    step,
    done: (state) =>
      !hasResponse(state) && state.error === undefined ? Option.none() : Option.some({
        response: response(state),
        complete: complete(state),
        skipped: state.skipped,
        error: Option.fromNullable(state.error)
      })
  })
  const when = definition.aggregateWhen ?? hasResponse
  const bare: Fold.Fold<Sse.Event, S, R> = {
    initial,
    step,
    done: (state) => when(state) ? Option.some(response(state)) : Option.none()
  }
  return {
    fold,
    aggregate: (chunks) => foldBody(bare, chunks),
    aggregatePayloads: (payloads) => {
      const state = initial()
      for (const payload of payloads) accept(state, payload)
      return when(state) ? Option.some(response(state)) : Option.none()
    },
    api: {
      provider: definition.provider,
      operation: definition.operation,
      messageFormat: definition.messageFormat,
      fold,
      decodeResponse: definition.decodeResponse,
      usage: definition.usage,
      finishReasons: definition.finishReasons,
      responseId: definition.responseId,
      responseModel: definition.responseModel,
      requestAttributes: definition.requestAttributes ?? none,
      responseAttributes: definition.responseAttributes ?? none
    }
  }
}

const none = (): SpanAttributes => ({})

/**
 * A JSON-only API (no streaming variant: embeddings): its definition without a fold of its own. The fold
 * {@link make} builds from it takes the first event whose data is the response's shape as the response — what
 * a server that streamed it anyway would send — and a truthy `error` payload as the error.
 *
 * @since 0.2.0
 * @category models
 */
export interface JsonDefinition<R>
  extends Omit<Definition<R, JsonOnlyState<R>>, "initial" | "accept" | "step" | "hasResponse" | "response" | "complete" | "aggregateWhen">
{
  /** The response to give when only an error arrived (never read otherwise). */
  readonly empty: () => R
  /** Reads an error payload into a {@link StreamError}. */
  readonly streamError: (error: unknown) => StreamError
}

/**
 * The fold state of a JSON-only API.
 *
 * @since 0.2.0
 * @category models
 */
export interface JsonOnlyState<R> extends JsonEventState {
  response: R | undefined
}

/**
 * Builds a JSON-only API (see {@link JsonDefinition}) with {@link make}.
 *
 * @since 0.2.0
 * @category constructors
 */
export const makeJsonOnly = <R>(definition: JsonDefinition<R>): Exports<R, JsonOnlyState<R>> => {
  const { decodeResponse, empty, streamError } = definition
  return make<R, JsonOnlyState<R>>({
    ...definition,
    initial: () => ({ response: undefined, skipped: 0, ended: false, error: undefined }),
    accept: (state, payload) => {
      const error = typeof payload === "object" && payload !== null ? (payload as Record<string, unknown>)["error"] : undefined
      if (error) {
        state.error ??= streamError(error)
        return
      }
      const decoded = state.response === undefined ? decodeResponse(payload) : Option.none()
      if (Option.isSome(decoded)) state.response = decoded.value
      else state.skipped++
    },
    hasResponse: (state) => state.response !== undefined,
    response: (state) => state.response ?? empty(),
    complete: (state) => state.response !== undefined
  })
}

/** Raw body chunks through SSE (`dispatchIncompleteAtEnd`: proxies drop the final blank line) into a fold. */
const foldBody = <S, Out>(fold: Fold.Fold<Sse.Event, S, Out>, chunks: Iterable<Uint8Array>): Option.Option<Out> =>
  Fold.runIterable(Sse.foldBytes(fold, { dispatchIncompleteAtEnd: true }), chunks)

/**
 * Folds raw body chunks into the API's {@link Aggregate} (with `complete`, `skipped` and `error`), synchronously;
 * each module's `aggregate(chunks)` gives the bare response the same way.
 *
 * @since 0.1.0
 * @category folding
 */
export const aggregateBytes = <R, S>(api: Api<R, S>, chunks: Iterable<Uint8Array>): Option.Option<Aggregate<R>> =>
  foldBody(api.fold, chunks)
