/**
 * Every metric instrument the library records: names, units, descriptions and explicit bucket boundaries as the
 * OpenTelemetry semantic conventions publish them.
 *
 * - GenAI client metrics, `default`: the names of semantic-conventions v1.36–v1.41 (`gen_ai.client.operation.*`,
 *   `gen_ai.client.token.usage`), which instrumentations keep emitting by default.
 * - GenAI client metrics, `latest` (`OTEL_SEMCONV_STABILITY_OPT_IN=gen_ai_latest_experimental`): the names of the
 *   open-telemetry/semantic-conventions-genai repository (development status, unreleased): `client-inference.md`
 *   renames the duration and streaming histograms to `gen_ai.client.inference.*` (PR #521) and
 *   `gen-ai-token-metrics.md` replaces `gen_ai.client.token.usage` by per-direction counters and histograms (#374).
 * - `http.server.request.duration` (stable HTTP conventions).
 *
 * @internal
 */
import { ValueType } from "@opentelemetry/api"
import type { Descriptor } from "./metricsAggregator.js"

/** Seconds: operation duration, time to first chunk, time per output chunk. @internal */
export const durationBuckets: ReadonlyArray<number> = [
  0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92
]

/** Tokens. @internal */
export const tokenBuckets: ReadonlyArray<number> = [
  1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864
]

/** Seconds: `http.server.request.duration`. @internal */
export const httpBuckets: ReadonlyArray<number> = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10]

/** Which GenAI names to emit. @internal */
export type Semconv = "default" | "latest"

const seconds = (name: string, description: string): Descriptor => ({ name, description, unit: "s", valueType: ValueType.DOUBLE })
const tokens = (name: string, description: string): Descriptor => ({ name, description, unit: "{token}", valueType: ValueType.INT })

/** @internal */
export interface GenAiCatalogue {
  readonly duration: Descriptor
  readonly timeToFirstChunk: Descriptor
  readonly timePerOutputChunk: Descriptor
  /** `default`: one histogram, `gen_ai.token.type` = input | output, recorded only for counts observed. */
  readonly tokenUsage: Descriptor | undefined
  /** `latest`: per-direction histograms (with `error.type`) and counters, recorded for every call (0 when unknown). */
  readonly latestTokens: {
    readonly operationInput: Descriptor
    readonly operationOutput: Descriptor
    readonly usageInput: Descriptor
    readonly usageOutput: Descriptor
    readonly usageCacheRead: Descriptor
    readonly usageCacheWrite: Descriptor
    readonly usageReasoning: Descriptor
  } | undefined
}

const firstChunk = "Time to receive the first chunk, measured from when the client issues the generation request to when the first chunk is received in the response stream."
const perChunk = "Time per output chunk, recorded for each chunk received after the first one, measured as the time elapsed from the end of the previous chunk to the end of the current chunk."

/** @internal */
export const genAi: Record<Semconv, GenAiCatalogue> = {
  default: {
    duration: seconds("gen_ai.client.operation.duration", "GenAI operation duration."),
    timeToFirstChunk: seconds("gen_ai.client.operation.time_to_first_chunk", firstChunk),
    timePerOutputChunk: seconds("gen_ai.client.operation.time_per_output_chunk", perChunk),
    tokenUsage: tokens("gen_ai.client.token.usage", "Number of input and output tokens used."),
    latestTokens: undefined
  },
  latest: {
    duration: seconds("gen_ai.client.inference.duration", "GenAI client inference operation duration."),
    timeToFirstChunk: seconds("gen_ai.client.inference.time_to_first_chunk", firstChunk),
    timePerOutputChunk: seconds("gen_ai.client.inference.time_per_output_chunk", perChunk),
    tokenUsage: undefined,
    latestTokens: {
      operationInput: tokens(
        "gen_ai.client.inference.operation.input_tokens",
        "The number of input (prompt) tokens used per inference operation."
      ),
      operationOutput: tokens(
        "gen_ai.client.inference.operation.output_tokens",
        "The number of output (completion) tokens used per inference operation."
      ),
      usageInput: tokens(
        "gen_ai.client.inference.usage.input_tokens",
        "The number of input (prompt) tokens used, including cached tokens."
      ),
      usageOutput: tokens(
        "gen_ai.client.inference.usage.output_tokens",
        "The number of output (completion) tokens used, including reasoning tokens."
      ),
      usageCacheRead: tokens(
        "gen_ai.client.inference.usage.cache_read.input_tokens",
        "The number of input tokens served from a provider-managed cache."
      ),
      usageCacheWrite: tokens(
        "gen_ai.client.inference.usage.cache_write.input_tokens",
        "The number of input tokens written to a provider-managed cache."
      ),
      usageReasoning: tokens(
        "gen_ai.client.inference.usage.reasoning.output_tokens",
        "The number of output tokens used for reasoning (e.g. chain-of-thought, extended thinking)."
      )
    }
  }
}

/** @internal */
export const httpServerRequestDuration: Descriptor = seconds("http.server.request.duration", "Duration of HTTP server requests.")
