/**
 * OpenAI Responses wire formats: the stream events and the `response` object they build (see `OpenAiResponses`
 * for the fold). Items, events and the response keep every field they do not name: the API adds item types and
 * fields monthly.
 *
 * @since 0.2.0
 */
import * as Schema from "effect/Schema"
import { open, optionalNullable, Rest } from "../internal/json.js"

/**
 * One output item (`message`, `function_call`, `reasoning`, `web_search_call`, …): its `type` and every other
 * field as sent.
 *
 * @since 0.1.0
 * @category schemas
 */
export const OutputItem = open({ type: Schema.String, id: Schema.optional(Schema.String) })

/**
 * @since 0.2.0
 * @category models
 */
export type OutputItem = typeof OutputItem.Type

/**
 * @since 0.1.0
 * @category schemas
 */
export const ResponseUsage = open({
  input_tokens: Schema.optional(Schema.Number),
  output_tokens: Schema.optional(Schema.Number),
  total_tokens: Schema.optional(Schema.Number)
})

/**
 * @since 0.2.0
 * @category models
 */
export type ResponseUsage = typeof ResponseUsage.Type

/**
 * A Responses `response` object (non-streaming body, and what a stream folds into).
 *
 * @since 0.1.0
 * @category schemas
 */
export const Response = open({
  id: Schema.String,
  object: Schema.Literal("response"),
  created_at: Schema.optional(Schema.Number),
  status: Schema.optional(Schema.String),
  model: Schema.optional(Schema.String),
  output: Schema.Array(OutputItem),
  usage: optionalNullable(ResponseUsage),
  error: optionalNullable(Rest),
  incomplete_details: optionalNullable(open({ reason: optionalNullable(Schema.String) }))
})

/**
 * @since 0.1.0
 * @category models
 */
export type Response = typeof Response.Type

/**
 * One stream event (the data of one SSE event): its `type` and fields as sent.
 *
 * @since 0.1.0
 * @category schemas
 */
export const StreamEvent = open({ type: Schema.String, sequence_number: Schema.optional(Schema.Number) })

/**
 * @since 0.1.0
 * @category models
 */
export type StreamEvent = typeof StreamEvent.Type
