/**
 * Request parameters as GenAI span attributes: each API names its fields its own way (`max_tokens`,
 * `max_output_tokens`, `generationConfig.maxOutputTokens`, …) and maps them to {@link Parameters}; this module
 * validates the values and gives the attributes, so that every API records the same names and types.
 *
 * @internal
 */
import { asRecord } from "../../internal/json.js"
import * as Attributes from "../../tracing/Attributes.js"
import type { SpanAttributes } from "../Api.js"

/** The request parameters the conventions name, as read from a body (unchecked). @internal */
export interface Parameters {
  readonly maxTokens?: unknown
  readonly temperature?: unknown
  readonly topP?: unknown
  readonly topK?: unknown
  readonly seed?: unknown
  /** A string or an array of strings. */
  readonly stopSequences?: unknown
  readonly frequencyPenalty?: unknown
  readonly presencePenalty?: unknown
  readonly choiceCount?: unknown
  /** Already one of `Attributes.GenAiOutputTypes`, or undefined. */
  readonly outputType?: string | undefined
  /** Embeddings: a string (`float`, `base64`). */
  readonly encodingFormat?: unknown
  readonly dimensions?: unknown
  /** OpenAI `service_tier`. */
  readonly serviceTier?: unknown
}

const finite = (u: unknown): u is number => typeof u === "number" && Number.isFinite(u)

const integer = (u: unknown): u is number => typeof u === "number" && Number.isSafeInteger(u)

const strings = (u: unknown): ReadonlyArray<string> | undefined =>
  typeof u === "string"
    ? [u]
    : Array.isArray(u) && u.length > 0 && u.every((s) => typeof s === "string")
    ? u as ReadonlyArray<string>
    : undefined

/**
 * The attributes of the parameters that are present and well typed; the others are left out.
 *
 * @internal
 */
export const toAttributes = (p: Parameters): SpanAttributes => {
  const out: Record<string, SpanAttributes[string]> = {}
  if (integer(p.maxTokens)) out[Attributes.GenAiRequestMaxTokens] = p.maxTokens
  if (finite(p.temperature)) out[Attributes.GenAiRequestTemperature] = p.temperature
  if (finite(p.topP)) out[Attributes.GenAiRequestTopP] = p.topP
  if (finite(p.topK)) out[Attributes.GenAiRequestTopK] = p.topK
  if (integer(p.seed)) out[Attributes.GenAiRequestSeed] = p.seed
  const stop = strings(p.stopSequences)
  if (stop !== undefined) out[Attributes.GenAiRequestStopSequences] = stop
  if (finite(p.frequencyPenalty)) out[Attributes.GenAiRequestFrequencyPenalty] = p.frequencyPenalty
  if (finite(p.presencePenalty)) out[Attributes.GenAiRequestPresencePenalty] = p.presencePenalty
  // The conventions record the choice count only when it is not 1.
  if (integer(p.choiceCount) && p.choiceCount !== 1) out[Attributes.GenAiRequestChoiceCount] = p.choiceCount
  if (p.outputType !== undefined) out[Attributes.GenAiOutputType] = p.outputType
  if (typeof p.encodingFormat === "string") out[Attributes.GenAiRequestEncodingFormats] = [p.encodingFormat]
  if (integer(p.dimensions)) out[Attributes.GenAiEmbeddingsDimensionCount] = p.dimensions
  if (typeof p.serviceTier === "string") out[Attributes.OpenAiRequestServiceTier] = p.serviceTier
  return out
}

/** A request body's fields, or none when the body is not an object. @internal */
export const fields = (body: unknown): Record<string, unknown> => asRecord(body) ?? {}

/**
 * The sampling parameters Chat Completions and legacy Completions name alike (`temperature`, `top_p`, `seed`,
 * `stop`, penalties, `n`).
 *
 * @internal
 */
export const openAiSampling = (b: Record<string, unknown>): Parameters => ({
  temperature: b["temperature"],
  topP: b["top_p"],
  seed: b["seed"],
  stopSequences: b["stop"],
  frequencyPenalty: b["frequency_penalty"],
  presencePenalty: b["presence_penalty"],
  choiceCount: b["n"]
})

/**
 * The output type of an OpenAI `response_format` / Responses `text.format` type: `text` → text, `json_object`
 * and `json_schema` → json.
 *
 * @internal
 */
export const openAiFormatType = (format: unknown): string | undefined => {
  const type = asRecord(format)?.["type"]
  return type === "text" ? Attributes.GenAiOutputTypes.Text
    : type === "json_object" || type === "json_schema" ? Attributes.GenAiOutputTypes.Json
    : undefined
}

/**
 * OpenAI `{ service_tier, system_fingerprint }` of a response, as `openai.response.*` attributes.
 *
 * @internal
 */
export const openAiResponseAttributes = (response: { readonly [key: string]: unknown }): SpanAttributes => {
  const out: Record<string, string> = {}
  const tier = response["service_tier"]
  const fingerprint = response["system_fingerprint"]
  if (typeof tier === "string" && tier !== "") out[Attributes.OpenAiResponseServiceTier] = tier
  if (typeof fingerprint === "string" && fingerprint !== "") out[Attributes.OpenAiResponseSystemFingerprint] = fingerprint
  return out
}
