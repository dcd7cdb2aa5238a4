/**
 * Gemini embeddings wire formats (`models/{model}:embedContent` and `:batchEmbedContents`, JSON only): one
 * `embedding`, or a list of `embeddings`, each `{ values }`. Every struct keeps the fields it does not name.
 *
 * @since 0.2.0
 */
import * as Schema from "effect/Schema"
import { open, Rest } from "../internal/json.js"

/**
 * One vector.
 *
 * @since 0.2.0
 * @category schemas
 */
export const ContentEmbedding = open({ values: Schema.optional(Schema.Array(Schema.Number)) })

/**
 * @since 0.2.0
 * @category models
 */
export type ContentEmbedding = typeof ContentEmbedding.Type

/**
 * `:embedContent`'s response: one `embedding` (and `usageMetadata` where the service reports it).
 *
 * @since 0.2.0
 * @category schemas
 */
export const EmbedContentResponse = open({
  embedding: ContentEmbedding,
  usageMetadata: Schema.optional(Rest)
})

/**
 * @since 0.2.0
 * @category models
 */
export type EmbedContentResponse = typeof EmbedContentResponse.Type

/**
 * `:batchEmbedContents`' response: one embedding per request (and `usageMetadata` where reported).
 *
 * @since 0.2.0
 * @category schemas
 */
export const BatchEmbedContentsResponse = open({
  embeddings: Schema.Array(ContentEmbedding),
  usageMetadata: Schema.optional(Rest)
})

/**
 * @since 0.2.0
 * @category models
 */
export type BatchEmbedContentsResponse = typeof BatchEmbedContentsResponse.Type

/**
 * Either response: what the API module reads.
 *
 * @since 0.2.0
 * @category schemas
 */
export const Response = Schema.Union(EmbedContentResponse, BatchEmbedContentsResponse)

/**
 * @since 0.2.0
 * @category models
 */
export type Response = typeof Response.Type
