/**
 * Gemini `generateContent` wire formats (Gemini API and Vertex AI): the `GenerateContentResponse` chunks of a
 * stream and the response they fold into (see `GeminiGenerateContent` for the fold). Every struct keeps the
 * fields it does not name: Gemini adds part kinds and metadata fields monthly.
 *
 * @since 0.2.0
 */
import * as Schema from "effect/Schema"
import { open, optionalNullable, Rest } from "../internal/json.js"

/**
 * One fragment of a streamed function call argument (Vertex `streamFunctionCallArguments`): the value at
 * `jsonPath`; a string value with `willContinue` goes on in the next fragment for the same path.
 *
 * @since 0.1.0
 * @category schemas
 */
export const PartialArg = open({
  jsonPath: Schema.optional(Schema.String),
  stringValue: Schema.optional(Schema.String),
  numberValue: Schema.optional(Schema.Number),
  boolValue: Schema.optional(Schema.Boolean),
  nullValue: Schema.optional(Schema.Unknown),
  willContinue: Schema.optional(Schema.Boolean)
})

/**
 * @since 0.1.0
 * @category schemas
 */
export const FunctionCall = open({
  id: Schema.optional(Schema.String),
  name: Schema.optional(Schema.String),
  args: Schema.optional(Rest),
  partialArgs: Schema.optional(Schema.Array(PartialArg)),
  willContinue: Schema.optional(Schema.Boolean)
})

/**
 * One part of a content: text (a thought when `thought` is true), a function call, code, inline data, …
 *
 * @since 0.1.0
 * @category schemas
 */
export const Part = open({
  text: Schema.optional(Schema.String),
  thought: Schema.optional(Schema.Boolean),
  thoughtSignature: Schema.optional(Schema.String),
  functionCall: Schema.optional(FunctionCall)
})

/**
 * @since 0.1.0
 * @category models
 */
export type Part = typeof Part.Type

/**
 * @since 0.1.0
 * @category schemas
 */
export const Content = open({
  role: Schema.optional(Schema.String),
  parts: Schema.optional(Schema.Array(Part))
})

/**
 * @since 0.1.0
 * @category schemas
 */
export const Candidate = open({
  index: Schema.optional(Schema.Number),
  content: Schema.optional(Content),
  finishReason: optionalNullable(Schema.String)
})

/**
 * @since 0.1.0
 * @category models
 */
export type Candidate = typeof Candidate.Type

/**
 * Token counts. In a stream every chunk carries the running total so far; the last one is the call's usage.
 *
 * @since 0.1.0
 * @category schemas
 */
export const UsageMetadata = open({
  promptTokenCount: Schema.optional(Schema.Number),
  candidatesTokenCount: Schema.optional(Schema.Number),
  totalTokenCount: Schema.optional(Schema.Number),
  thoughtsTokenCount: Schema.optional(Schema.Number),
  cachedContentTokenCount: Schema.optional(Schema.Number),
  toolUsePromptTokenCount: Schema.optional(Schema.Number)
})

const responseFields = {
  candidates: Schema.optional(Schema.Array(Candidate)),
  usageMetadata: Schema.optional(UsageMetadata),
  modelVersion: Schema.optional(Schema.String),
  responseId: Schema.optional(Schema.String),
  promptFeedback: Schema.optional(Schema.Unknown)
}

/**
 * One stream chunk (the data of one SSE event): a partial `GenerateContentResponse`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const GenerateContentResponseChunk = open(responseFields)

/**
 * @since 0.1.0
 * @category models
 */
export type GenerateContentResponseChunk = typeof GenerateContentResponseChunk.Type

/**
 * A `GenerateContentResponse`: the non-streaming body, and what a stream folds into. A body must carry
 * candidates, usage or prompt feedback to be one.
 *
 * @since 0.1.0
 * @category schemas
 */
export const GenerateContentResponse = open(responseFields).pipe(
  Schema.filter((r) =>
    r.candidates !== undefined || r.usageMetadata !== undefined || r.promptFeedback !== undefined ||
    "not a GenerateContentResponse: no candidates, usageMetadata or promptFeedback"
  )
)

/**
 * @since 0.1.0
 * @category models
 */
export type GenerateContentResponse = typeof GenerateContentResponse.Type

/**
 * The response type of this API (alias of {@link GenerateContentResponse}).
 *
 * @since 0.1.0
 * @category models
 */
export type Response = GenerateContentResponse
