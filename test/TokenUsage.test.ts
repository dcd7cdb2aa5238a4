import { describe, expect, it } from "@effect/vitest"
import * as TokenUsage from "../src/TokenUsage.js"

describe("TokenUsage", () => {
  it("OpenAI chat: prompt includes cached tokens; reasoning is part of completion", () => {
    const u = TokenUsage.fromOpenAiChat({
      prompt_tokens: 100,
      completion_tokens: 40,
      total_tokens: 140,
      prompt_tokens_details: { cached_tokens: 64 },
      completion_tokens_details: { reasoning_tokens: 12 }
    })
    expect(u).toEqual({ inputTokens: 100, outputTokens: 40, totalTokens: 140, cacheReadInputTokens: 64, reasoningTokens: 12 })
    expect(TokenUsage.toMlflow(u)).toEqual({ input_tokens: 100, output_tokens: 40, total_tokens: 140, cache_read_input_tokens: 64 })
  })

  it("OpenAI Responses", () => {
    expect(TokenUsage.fromOpenAiResponses({
      input_tokens: 37,
      output_tokens: 11,
      total_tokens: 48,
      input_tokens_details: { cached_tokens: 0 },
      output_tokens_details: { reasoning_tokens: 5 }
    })).toEqual({ inputTokens: 37, outputTokens: 11, totalTokens: 48, cacheReadInputTokens: 0, reasoningTokens: 5 })
  })

  it("Anthropic: cache reads and writes are added back into input", () => {
    const u = TokenUsage.fromAnthropic({ input_tokens: 10, cache_read_input_tokens: 5, cache_creation_input_tokens: 2, output_tokens: 8 })
    expect(u).toEqual({ inputTokens: 17, outputTokens: 8, totalTokens: 25, cacheReadInputTokens: 5, cacheWriteInputTokens: 2 })
    expect(TokenUsage.toMlflow(u)).toEqual({
      input_tokens: 17,
      output_tokens: 8,
      total_tokens: 25,
      cache_read_input_tokens: 5,
      cache_creation_input_tokens: 2
    })
  })

  it("Gemini: thoughts are output, tool-use prompt is input, cached content is reported", () => {
    expect(TokenUsage.fromGemini({
      promptTokenCount: 10,
      candidatesTokenCount: 5,
      thoughtsTokenCount: 7,
      totalTokenCount: 22,
      cachedContentTokenCount: 4
    })).toEqual({ inputTokens: 10, outputTokens: 12, totalTokens: 22, cacheReadInputTokens: 4, reasoningTokens: 7 })
  })

  it("partial and missing usage: absent fields stay absent, never zero", () => {
    expect(TokenUsage.fromAnthropic({ input_tokens: 3 })).toEqual({ inputTokens: 3 })
    expect(TokenUsage.fromOpenAiChat(null)).toEqual({})
    expect(TokenUsage.isEmpty(TokenUsage.fromGemini(undefined))).toBe(true)
    expect(TokenUsage.toMlflow(TokenUsage.empty)).toEqual({})
    // A non-numeric field is not reported, and no total is invented from one side.
    expect(TokenUsage.fromOpenAiChat({ prompt_tokens: "7", completion_tokens: 2 })).toEqual({ outputTokens: 2 })
    expect(TokenUsage.fromOpenAiChat({ prompt_tokens: 7, completion_tokens: 2 })).toEqual({ inputTokens: 7, outputTokens: 2, totalTokens: 9 })
  })
})
