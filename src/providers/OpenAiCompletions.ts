/**
 * OpenAI legacy Completions (`/v1/completions`, streamed or not): the fold from chunks to the `text_completion`
 * the same request would have returned without streaming. The wire Schemas are in `OpenAiCompletionsSchema`.
 *
 * Choices are kept by `index` (`n` > 1 and `best_of` interleave them), each choice's `text` joined, its
 * `logprobs` lists concatenated; top-level fields come from the first chunk; `usage` from whichever chunk carries
 * one (the `choices: []` chunk of `stream_options.include_usage`), never erased by a later `usage: null`.
 *
 * @since 0.2.0
 */
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import type * as Fold from "../Fold.js"
import { isIndex, isRecord, type Json, nonEmpty, someNonEmpty } from "../internal/json.js"
import type * as Sse from "../Sse.js"
import * as TokenUsage from "../TokenUsage.js"
import { GenAiOperations } from "../tracing/Attributes.js"
import * as Api from "./Api.js"
import * as Parameters from "./internal/requestParameters.js"
import * as streamError from "./internal/streamError.js"
import { Completion, type CompletionChunk } from "./OpenAiCompletionsSchema.js"

/**
 * The completion the fold gives and the chunk it reads (the other wire Schemas are in `OpenAiCompletionsSchema`).
 *
 * @since 0.2.0
 * @category schemas
 */
export { Completion, CompletionChunk, type Response } from "./OpenAiCompletionsSchema.js"

// ---------------------------------------------------------------------------------------------------------------
// Fold state
// ---------------------------------------------------------------------------------------------------------------

interface ChoiceState {
  readonly index: number
  /** Unknown choice fields, last value wins. */
  readonly extra: Json
  text: string
  finishReason: string | undefined
  /** Lists concatenated, other fields last value wins; null until a chunk carries logprobs. */
  logprobs: Json | null
}

/**
 * The fold's state: mutable, private to one run, plain data. O(output): one entry per choice, never the chunks.
 *
 * @since 0.2.0
 * @category models
 */
export interface State extends Api.JsonEventState {
  /** Top-level fields of the first chunk (id, model, created, …), usage from any chunk; undefined until one. */
  top: Json | undefined
  readonly choices: Map<number, ChoiceState>
}

const makeState = (): State => ({ top: undefined, choices: new Map(), skipped: 0, ended: false, error: undefined })

const acceptPayload = (state: State, payload: unknown): void => {
  if (!isRecord(payload)) {
    state.skipped++
  } else if (payload["error"]) {
    state.error ??= streamError.fromOpenAi(payload["error"])
  } else if (!stepChunk(state, payload)) {
    state.skipped++
  }
}

/** Applies one chunk; false when it is not a chunk's shape (a `choices` list, or a usage-only chunk). */
const stepChunk = (state: State, chunk: Json): boolean => {
  const choices = chunk["choices"]
  if (Array.isArray(choices)) {
    if (!choices.every(isRecord)) return false
  } else if (choices != null || !isRecord(chunk["usage"])) {
    return false
  }
  mergeTop(state, chunk)
  if (Array.isArray(choices)) for (let i = 0; i < choices.length; i++) stepChoice(state, choices[i] as Json, i)
  return true
}

const mergeTop = (state: State, chunk: Json): void => {
  const first = state.top === undefined
  const top = state.top ??= {}
  for (const key in chunk) {
    if (key === "choices" || key === "__proto__") continue
    const value = chunk[key]
    if (key === "usage") {
      if (value != null) top[key] = value
      else if (!(key in top)) top[key] = null
    } else if (first || !(key in top) || (nonEmpty(value) && !nonEmpty(top[key]))) {
      top[key] = value
    }
  }
}

const stepChoice = (state: State, raw: Json, position: number): void => {
  const index = isIndex(raw["index"]) ? raw["index"] : position
  let choice = state.choices.get(index)
  if (choice === undefined) {
    state.choices.set(index, choice = { index, extra: {}, text: "", finishReason: undefined, logprobs: null })
  }
  for (const key in raw) {
    if (key !== "index" && key !== "text" && key !== "finish_reason" && key !== "logprobs" && key !== "__proto__") {
      choice.extra[key] = raw[key]
    }
  }
  if (typeof raw["text"] === "string") choice.text += raw["text"]
  if (nonEmpty(raw["finish_reason"])) choice.finishReason = raw["finish_reason"]
  const logprobs = raw["logprobs"]
  if (isRecord(logprobs)) mergeLogprobs(choice, logprobs)
}

