/**
 * The JSON-only embeddings APIs (OpenAI `/embeddings`, Gemini `:embedContent` / `:batchEmbedContents`): responses
 * decode (floats and base64), usage and model are read, request parameters become attributes, and the fold built
 * by `Api.makeJsonOnly` takes a response (or an error) sent as an event.
 */
import { describe, expect, it } from "@effect/vitest"
import { Option } from "effect"
import * as Api from "../../src/providers/Api.js"
import * as GeminiEmbedContent from "../../src/providers/GeminiEmbedContent.js"
import * as OpenAiEmbeddings from "../../src/providers/OpenAiEmbeddings.js"
import * as Attributes from "../../src/tracing/Attributes.js"
import { utf8 } from "../support/chunking.js"

const openAiBody = {
  object: "list",
  data: [
    { object: "embedding", index: 0, embedding: [0.1, -0.2, 0.3] },
    { object: "embedding", index: 1, embedding: Buffer.from(new Float32Array([0.5, 0.25]).buffer).toString("base64") }
  ],
  model: "text-embedding-3-small",
  usage: { prompt_tokens: 8, total_tokens: 8 }
}

describe("OpenAiEmbeddings", () => {
  it("decodes float and base64 vectors; usage is input and total tokens, no output; the model is read", () => {
    const response = Option.getOrThrow(OpenAiEmbeddings.api.decodeResponse(openAiBody))
    expect(OpenAiEmbeddings.usage(response)).toEqual({ inputTokens: 8, totalTokens: 8 })
    expect(OpenAiEmbeddings.api.responseModel(response)).toEqual(Option.some("text-embedding-3-small"))
    expect(OpenAiEmbeddings.api.finishReasons(response)).toEqual([])
    expect(OpenAiEmbeddings.api.operation).toBe(Attributes.GenAiOperations.Embeddings)
    expect(Option.isNone(OpenAiEmbeddings.api.decodeResponse({ ...openAiBody, object: "chat.completion" }))).toBe(true)
  })

  it("request attributes: encoding format and dimensions", () => {
    expect(OpenAiEmbeddings.api.requestAttributes({ model: "m", input: "x", encoding_format: "base64", dimensions: 256 })).toEqual({
      [Attributes.GenAiRequestEncodingFormats]: ["base64"],
      [Attributes.GenAiEmbeddingsDimensionCount]: 256
    })
    expect(OpenAiEmbeddings.api.requestAttributes({ input: "x", dimensions: "256" })).toEqual({})
  })

  it("the fold: a response sent as an event is the response; an error payload is the error; junk is skipped", () => {
    const ok = Option.getOrThrow(Api.aggregateBytes(OpenAiEmbeddings.api, [utf8(`data: junk\n\ndata: ${JSON.stringify(openAiBody)}\n\n`)]))
    expect([ok.complete, ok.skipped, ok.response.data.length]).toEqual([true, 1, 2])
    const failed = Option.getOrThrow(Api.aggregateBytes(OpenAiEmbeddings.api, [utf8(`data: {"error":{"type":"server_error","message":"boom"}}\n\n`)]))
    expect([failed.complete, failed.error]).toEqual([false, Option.some({ type: "server_error", message: "boom" })])
    expect(OpenAiEmbeddings.aggregate([utf8("data: {}\n\n")])).toEqual(Option.none())
  })
})

describe("GeminiEmbedContent", () => {
  const single = { embedding: { values: [0.1, 0.2] } }
  const batch = { embeddings: [{ values: [0.1] }, { values: [0.2] }], usageMetadata: { promptTokenCount: 6, totalTokenCount: 6 } }

  it("decodes both response shapes; usage only when usageMetadata is reported", () => {
    const one = Option.getOrThrow(GeminiEmbedContent.api.decodeResponse(single))
    expect(GeminiEmbedContent.usage(one)).toEqual({})
    const many = Option.getOrThrow(GeminiEmbedContent.api.decodeResponse(batch))
    expect(GeminiEmbedContent.usage(many)).toEqual({ inputTokens: 6, totalTokens: 6 })
    expect(Option.isNone(GeminiEmbedContent.api.decodeResponse({ candidates: [] }))).toBe(true)
    expect([GeminiEmbedContent.api.provider, GeminiEmbedContent.api.operation]).toEqual(["gcp.gemini", "embeddings"])
  })

  it("request attributes: outputDimensionality, single or batch", () => {
    const expected = { [Attributes.GenAiEmbeddingsDimensionCount]: 64 }
    expect(GeminiEmbedContent.api.requestAttributes({ content: { parts: [{ text: "x" }] }, outputDimensionality: 64 })).toEqual(expected)
    expect(GeminiEmbedContent.api.requestAttributes({ requests: [{ content: { parts: [] }, outputDimensionality: 64 }] })).toEqual(expected)
    expect(GeminiEmbedContent.api.requestAttributes(null)).toEqual({})
  })
})
