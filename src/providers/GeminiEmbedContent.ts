/**
 * Gemini embeddings (`models/{model}:embedContent`, `:batchEmbedContents`): JSON-only APIs, one module for both
 * response shapes. Tracing reads `usageMetadata` when the service reports it (the Gemini API usually does not:
 * the span then has no usage), and the request's `outputDimensionality`. The wire Schemas are in
 * `GeminiEmbedContentSchema`.
 *
 * @since 0.2.0
 */
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import type * as Fold from "../Fold.js"
import type * as Sse from "../Sse.js"
import * as TokenUsage from "../TokenUsage.js"
import { GenAiOperations } from "../tracing/Attributes.js"
import * as Api from "./Api.js"
import { Response } from "./GeminiEmbedContentSchema.js"
import * as Parameters from "./internal/requestParameters.js"
import * as streamError from "./internal/streamError.js"

/**
 * The response Schema (either shape) and its type (the other wire Schemas are in `GeminiEmbedContentSchema`).
 *
 * @since 0.2.0
 * @category schemas
 */
export { Response } from "./GeminiEmbedContentSchema.js"

/**
 * Normalised usage from `usageMetadata` (`promptTokenCount` as input), empty when not reported.
 *
 * @since 0.2.0
 * @category accessors
 */
export const usage = (response: Response): TokenUsage.TokenUsage => TokenUsage.fromGemini(response.usageMetadata)

/** `outputDimensionality` of the request, or of its first request (batch). */
const dimensionsOf = (body: Record<string, unknown>): unknown => {
  const requests = body["requests"]
  const first = Array.isArray(requests) ? Parameters.fields(requests[0]) : body
  return first["outputDimensionality"]
}

/**
 * The request's `outputDimensionality` (`gen_ai.embeddings.dimension.count`).
 *
 * @since 0.2.0
 * @category accessors
 */
export const requestAttributes = (body: unknown): Api.SpanAttributes =>
  Parameters.toAttributes({ dimensions: dimensionsOf(Parameters.fields(body)) })

const embed = Api.makeJsonOnly<Response>({
  provider: "gcp.gemini",
  operation: GenAiOperations.Embeddings,
  messageFormat: "gemini",
  empty: () => ({ embeddings: [] }),
  streamError: streamError.fromGoogle,
  decodeResponse: Schema.decodeUnknownOption(Response),
  usage,
  finishReasons: () => [],
  responseId: () => Option.none(),
  responseModel: () => Option.none(),
  requestAttributes
})

/**
 * The fold of a JSON-only API: the first event whose data is an embeddings response is the response.
 *
 * @since 0.2.0
 * @category folding
 */
export const fold: Fold.Fold<Sse.Event, Api.JsonOnlyState<Response>, Api.Aggregate<Response>> = embed.fold

/**
 * Folds raw body chunks into the response; None when none arrived.
 *
 * @since 0.2.0
 * @category folding
 */
export const aggregate: (chunks: Iterable<Uint8Array>) => Option.Option<Response> = embed.aggregate

/**
 * Everything tracing needs to know about Gemini embeddings.
 *
 * @since 0.2.0
 * @category api
 */
export const api: Api.Api<Response, Api.JsonOnlyState<Response>> = embed.api
