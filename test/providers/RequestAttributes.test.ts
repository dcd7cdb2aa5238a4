/**
 * `Api.requestAttributes` of every API: each API's own parameter names become the same GenAI attributes, with the
 * registry's types (stop sequences a string array, choice count only when not 1); values of the wrong type, and
 * bodies of another shape, give no attribute; `responseAttributes` reads OpenAI's service tier and fingerprint.
 */
import { describe, expect, it } from "@effect/vitest"
import { FastCheck } from "effect"
import * as AnthropicMessages from "../../src/providers/AnthropicMessages.js"
import * as GeminiGenerateContent from "../../src/providers/GeminiGenerateContent.js"
import * as OpenAiChat from "../../src/providers/OpenAiChat.js"
import * as OpenAiCompletions from "../../src/providers/OpenAiCompletions.js"
import * as OpenAiResponses from "../../src/providers/OpenAiResponses.js"
import * as A from "../../src/tracing/Attributes.js"

const sampling = {
  [A.GenAiRequestTemperature]: 0.2,
  [A.GenAiRequestTopP]: 0.9
}

describe("Api.requestAttributes", () => {
  it("OpenAI chat: max_completion_tokens over max_tokens, stop string as a list, n, response_format, modalities, service_tier", () => {
    expect(OpenAiChat.api.requestAttributes({
      model: "gpt-4o",
      messages: [],
      max_tokens: 10,
      max_completion_tokens: 200,
      temperature: 0.2,
      top_p: 0.9,
      seed: 42,
      stop: "\n\n",
      frequency_penalty: 0.5,
      presence_penalty: -0.5,
      n: 3,
      response_format: { type: "json_schema", json_schema: { name: "x", schema: {} } },
      service_tier: "flex"
    })).toEqual({
      ...sampling,
      [A.GenAiRequestMaxTokens]: 200,
      [A.GenAiRequestSeed]: 42,
      [A.GenAiRequestStopSequences]: ["\n\n"],
      [A.GenAiRequestFrequencyPenalty]: 0.5,
      [A.GenAiRequestPresencePenalty]: -0.5,
      [A.GenAiRequestChoiceCount]: 3,
      [A.GenAiOutputType]: "json",
      [A.OpenAiRequestServiceTier]: "flex"
    })
    expect(OpenAiChat.api.requestAttributes({ max_tokens: 10, n: 1, modalities: ["text", "audio"], response_format: { type: "text" } })).toEqual({
      [A.GenAiRequestMaxTokens]: 10,
      [A.GenAiOutputType]: "speech"
    })
  })

  it("OpenAI Responses: max_output_tokens, text.format", () => {
    expect(OpenAiResponses.api.requestAttributes({ input: "x", max_output_tokens: 64, temperature: 0.2, top_p: 0.9, text: { format: { type: "text" } } })).toEqual({
      ...sampling,
      [A.GenAiRequestMaxTokens]: 64,
      [A.GenAiOutputType]: "text"
    })
  })

  it("OpenAI legacy completions: the chat sampling names, max_tokens", () => {
    expect(OpenAiCompletions.api.requestAttributes({ prompt: "x", max_tokens: 16, temperature: 0.2, top_p: 0.9, stop: ["a", "b"], n: 2, seed: 7 })).toEqual({
      ...sampling,
      [A.GenAiRequestMaxTokens]: 16,
      [A.GenAiRequestStopSequences]: ["a", "b"],
      [A.GenAiRequestChoiceCount]: 2,
      [A.GenAiRequestSeed]: 7
    })
  })

  it("Anthropic: max_tokens, top_k, stop_sequences, a JSON output_format", () => {
    expect(AnthropicMessages.api.requestAttributes({
      max_tokens: 1024,
      temperature: 0.2,
      top_p: 0.9,
      top_k: 40,
      stop_sequences: ["END"],
      output_format: { type: "json_schema", schema: {} }
    })).toEqual({
      ...sampling,
      [A.GenAiRequestMaxTokens]: 1024,
      [A.GenAiRequestTopK]: 40,
      [A.GenAiRequestStopSequences]: ["END"],
      [A.GenAiOutputType]: "json"
    })
  })

  it("Gemini: generationConfig, responseMimeType and responseModalities", () => {
    expect(GeminiGenerateContent.api.requestAttributes({
      contents: [],
      generationConfig: {
        maxOutputTokens: 300,
        temperature: 0.2,
        topP: 0.9,
        topK: 20,
        seed: 1,
        stopSequences: ["x"],
        frequencyPenalty: 0.1,
        presencePenalty: 0.3,
        candidateCount: 2,
        responseMimeType: "application/json"
      }
    })).toEqual({
      ...sampling,
      [A.GenAiRequestMaxTokens]: 300,
      [A.GenAiRequestTopK]: 20,
      [A.GenAiRequestSeed]: 1,
      [A.GenAiRequestStopSequences]: ["x"],
      [A.GenAiRequestFrequencyPenalty]: 0.1,
      [A.GenAiRequestPresencePenalty]: 0.3,
      [A.GenAiRequestChoiceCount]: 2,
      [A.GenAiOutputType]: "json"
    })
    expect(GeminiGenerateContent.api.requestAttributes({ generationConfig: { responseModalities: ["TEXT", "IMAGE"] } })).toEqual({ [A.GenAiOutputType]: "image" })
  })

  const apis = [OpenAiChat.api, OpenAiResponses.api, OpenAiCompletions.api, AnthropicMessages.api, GeminiGenerateContent.api]

  it.prop("any JSON body: never throws, and every value has a registry type", [FastCheck.jsonValue({ maxDepth: 3 })], ([body]) => {
    for (const api of apis) {
      for (const value of Object.values(api.requestAttributes(body))) {
        const ok = typeof value === "number" ? Number.isFinite(value) : typeof value === "string" || (Array.isArray(value) && value.every((s) => typeof s === "string"))
        expect(ok).toBe(true)
      }
    }
  })

  it("wrong types are left out: a string temperature, a fractional max_tokens, a mixed stop list, NaN-free numbers only", () => {
    expect(OpenAiChat.api.requestAttributes({ temperature: "0.2", max_tokens: 1.5, stop: ["a", 1], seed: 1e300, n: "2" })).toEqual({})
  })
})

describe("Api.responseAttributes", () => {
  it("OpenAI: service tier and system fingerprint when present and not empty", () => {
    const base = { id: "c", object: "chat.completion" as const, created: 1, model: "m", choices: [] }
    expect(OpenAiChat.api.responseAttributes({ ...base, service_tier: "default", system_fingerprint: "fp_1" })).toEqual({
      [A.OpenAiResponseServiceTier]: "default",
      [A.OpenAiResponseSystemFingerprint]: "fp_1"
    })
    expect(OpenAiChat.api.responseAttributes({ ...base, service_tier: null, system_fingerprint: "" })).toEqual({})
  })
})
