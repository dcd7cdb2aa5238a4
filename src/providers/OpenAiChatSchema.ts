/**
 * OpenAI Chat Completions wire formats: the `chat.completion.chunk` of a stream and the `chat.completion` it
 * folds into (see `OpenAiChat` for the fold). Every struct keeps the fields it does not name.
 *
 * Validation at the edges (a non-streaming body, a test), never per chunk: the fold reads plain fields.
 *
 * @since 0.2.0
 */
import * as Schema from "effect/Schema"
import { open, optionalNullable, Rest } from "../internal/json.js"

const NullableString = optionalNullable(Schema.String)

/**
 * Token counts (`prompt_tokens`, `completion_tokens`, `total_tokens`, details); unknown fields kept.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Usage = open({
  prompt_tokens: Schema.optional(Schema.Number),
  completion_tokens: Schema.optional(Schema.Number),
  total_tokens: Schema.optional(Schema.Number)
})

/**
 * @since 0.2.0
 * @category models
 */
export type Usage = typeof Usage.Type

/**
 * Per-token log probabilities of the content and of the refusal.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Logprobs = open({
  content: optionalNullable(Schema.Array(Schema.Unknown)),
  refusal: optionalNullable(Schema.Array(Schema.Unknown))
})

const FunctionCallDelta = open({ name: NullableString, arguments: NullableString })

/**
 * One tool call fragment of a delta; fragments with the same `index` make one call.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ToolCallDelta = open({
  index: Schema.Number,
  id: NullableString,
  type: NullableString,
  function: Schema.optional(FunctionCallDelta)
})

/**
 * @since 0.2.0
 * @category models
 */
export type ToolCallDelta = typeof ToolCallDelta.Type

/**
 * What one chunk adds to a choice's message.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Delta = open({
  role: NullableString,
  content: NullableString,
  refusal: NullableString,
  tool_calls: optionalNullable(Schema.Array(ToolCallDelta)),
  function_call: optionalNullable(FunctionCallDelta),
  audio: optionalNullable(Rest)
})

/**
 * @since 0.1.0
 * @category schemas
 */
export const ChunkChoice = open({
  index: Schema.Number,
  delta: Delta,
  finish_reason: NullableString,
  logprobs: optionalNullable(Logprobs)
})

/**
 * One `chat.completion.chunk` (the data of one SSE event). `usage` is set on the last chunk with
 * `stream_options.include_usage` (then `choices` is empty).
 *
 * @since 0.1.0
 * @category schemas
 */
export const ChatCompletionChunk = open({
  id: Schema.String,
  object: Schema.optional(Schema.String),
  created: Schema.Number,
  model: Schema.String,
  choices: Schema.Array(ChunkChoice),
  usage: optionalNullable(Usage),
  system_fingerprint: NullableString,
  service_tier: NullableString
})

/**
 * @since 0.1.0
 * @category models
 */
export type ChatCompletionChunk = typeof ChatCompletionChunk.Type

const FunctionCall = open({ name: Schema.String, arguments: Schema.String })

/**
 * A complete tool call of a message.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ToolCall = open({ id: Schema.String, type: Schema.String, function: FunctionCall })

/**
 * @since 0.1.0
 * @category schemas
 */
export const Message = open({
  role: Schema.String,
  content: Schema.NullOr(Schema.String),
  refusal: NullableString,
  tool_calls: Schema.optional(Schema.Array(ToolCall)),
  function_call: Schema.optional(FunctionCall),
  audio: optionalNullable(Rest)
})

/**
 * @since 0.2.0
 * @category models
 */
export type Message = typeof Message.Type

/**
 * @since 0.1.0
 * @category schemas
 */
export const Choice = open({
  index: Schema.Number,
  message: Message,
  finish_reason: Schema.NullOr(Schema.String),
  logprobs: optionalNullable(Logprobs)
})

/**
 * @since 0.2.0
 * @category models
 */
export type Choice = typeof Choice.Type

/**
 * A `chat.completion`: the non-streaming response, and what a stream folds into.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ChatCompletion = open({
  id: Schema.String,
  object: Schema.Literal("chat.completion"),
  created: Schema.Number,
  model: Schema.String,
  choices: Schema.Array(Choice),
  usage: optionalNullable(Usage),
  system_fingerprint: NullableString,
  service_tier: NullableString
})

/**
 * @since 0.1.0
 * @category models
 */
export type ChatCompletion = typeof ChatCompletion.Type

/**
 * The response type of this API (alias of {@link ChatCompletion}).
 *
 * @since 0.1.0
 * @category models
 */
export type Response = ChatCompletion
