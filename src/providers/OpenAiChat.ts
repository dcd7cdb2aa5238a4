/**
 * OpenAI Chat Completions (`/v1/chat/completions`, `stream: true`): the fold from `chat.completion.chunk` events
 * to the `chat.completion` the same request would have returned without streaming. The wire Schemas are in
 * `OpenAiChatSchema`.
 *
 * It keeps what the official SDK accumulator (`openai` `ChatCompletionStream`) keeps — choices by `index`, content,
 * `refusal`, parallel tool calls by `tool_calls[].index`, logprobs, audio, usage, `system_fingerprint`,
 * `service_tier` and every field it does not know — and differs only where the SDK loses data or throws: usage
 * survives a later `usage: null`, a missing `finish_reason` gives `"stop"` with `complete: false`, a missing role
 * gives `"assistant"`.
 *
 * @since 0.1.0
 */
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import type * as Fold from "../Fold.js"
import { isIndex, isRecord, type Json, nonEmpty, someNonEmpty } from "../internal/json.js"
import type * as Sse from "../Sse.js"
import * as TokenUsage from "../TokenUsage.js"
import { GenAiOperations, GenAiOutputTypes } from "../tracing/Attributes.js"
import * as Api from "./Api.js"
import * as Parameters from "./internal/requestParameters.js"
import * as streamError from "./internal/streamError.js"
import { ChatCompletion, type ChatCompletionChunk } from "./OpenAiChatSchema.js"

/**
 * The chunk the fold reads and the completion it gives (the Schemas and their types; the other wire Schemas are
 * in `OpenAiChatSchema`).
 *
 * @since 0.1.0
 * @category schemas
 */
export { ChatCompletion, ChatCompletionChunk, type Response } from "./OpenAiChatSchema.js"

// ---------------------------------------------------------------------------------------------------------------
// Fold state
// ---------------------------------------------------------------------------------------------------------------

interface ToolCallState {
  readonly index: number
  /** Unknown fields of the fragments, last value wins (the SDK's `Object.assign`). */
  readonly extra: Json
  id: string
  type: string
  name: string
  arguments: string
}

interface ChoiceState {
  readonly index: number
  /** Unknown choice fields (e.g. Azure `content_filter_results`), last value wins. */
  readonly extra: Json
  /** Unknown delta fields (e.g. `reasoning_content`), last value wins, as the SDK keeps them. */
  readonly messageExtra: Json
  role: string | undefined
  content: string
  refusal: string
  finishReason: string | undefined
  logprobs: Json | null
  toolCalls: Map<number, ToolCallState> | undefined
  functionCall: { name: string; arguments: string } | undefined
  audio: Json | undefined
  /** The last delta carried only `audio.expires_at`: how audio streams end without a finish reason. */
  audioDone: boolean
}

/**
 * The fold's state: mutable, private to one run. O(output): joined strings and one entry per choice and tool
 * call, never the chunks.
 *
 * @since 0.1.0
 * @category models
 */
export interface State extends Api.JsonEventState {
  /** Top-level chunk fields (id, model, usage, …); undefined until the first chunk. */
  top: Json | undefined
  readonly choices: Map<number, ChoiceState>
}

const makeState = (): State => ({ top: undefined, choices: new Map(), skipped: 0, ended: false, error: undefined })

const acceptPayload = (state: State, payload: unknown): void => {
  if (!isRecord(payload)) {
    state.skipped++
  } else if (payload["error"]) {
    // Truthy `error`, the SDK's own test for an error payload.
    state.error ??= streamError.fromOpenAi(payload["error"])
  } else if (!stepChunk(state, payload)) {
    state.skipped++
  }
}

/** Applies one chunk; false (nothing applied) when it is not a chunk's shape. */
const stepChunk = (state: State, chunk: Json): boolean => {
  const choices = chunk["choices"]
  if (Array.isArray(choices)) {
    if (!choices.every(isRecord)) return false
  } else if (choices != null || !isRecord(chunk["usage"])) {
    // Without `choices`, only a usage-only chunk (some compatible servers send one) is a chunk.
    return false
  }
  mergeTop(state, chunk)
  if (Array.isArray(choices)) for (let i = 0; i < choices.length; i++) stepChoice(state, choices[i] as Json, i)
  return true
}