/** Every list field is concatenated (copied on first sight: the input is never mutated); others, last wins. */
const mergeLogprobs = (choice: ChoiceState, logprobs: Json): void => {
  const target = choice.logprobs ??= {}
  for (const key in logprobs) {
    if (key === "__proto__") continue
    const value = logprobs[key]
    const existing = target[key]
    if (Array.isArray(value) && Array.isArray(existing)) for (const item of value) existing.push(item)
    else target[key] = Array.isArray(value) ? value.slice() : value
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Result
// ---------------------------------------------------------------------------------------------------------------

const copyLogprobs = (logprobs: Json | null): Json | null => {
  if (logprobs === null) return null
  const out: Json = {}
  for (const key in logprobs) {
    const value = logprobs[key]
    out[key] = Array.isArray(value) ? value.slice() : value
  }
  return out
}

const toCompletion = (state: State): Completion => {
  const top = state.top ?? {}
  const choices = Array.from(state.choices.values()).sort((a, b) => a.index - b.index).map((choice) => ({
    ...choice.extra,
    index: choice.index,
    text: choice.text,
    logprobs: copyLogprobs(choice.logprobs),
    finish_reason: choice.finishReason ?? "stop"
  }))
  return {
    ...top,
    id: typeof top["id"] === "string" ? top["id"] : "",
    object: "text_completion",
    created: typeof top["created"] === "number" ? top["created"] : 0,
    model: typeof top["model"] === "string" ? top["model"] : "",
    choices
  } as Completion
}

const isComplete = (state: State): boolean => {
  if (state.choices.size === 0) return false
  for (const choice of state.choices.values()) if (choice.finishReason === undefined) return false
  return true
}

const hasCompletion = (state: State): boolean => state.top !== undefined

// ---------------------------------------------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------------------------------------------

/**
 * Normalised usage (`prompt_tokens`, `completion_tokens`, `total_tokens`).
 *
 * @since 0.2.0
 * @category accessors
 */
export const usage = (response: Completion): TokenUsage.TokenUsage => TokenUsage.fromOpenAiChat(response.usage)

/**
 * The request's parameters as GenAI attributes (`max_tokens`, `temperature`, `top_p`, `seed`, `stop`,
 * penalties, `n` as the choice count).
 *
 * @since 0.2.0
 * @category accessors
 */
export const requestAttributes = (body: unknown): Api.SpanAttributes => {
  const b = Parameters.fields(body)
  return Parameters.toAttributes({ ...Parameters.openAiSampling(b), maxTokens: b["max_tokens"] })
}

const completions = Api.make<Completion, State>({
  provider: "openai",
  operation: GenAiOperations.TextCompletion,
  messageFormat: "openai",
  initial: makeState,
  accept: acceptPayload,
  hasResponse: hasCompletion,
  response: toCompletion,
  complete: isComplete,
  decodeResponse: Schema.decodeUnknownOption(Completion),
  usage,
  finishReasons: (response) => response.choices.flatMap((c) => nonEmpty(c.finish_reason) ? [c.finish_reason] : []),
  responseId: (response) => someNonEmpty(response.id),
  responseModel: (response) => someNonEmpty(response.model),
  requestAttributes,
  responseAttributes: Parameters.openAiResponseAttributes
})

/**
 * The fold over SSE events: `[DONE]` ends the stream; data that is not JSON, or not a chunk, is skipped and
 * counted; an `{"error": …}` payload is recorded. `complete` when every choice got a finish reason.
 *
 * @since 0.2.0
 * @category folding
 */
export const fold: Fold.Fold<Sse.Event, State, Api.Aggregate<Completion>> = completions.fold

/**
 * Folds raw body chunks (SSE bytes, any split) into a `text_completion`; None when no chunk arrived.
 *
 * @since 0.2.0
 * @category folding
 */
export const aggregate: (chunks: Iterable<Uint8Array>) => Option.Option<Completion> = completions.aggregate

/**
 * Folds already-parsed chunks (e.g. from the SDK's stream) into a `text_completion`; None when there were none.
 * The chunks are not mutated.
 *
 * @since 0.2.0
 * @category folding
 */
export const aggregateChunks: (chunks: Iterable<CompletionChunk>) => Option.Option<Completion> = completions.aggregatePayloads

/**
 * Everything tracing needs to know about legacy Completions.
 *
 * @since 0.2.0
 * @category api
 */
export const api: Api.Api<Completion, State> = completions.api
