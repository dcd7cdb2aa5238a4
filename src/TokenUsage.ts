/**
 * Token usage, normalised across providers.
 *
 * `inputTokens` always counts every prompt token, cached or not (OpenAI and Gemini report it that way; Anthropic
 * reports cache reads and writes apart, so they are added back). `outputTokens` includes reasoning tokens.
 * A field is absent when the provider did not report it — absent is not zero.
 *
 * @since 0.1.0
 */
import { asRecord } from "./internal/json.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface TokenUsage {
  readonly inputTokens?: number
  readonly outputTokens?: number
  readonly totalTokens?: number
  /** Prompt tokens served from the provider's cache (included in `inputTokens`). */
  readonly cacheReadInputTokens?: number
  /** Prompt tokens written to the provider's cache (included in `inputTokens`). */
  readonly cacheWriteInputTokens?: number
  /** Reasoning / thinking tokens (included in `outputTokens`). */
  readonly reasoningTokens?: number
}

/**
 * The usage with no field reported.
 *
 * @since 0.1.0
 * @category constructors
 */
export const empty: TokenUsage = {}

const num = (value: unknown): number | undefined =>
  typeof value === "number" && Number.isFinite(value) ? value : undefined

const sum = (...values: ReadonlyArray<number | undefined>): number | undefined => {
  let total: number | undefined = undefined
  for (const v of values) if (v !== undefined) total = (total ?? 0) + v
  return total
}

/** Input + output, only when both are known: a total of one side would be a wrong total. */
const both = (input: number | undefined, output: number | undefined): number | undefined =>
  input !== undefined && output !== undefined ? input + output : undefined

/** Builds a usage keeping only the fields that are defined (exact optional properties). */
const make = (fields: { readonly [K in keyof TokenUsage]-?: number | undefined }): TokenUsage => {
  const out: { -readonly [K in keyof TokenUsage]: number } = {}
  for (const key of Object.keys(fields) as Array<keyof TokenUsage>) {
    const value = fields[key]
    if (value !== undefined) out[key] = value
  }
  return out
}

/**
 * From an OpenAI Chat Completions `usage` (`prompt_tokens`, `completion_tokens`, `total_tokens`,
 * `prompt_tokens_details.cached_tokens`, `completion_tokens_details.reasoning_tokens`).
 *
 * @since 0.1.0
 * @category converters
 */
export const fromOpenAiChat = (usage: unknown): TokenUsage => {
  const u = asRecord(usage) ?? {}
  const input = num(u["prompt_tokens"])
  const output = num(u["completion_tokens"])
  return make({
    inputTokens: input,
    outputTokens: output,
    totalTokens: num(u["total_tokens"]) ?? both(input, output),
    cacheReadInputTokens: num(asRecord(u["prompt_tokens_details"])?.["cached_tokens"]),
    cacheWriteInputTokens: undefined,
    reasoningTokens: num(asRecord(u["completion_tokens_details"])?.["reasoning_tokens"])
  })
}

/**
 * From an OpenAI Responses `usage` (`input_tokens`, `output_tokens`, `total_tokens`,
 * `input_tokens_details.cached_tokens`, `output_tokens_details.reasoning_tokens`).
 *
 * @since 0.1.0
 * @category converters
 */
export const fromOpenAiResponses = (usage: unknown): TokenUsage => {
  const u = asRecord(usage) ?? {}
  const input = num(u["input_tokens"])
  const output = num(u["output_tokens"])
  return make({
    inputTokens: input,
    outputTokens: output,
    totalTokens: num(u["total_tokens"]) ?? both(input, output),
    cacheReadInputTokens: num(asRecord(u["input_tokens_details"])?.["cached_tokens"]),
    cacheWriteInputTokens: undefined,
    reasoningTokens: num(asRecord(u["output_tokens_details"])?.["reasoning_tokens"])
  })
}

/**
 * From an Anthropic Messages `usage`. Anthropic's `input_tokens` excludes cache reads and writes; they are added
 * back so that `inputTokens` means the same for every provider.
 *
 * @since 0.1.0
 * @category converters
 */
export const fromAnthropic = (usage: unknown): TokenUsage => {
  const u = asRecord(usage) ?? {}
  const cacheRead = num(u["cache_read_input_tokens"])
  const cacheWrite = num(u["cache_creation_input_tokens"])
  const input = sum(num(u["input_tokens"]), cacheRead, cacheWrite)
  const output = num(u["output_tokens"])
  return make({
    inputTokens: input,
    outputTokens: output,
    totalTokens: both(input, output),
    cacheReadInputTokens: cacheRead,
    cacheWriteInputTokens: cacheWrite,
    reasoningTokens: undefined
  })
}

/**
 * From a Gemini `usageMetadata`. `promptTokenCount` already includes cached content; tool-use prompt tokens are
 * input and `thoughtsTokenCount` is output (Gemini reports both apart from prompt and candidates).
 *
 * @since 0.1.0
 * @category converters
 */
export const fromGemini = (usageMetadata: unknown): TokenUsage => {
  const u = asRecord(usageMetadata) ?? {}
  const thoughts = num(u["thoughtsTokenCount"])
  const input = sum(num(u["promptTokenCount"]), num(u["toolUsePromptTokenCount"]))
  const output = sum(num(u["candidatesTokenCount"]), thoughts)
  return make({
    inputTokens: input,
    outputTokens: output,
    totalTokens: num(u["totalTokenCount"]) ?? both(input, output),
    cacheReadInputTokens: num(u["cachedContentTokenCount"]),
    cacheWriteInputTokens: undefined,
    reasoningTokens: thoughts
  })
}

/**
 * True when no field was reported.
 *
 * @since 0.1.0
 * @category predicates
 */
export const isEmpty = (usage: TokenUsage): boolean => Object.keys(usage).length === 0

/**
 * MLflow's `mlflow.chat.tokenUsage` value: `input_tokens`, `output_tokens`, `total_tokens`, and the cache keys
 * `cache_read_input_tokens` / `cache_creation_input_tokens` only when reported.
 *
 * @since 0.1.0
 * @category converters
 */
export const toMlflow = (usage: TokenUsage): Record<string, number> => {
  const out: Record<string, number> = {}
  if (usage.inputTokens !== undefined) out["input_tokens"] = usage.inputTokens
  if (usage.outputTokens !== undefined) out["output_tokens"] = usage.outputTokens
  if (usage.totalTokens !== undefined) out["total_tokens"] = usage.totalTokens
  if (usage.cacheReadInputTokens !== undefined) out["cache_read_input_tokens"] = usage.cacheReadInputTokens
  if (usage.cacheWriteInputTokens !== undefined) out["cache_creation_input_tokens"] = usage.cacheWriteInputTokens
  return out
}