/**
 * Top-level fields as the SDK merges them (the first chunk, then every chunk with a non-empty id), except `usage`:
 * taken from whichever chunk carries one, and never erased by a later `usage: null`.
 */
const mergeTop = (state: State, chunk: Json): void => {
  const adopt = state.top === undefined || nonEmpty(chunk["id"])
  const top = state.top ??= {}
  for (const key in chunk) {
    if (key === "choices" || key === "__proto__") continue
    const value = chunk[key]
    if (key === "usage") {
      if (value !== null && value !== undefined) top[key] = value
      else if (!(key in top)) top[key] = null
    } else if (adopt) {
      top[key] = value
    }
  }
}

const newChoice = (index: number): ChoiceState => ({
  index,
  extra: {},
  messageExtra: {},
  role: undefined,
  content: "",
  refusal: "",
  finishReason: undefined,
  logprobs: null,
  toolCalls: undefined,
  functionCall: undefined,
  audio: undefined,
  audioDone: false
})

const stepChoice = (state: State, raw: Json, position: number): void => {
  const index = isIndex(raw["index"]) ? raw["index"] : position
  let choice = state.choices.get(index)
  if (choice === undefined) state.choices.set(index, choice = newChoice(index))
  for (const key in raw) {
    switch (key) {
      case "index":
      case "delta":
      case "finish_reason":
      case "logprobs":
      case "__proto__":
        break
      default:
        choice.extra[key] = raw[key]
    }
  }
  const logprobs = raw["logprobs"]
  if (isRecord(logprobs)) mergeLogprobs(choice, logprobs)
  const finishReason = raw["finish_reason"]
  if (nonEmpty(finishReason)) choice.finishReason = finishReason
  const delta = raw["delta"]
  if (isRecord(delta)) stepDelta(choice, delta)
}

/** `content` and `refusal` token lists are concatenated; other fields, last value wins. */
const mergeLogprobs = (choice: ChoiceState, logprobs: Json): void => {
  const target = choice.logprobs ??= {}
  for (const key in logprobs) {
    if (key === "__proto__") continue
    const value = logprobs[key]
    if ((key === "content" || key === "refusal") && Array.isArray(value)) {
      const existing = target[key]
      // Copy on first sight: the input (parsed chunks handed to `aggregateChunks`) is never mutated.
      if (!Array.isArray(existing)) target[key] = value.slice()
      else for (const token of value) existing.push(token)
    } else if (!(key === "content" || key === "refusal") || !(key in target)) {
      target[key] = value
    }
  }
}

const stepDelta = (choice: ChoiceState, delta: Json): void => {
  let unknown = 0
  for (const key in delta) {
    switch (key) {
      case "role":
      case "content":
      case "refusal":
      case "tool_calls":
      case "function_call":
      case "audio":
      case "__proto__":
        break
      default:
        choice.messageExtra[key] = delta[key]
        unknown++
    }
  }
  const { audio, content, function_call, refusal, role, tool_calls } = delta
  if (choice.role === undefined && nonEmpty(role)) choice.role = role
  if (typeof content === "string") choice.content += content
  if (typeof refusal === "string") choice.refusal += refusal
  if (Array.isArray(tool_calls)) stepToolCalls(choice, tool_calls)
  if (isRecord(function_call)) stepFunctionCall(choice, function_call)
  if (isRecord(audio)) stepAudio(choice, audio)
  choice.audioDone = isRecord(audio) && audio["expires_at"] != null && audio["id"] == null && audio["data"] == null &&
    audio["transcript"] == null && content == null && refusal == null && function_call == null && role == null &&
    tool_calls == null && unknown === 0
}

