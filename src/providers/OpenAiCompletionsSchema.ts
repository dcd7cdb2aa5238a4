/**
 * OpenAI legacy Completions wire formats (`POST /v1/completions`): the `text_completion` the API returns, and
 * the chunks of a stream (`stream: true`), which have the same shape with a part of each choice's `text`. Every
 * struct keeps the fields it does not name.
 *
 * @since 0.2.0
 */
import * as Schema from "effect/Schema"
import { open, optionalNullable } from "../internal/json.js"
import { Usage } from "./OpenAiChatSchema.js"

const NullableString = optionalNullable(Schema.String)

/**
 * Token counts: the same `usage` as Chat Completions (`prompt_tokens`, `completion_tokens`, `total_tokens`).
 *
 * @since 0.2.0
 * @category schemas
 */
export { Usage } from "./OpenAiChatSchema.js"

/**
 * Per-token log probabilities: parallel lists, concatenated across chunks.
 *
 * @since 0.2.0
 * @category schemas
 */
export const Logprobs = open({
  tokens: Schema.optional(Schema.Array(Schema.String)),
  token_logprobs: Schema.optional(Schema.Array(Schema.Unknown)),
  top_logprobs: optionalNullable(Schema.Array(Schema.Unknown)),
  text_offset: Schema.optional(Schema.Array(Schema.Number))
})

/**
 * One choice: its text (a part of it in a chunk), and why it stopped.
 *
 * @since 0.2.0
 * @category schemas
 */
export const Choice = open({
  index: Schema.Number,
  text: Schema.String,
  finish_reason: NullableString,
  logprobs: optionalNullable(Logprobs)
})

/**
 * @since 0.2.0
 * @category models
 */
export type Choice = typeof Choice.Type

const fields = {
  id: Schema.String,
  created: Schema.Number,
  model: Schema.String,
  choices: Schema.Array(Choice),
  usage: optionalNullable(Usage),
  system_fingerprint: NullableString
}

/**
 * A `text_completion`: the non-streaming response, and what a stream folds into.
 *
 * @since 0.2.0
 * @category schemas
 */
export const Completion = open({ ...fields, object: Schema.Literal("text_completion") })

/**
 * @since 0.2.0
 * @category models
 */
export type Completion = typeof Completion.Type

/**
 * One chunk of a stream (the data of one SSE event). With `stream_options.include_usage`, the last chunk has
 * `choices: []` and the `usage`.
 *
 * @since 0.2.0
 * @category schemas
 */
export const CompletionChunk = open({ ...fields, object: Schema.optional(Schema.String) })

/**
 * @since 0.2.0
 * @category models
 */
export type CompletionChunk = typeof CompletionChunk.Type

/**
 * The response type of this API (alias of {@link Completion}).
 *
 * @since 0.2.0
 * @category models
 */
export type Response = Completion
