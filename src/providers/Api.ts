/**
 * What the library knows about one provider API: how to fold its stream into its final response, and how to read
 * that response (usage, finish reasons, id, model) for tracing. One value per API: `OpenAiChat.api`, …
 *
 * @since 0.1.0
 */
import * as Option from "effect/Option"
import * as Fold from "../Fold.js"
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
  /** `gen_ai.operation.name`: `chat`, `generate_content`. */
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
}

/**
 * Calls `onValue` for each JSON payload of an event's data and returns how many parts were not JSON.
 *
 * One payload normally. `[DONE]` is the OpenAI end marker: no payload, not an error. When a producer packed
 * several JSON documents into one event (one per `data:` line, with no blank line between — the SSE rules join
 * them with LF), each line is parsed on its own.
 *
 * @since 0.1.0
 * @category parsing
 */
export const forEachJson = (data: string, onValue: (value: unknown) => void): number => {
  if (data === "[DONE]") return 0
  try {
    onValue(JSON.parse(data))
    return 0
  } catch {
    if (!data.includes("\n")) return 1
  }
  let bad = 0
  for (const line of data.split("\n")) {
    if (line === "" || line === "[DONE]") continue
    try {
      onValue(JSON.parse(line))
    } catch {
      bad++
    }
  }
  return bad
}

/**
 * The state every provider fold shares: payloads go to `accept`; skipped events and the end marker are counted here.
 *
 * @since 0.1.0
 * @category folding
 */
export interface JsonEventState {
  /** Events whose data was not JSON (or, as `accept` decides, not the provider's shape). */
  skipped: number
  /** `[DONE]` arrived: later events are ignored (as the official SDKs do). */
  ended: boolean
  readonly accept: (payload: unknown) => void
  /** The provider's error event or payload, when one arrived. */
  error: StreamError | undefined
}

/**
 * How a provider reads its fold state: whether a response arrived, the response (partial until `complete`).
 *
 * @since 0.1.0
 * @category folding
 */
export interface StateReader<S, R> {
  readonly hasResponse: (state: S) => boolean
  readonly response: (state: S) => R
  readonly complete: (state: S) => boolean
}

/**
 * A provider fold over SSE events: every event's data goes through {@link stepJson} (unless `step` handles it
 * first); the result is None when neither a response nor an error arrived, else the {@link Aggregate}.
 *
 * @since 0.1.0
 * @category folding
 */
export const jsonEventFold = <S extends JsonEventState, R>(
  initial: () => S,
  reader: StateReader<S, R>,
  step: (state: S, event: Sse.Event) => S = (state, event) => stepJson(state, event.data)
): Fold.Fold<Sse.Event, S, Aggregate<R>> =>
  Fold.make({
    initial,
    step,
    done: (state) =>
      !reader.hasResponse(state) && state.error === undefined ? Option.none() : Option.some({
        response: reader.response(state),
        complete: reader.complete(state),
        skipped: state.skipped,
        error: Option.fromNullable(state.error)
      })
  })

/**
 * The same fold giving the bare response, None unless `hasResponse` holds: what `aggregate(chunks)` returns.
 *
 * @since 0.1.0
 * @category folding
 */
export const responseOnly = <S, R>(
  fold: Fold.Fold<Sse.Event, S, unknown>,
  hasResponse: (state: S) => boolean,
  response: (state: S) => R
): Fold.Fold<Sse.Event, S, R> => ({
  initial: fold.initial,
  step: fold.step,
  done: (state) => hasResponse(state) ? Option.some(response(state)) : Option.none()
})

/**
 * The common part of a provider fold's step: `[DONE]` ends the stream, each JSON payload of the event goes to
 * `state.accept`, and data that is not JSON is counted as skipped.
 *
 * @since 0.1.0
 * @category folding
 */
export const stepJson = <S extends JsonEventState>(state: S, data: string): S => {
  if (state.ended) return state
  if (data.startsWith("[DONE]")) {
    state.ended = true
    return state
  }
  // Not `skipped += forEachJson(…)`: `accept` may count into `skipped` too, and `+=` would read it before.
  const notJson = forEachJson(data, state.accept)
  state.skipped += notJson
  return state
}

/**
 * Folds raw body chunks into the API's aggregate (SSE decoded with `dispatchIncompleteAtEnd`, as proxies drop the
 * final blank line), synchronously.
 *
 * @since 0.1.0
 * @category folding
 */
export const aggregateBytes = <R, S>(api: Api<R, S>, chunks: Iterable<Uint8Array>): Option.Option<Aggregate<R>> =>
  Fold.runIterable(Sse.foldBytes(api.fold, { dispatchIncompleteAtEnd: true }), chunks)