const stepToolCalls = (choice: ChoiceState, fragments: ReadonlyArray<unknown>): void => {
  const calls = choice.toolCalls ??= new Map()
  for (let i = 0; i < fragments.length; i++) {
    const fragment = fragments[i]
    if (!isRecord(fragment)) continue
    // Without an index (some compatible servers), the position in this delta's list identifies the call.
    const index = isIndex(fragment["index"]) ? fragment["index"] : i
    let call = calls.get(index)
    if (call === undefined) calls.set(index, call = { index, extra: {}, id: "", type: "", name: "", arguments: "" })
    for (const key in fragment) {
      switch (key) {
        case "index":
        case "id":
        case "type":
        case "function":
        case "__proto__":
          break
        default:
          call.extra[key] = fragment[key]
      }
    }
    if (nonEmpty(fragment["id"])) call.id = fragment["id"]
    if (nonEmpty(fragment["type"])) call.type = fragment["type"]
    const fn = fragment["function"]
    if (isRecord(fn)) {
      if (nonEmpty(fn["name"])) call.name = fn["name"]
      if (typeof fn["arguments"] === "string") call.arguments += fn["arguments"]
    }
  }
}

/** The deprecated single `function_call`: name last non-empty, arguments joined. */
const stepFunctionCall = (choice: ChoiceState, fn: Json): void => {
  const call = choice.functionCall ??= { name: "", arguments: "" }
  if (nonEmpty(fn["name"])) call.name = fn["name"]
  if (typeof fn["arguments"] === "string") call.arguments += fn["arguments"]
}

/** Audio output: `data` and `transcript` joined, `id` and `expires_at` last seen. */
const stepAudio = (choice: ChoiceState, audio: Json): void => {
  const target = choice.audio ??= {}
  if (audio["id"] != null) target["id"] = audio["id"]
  if (typeof audio["data"] === "string") target["data"] = (target["data"] ?? "") + audio["data"]
  if (typeof audio["transcript"] === "string") target["transcript"] = (target["transcript"] ?? "") + audio["transcript"]
  if (audio["expires_at"] != null) target["expires_at"] = audio["expires_at"]
}

const isCompleteAudio = (audio: Json | undefined): boolean =>
  audio !== undefined && audio["id"] != null && audio["data"] != null && audio["transcript"] != null &&
  audio["expires_at"] != null

const choiceComplete = (choice: ChoiceState): boolean =>
  choice.finishReason !== undefined || (choice.audioDone && isCompleteAudio(choice.audio))

// ---------------------------------------------------------------------------------------------------------------
// Result
// ---------------------------------------------------------------------------------------------------------------

const copyLogprobs = (logprobs: Json | null): Json | null => {
  if (logprobs === null) return null
  const out: Json = { ...logprobs }
  if (Array.isArray(out["content"])) out["content"] = out["content"].slice()
  if (Array.isArray(out["refusal"])) out["refusal"] = out["refusal"].slice()
  return out
}

const byIndex = (a: { readonly index: number }, b: { readonly index: number }) => a.index - b.index

const toChoice = (choice: ChoiceState): ChatCompletion["choices"][number] => {
  const message: Json = {
    ...choice.messageExtra,
    role: choice.role ?? "assistant",
    content: choice.content === "" ? null : choice.content,
    refusal: choice.refusal === "" ? null : choice.refusal
  }
  if (choice.toolCalls !== undefined) {
    message["tool_calls"] = Array.from(choice.toolCalls.values()).sort(byIndex).map((call) => ({
      ...call.extra,
      id: call.id,
      type: call.type === "" ? "function" : call.type,
      function: { name: call.name, arguments: call.arguments }
    }))
  }
  if (choice.functionCall !== undefined) message["function_call"] = { ...choice.functionCall }
  if (choice.audio !== undefined) message["audio"] = { ...choice.audio }
  return {
    ...choice.extra,
    index: choice.index,
    message: message as ChatCompletion["choices"][number]["message"],
    logprobs: copyLogprobs(choice.logprobs),
    finish_reason: choice.finishReason ?? "stop"
  }
}

const str = (u: unknown, fallback: string): string => typeof u === "string" ? u : fallback

