/**
 * OpenAI Embeddings wire formats (`POST /v1/embeddings`, JSON only): the `list` of `embedding` objects the API
 * returns. Every struct keeps the fields it does not name.
 *
 * @since 0.2.0
 */
import * as Schema from "effect/Schema"
import { open, optionalNullable } from "../internal/json.js"

/**
 * `prompt_tokens` and `total_tokens` (embeddings have no output tokens); unknown fields kept.
 *
 * @since 0.2.0
 * @category schemas
 */
export const Usage = open({
  prompt_tokens: Schema.optional(Schema.Number),
  total_tokens: Schema.optional(Schema.Number)
})

/**
 * @since 0.2.0
 * @category models
 */
export type Usage = typeof Usage.Type

/**
 * One vector: floats, or a base64 string of little-endian float32 with `encoding_format: "base64"` (what the
 * official SDK asks for by default, and decodes).
 *
 * @since 0.2.0
 * @category schemas
 */
export const Embedding = open({
  object: Schema.optional(Schema.String),
  index: Schema.Number,
  embedding: Schema.Union(Schema.Array(Schema.Number), Schema.String)
})

/**
 * @since 0.2.0
 * @category models
 */
export type Embedding = typeof Embedding.Type

/**
 * The response: `{ object: "list", data, model, usage }`.
 *
 * @since 0.2.0
 * @category schemas
 */
export const CreateEmbeddingResponse = open({
  object: Schema.Literal("list"),
  data: Schema.Array(Embedding),
  model: Schema.String,
  usage: optionalNullable(Usage)
})

/**
 * @since 0.2.0
 * @category models
 */
export type CreateEmbeddingResponse = typeof CreateEmbeddingResponse.Type

/**
 * The response type of this API (alias of {@link CreateEmbeddingResponse}).
 *
 * @since 0.2.0
 * @category models
 */
export type Response = CreateEmbeddingResponse
