/**
 * OpenAI Embeddings (`POST /v1/embeddings`): a JSON-only API. Tracing reads the response's usage
 * (`prompt_tokens`, `total_tokens`) and model, and the request's `encoding_format` and `dimensions`. The wire
 * Schemas are in `OpenAiEmbeddingsSchema`.
 *
 * @since 0.2.0
 */
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import type * as Fold from "../Fold.js"
import { someNonEmpty } from "../internal/json.js"
import type * as Sse from "../Sse.js"
import * as TokenUsage from "../TokenUsage.js"
import { GenAiOperations } from "../tracing/Attributes.js"
import * as Api from "./Api.js"
import * as Parameters from "./internal/requestParameters.js"
import * as streamError from "./internal/streamError.js"
import { CreateEmbeddingResponse } from "./OpenAiEmbeddingsSchema.js"

/**
 * The response Schema and its type (the other wire Schemas are in `OpenAiEmbeddingsSchema`).
 *
 * @since 0.2.0
 * @category schemas
 */
export { CreateEmbeddingResponse, type Response } from "./OpenAiEmbeddingsSchema.js"

/**
 * Normalised usage: `prompt_tokens` as input, `total_tokens`; no output tokens.
 *
 * @since 0.2.0
 * @category accessors
 */
export const usage = (response: CreateEmbeddingResponse): TokenUsage.TokenUsage => TokenUsage.fromOpenAiChat(response.usage)

/**
 * The request's `encoding_format` (`gen_ai.request.encoding_formats`) and `dimensions`
 * (`gen_ai.embeddings.dimension.count`).
 *
 * @since 0.2.0
 * @category accessors
 */
export const requestAttributes = (body: unknown): Api.SpanAttributes => {
  const b = Parameters.fields(body)
  return Parameters.toAttributes({ encodingFormat: b["encoding_format"], dimensions: b["dimensions"] })
}

const embeddings = Api.makeJsonOnly<CreateEmbeddingResponse>({
  provider: "openai",
  operation: GenAiOperations.Embeddings,
  messageFormat: "openai",
  empty: () => ({ object: "list", data: [], model: "" }),
  streamError: streamError.fromOpenAi,
  decodeResponse: Schema.decodeUnknownOption(CreateEmbeddingResponse),
  usage,
  finishReasons: () => [],
  responseId: () => Option.none(),
  responseModel: (response) => someNonEmpty(response.model),
  requestAttributes
})

/**
 * The fold of a JSON-only API: the first event whose data is an embeddings response is the response.
 *
 * @since 0.2.0
 * @category folding
 */
export const fold: Fold.Fold<Sse.Event, Api.JsonOnlyState<CreateEmbeddingResponse>, Api.Aggregate<CreateEmbeddingResponse>> =
  embeddings.fold

/**
 * Folds raw body chunks into the response; None when none arrived.
 *
 * @since 0.2.0
 * @category folding
 */
export const aggregate: (chunks: Iterable<Uint8Array>) => Option.Option<CreateEmbeddingResponse> = embeddings.aggregate

/**
 * Everything tracing needs to know about Embeddings.
 *
 * @since 0.2.0
 * @category api
 */
export const api: Api.Api<CreateEmbeddingResponse, Api.JsonOnlyState<CreateEmbeddingResponse>> = embeddings.api