/** The `chat.completion` so far. Fields the SDK leaves out when empty (`system_fingerprint`) are left out too. */
const toCompletion = (state: State): ChatCompletion => {
  const { system_fingerprint, ...rest } = state.top ?? {}
  const completion: Json = {
    ...rest,
    id: str(rest["id"], ""),
    object: "chat.completion",
    created: typeof rest["created"] === "number" ? rest["created"] : 0,
    model: str(rest["model"], ""),
    choices: Array.from(state.choices.values()).sort(byIndex).map(toChoice)
  }
  if (nonEmpty(system_fingerprint)) completion["system_fingerprint"] = system_fingerprint
  return completion as ChatCompletion
}

const isComplete = (state: State): boolean => {
  if (state.choices.size === 0) return false
  for (const choice of state.choices.values()) if (!choiceComplete(choice)) return false
  return true
}

const hasCompletion = (state: State): boolean => state.top !== undefined

// ---------------------------------------------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------------------------------------------

/**
 * Normalised usage (`prompt_tokens` with cached tokens, `completion_tokens` with reasoning tokens).
 *
 * @since 0.1.0
 * @category accessors
 */
export const usage = (response: ChatCompletion): TokenUsage.TokenUsage => TokenUsage.fromOpenAiChat(response.usage)

/** `audio` among the modalities → speech, else the `response_format`'s type. */
const outputType = (body: Record<string, unknown>): string | undefined => {
  const modalities = body["modalities"]
  if (Array.isArray(modalities) && modalities.includes("audio")) return GenAiOutputTypes.Speech
  return Parameters.openAiFormatType(body["response_format"])
}

/**
 * The request's parameters as GenAI attributes (`max_completion_tokens`, else the older `max_tokens`; `n` as the
 * choice count; `response_format` / `modalities` as the output type; `service_tier`).
 *
 * @since 0.2.0
 * @category accessors
 */
export const requestAttributes = (body: unknown): Api.SpanAttributes => {
  const b = Parameters.fields(body)
  return Parameters.toAttributes({
    ...Parameters.openAiSampling(b),
    maxTokens: b["max_completion_tokens"] ?? b["max_tokens"],
    outputType: outputType(b),
    serviceTier: b["service_tier"]
  })
}

const chat = Api.make<ChatCompletion, State>({
  provider: "openai",
  operation: GenAiOperations.Chat,
  messageFormat: "openai",
  initial: makeState,
  accept: acceptPayload,
  hasResponse: hasCompletion,
  response: toCompletion,
  complete: isComplete,
  decodeResponse: Schema.decodeUnknownOption(ChatCompletion),
  usage,
  finishReasons: (response) => response.choices.flatMap((c) => c.finish_reason === null ? [] : [c.finish_reason]),
  responseId: (response) => someNonEmpty(response.id),
  responseModel: (response) => someNonEmpty(response.model),
  requestAttributes,
  responseAttributes: Parameters.openAiResponseAttributes
})

/**
 * The fold over SSE events: `[DONE]` ends the stream (later events are ignored, as by the SDK); data that is not
 * JSON, or JSON that is not a chunk, is skipped and counted; an `{"error": …}` payload is recorded. `complete` is
 * true when every choice got a finish reason. Without any chunk (only an error), the response is an empty
 * completion.
 *
 * @since 0.1.0
 * @category folding
 */
export const fold: Fold.Fold<Sse.Event, State, Api.Aggregate<ChatCompletion>> = chat.fold

/**
 * Folds raw body chunks (SSE bytes, any split) into a `chat.completion`; None when no chunk arrived.
 *
 * @since 0.1.0
 * @category folding
 */
export const aggregate: (chunks: Iterable<Uint8Array>) => Option.Option<ChatCompletion> = chat.aggregate

/**
 * Folds already-parsed chunks (e.g. objects from the SDK's stream) into a `chat.completion`; None when there
 * were none. The chunks are not mutated. Public on purpose (DESIGN.md): client-side tracing of an SDK call sees
 * parsed chunks, not bytes.
 *
 * @since 0.1.0
 * @category folding
 */
export const aggregateChunks: (chunks: Iterable<ChatCompletionChunk>) => Option.Option<ChatCompletion> = chat.aggregatePayloads

/**
 * Everything tracing needs to know about Chat Completions.
 *
 * @since 0.1.0
 * @category api
 */
export const api: Api.Api<ChatCompletion, State> = chat.api
