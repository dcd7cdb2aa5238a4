import { describe, expect, it } from "@effect/vitest"
import { FastCheck, Option, Schema } from "effect"
import { fileURLToPath } from "node:url"
import { setFlagsFromString } from "node:v8"
import { runInNewContext } from "node:vm"
import { aggregateBytes } from "../../src/providers/Api.js"
import * as GeminiGenerateContent from "../../src/providers/GeminiGenerateContent.js"
import { parseJsonPath } from "../../src/providers/internal/jsonPath.js"
import * as streamError from "../../src/providers/internal/streamError.js"
import type * as Sse from "../../src/Sse.js"
import { byteByByte, everyTwoWaySplit, randomChunking, readSseFiles, splitAt, utf8 } from "../support/chunking.js"
import { expectedGemini, expectedGeminiComplete, geminiSpecArbitrary, geminiSse, geminiSseEvent } from "../support/geminiGen.js"

type Json = Record<string, unknown>

// ---------------------------------------------------------------------------------------------------------------
// The seed's stream builders (MLflow tests): one `data:` line per chunk and NO blank line between chunks.
// ---------------------------------------------------------------------------------------------------------------

const line = (chunk: Json): Uint8Array => utf8(`data: ${JSON.stringify(chunk)}\n`)

const textChunk = (text: string, finishReason?: string | null): Uint8Array => {
  const candidate: Json = { content: { parts: [{ text }], role: "model" } }
  if (finishReason) candidate["finishReason"] = finishReason
  return line({ candidates: [candidate] })
}

const aggregate = (chunks: ReadonlyArray<Uint8Array>) => Option.getOrThrow(GeminiGenerateContent.aggregate(chunks))

const candidate0 = (response: GeminiGenerateContent.GenerateContentResponse) => response.candidates![0]!

describe("GeminiGenerateContent: the seed's aggregate_gemini_stream_generate_content_chunks cases", () => {
  it("empty input → None", () => {
    expect(GeminiGenerateContent.aggregate([])).toEqual(Option.none())
  })

  it("no parseable events (a ping name and [DONE]) → None", () => {
    expect(GeminiGenerateContent.aggregate([utf8("event: ping\n"), utf8("data: [DONE]\n")])).toEqual(Option.none())
  })

  it("text", () => {
    const result = aggregate([
      textChunk("Hello"),
      textChunk(" world", "STOP"),
      line({ usageMetadata: { promptTokenCount: 10, candidatesTokenCount: 5, totalTokenCount: 15 } })
    ])
    expect(result.candidates).toHaveLength(1)
    expect(candidate0(result).content?.parts).toEqual([{ text: "Hello world" }])
    expect(candidate0(result).content?.role).toBe("model")
    expect(candidate0(result).finishReason).toBe("STOP")
    expect(result.usageMetadata).toEqual({ promptTokenCount: 10, candidatesTokenCount: 5, totalTokenCount: 15 })
  })

  it("tool call", () => {
    const result = aggregate([
      line({
        candidates: [{
          content: { parts: [{ functionCall: { name: "get_weather", args: { city: "Paris" } } }], role: "model" },
          finishReason: "STOP",
          index: 0
        }]
      }),
      line({ usageMetadata: { promptTokenCount: 8, candidatesTokenCount: 12, totalTokenCount: 20 } })
    ])
    expect(candidate0(result).content?.parts).toEqual([{ functionCall: { name: "get_weather", args: { city: "Paris" } } }])
    expect(candidate0(result).finishReason).toBe("STOP")
  })

  it("a data line split across chunks", () => {
    const bytes = textChunk("Hi", "STOP")
    const mid = Math.floor(bytes.length / 2)
    expect(candidate0(aggregate([bytes.subarray(0, mid), bytes.subarray(mid)])).content?.parts).toEqual([{ text: "Hi" }])
  })

  const table: ReadonlyArray<readonly [ReadonlyArray<string | null>, string | null]> = [
    [[null, null, "STOP"], "STOP"],
    [[null, "stop", null], "stop"],
    [[null, null, null], null]
  ]
  for (const [reasons, expected] of table) {
    it(`finish reasons ${JSON.stringify(reasons)} → ${JSON.stringify(expected)}`, () => {
      const result = aggregate(reasons.map((reason, i) => textChunk(`t${i}`, reason)))
      expect(candidate0(result).finishReason).toBe(expected)
    })
  }
})

// ---------------------------------------------------------------------------------------------------------------
// Own fixtures: key fields, read by hand from each file
// ---------------------------------------------------------------------------------------------------------------

const fixtures = new Map(readSseFiles(fileURLToPath(new URL("../fixtures/gemini", import.meta.url))))

const fixture = (name: string) => {
  const bytes = fixtures.get(name)
  if (bytes === undefined) throw new Error(`missing fixture ${name}`)
  return Option.getOrThrow(aggregateBytes(GeminiGenerateContent.api, [bytes]))
}

const parts = (name: string, index = 0) => fixture(name).response.candidates![index]!.content!.parts

describe("GeminiGenerateContent: own fixtures (test/fixtures/gemini)", () => {
  it("has them all", () => {
    expect([...fixtures.keys()]).toEqual([
      "bad-input.sse",
      "blocked-prompt.sse",
      "error-midstream.sse",
      "function-call-signature.sse",
      "multi-candidate.sse",
      "parallel-calls.sse",
      "text.sse",
      "thinking.sse",
      "truncated.sse",
      "usage-mid-stream.sse",
      "vertex-streamed-args.sse"
    ])
  })

  it("text.sse: CRLF framing, text joined, last usage, modelVersion and responseId", () => {
    const result = fixture("text.sse")
    expect(result.complete).toBe(true)
    expect(result.skipped).toBe(0)
    expect(result.response).toEqual({
      candidates: [{ content: { parts: [{ text: "Rivers run to the sea; die Flüsse fließen 🌊." }], role: "model" }, finishReason: "STOP" }],
      usageMetadata: {
        promptTokenCount: 9,
        candidatesTokenCount: 14,
        totalTokenCount: 23,
        promptTokensDetails: [{ modality: "TEXT", tokenCount: 9 }],
        candidatesTokensDetails: [{ modality: "TEXT", tokenCount: 14 }]
      },
      modelVersion: "gemini-2.0-flash",
      responseId: "fixtureTextResponse0001"
    })
    expect(GeminiGenerateContent.api.responseId(result.response)).toEqual(Option.some("fixtureTextResponse0001"))
    expect(GeminiGenerateContent.api.responseModel(result.response)).toEqual(Option.some("gemini-2.0-flash"))
  })

  it("thinking.sse: thought parts merged apart from the answer, the signature kept on the answer", () => {
    expect(parts("thinking.sse")).toEqual([
      { text: "**Weighing options**\n\nThe user asks which is heavier. A kilo is a kilo either way.", thought: true },
      { text: "Neither: both weigh one kilogram.", thoughtSignature: "CiQB0e2Kb3ZpeHR1cmUtc2lnbmF0dXJlLW5vdC1yZWFs" }
    ])
    const result = fixture("thinking.sse")
    expect(GeminiGenerateContent.usage(result.response)).toEqual({
      inputTokens: 12,
      outputTokens: 7 + 83,
      totalTokens: 102,
      reasoningTokens: 83
    })
  })

  it("function-call-signature.sse: the call with its signature, then the empty text part, in arrival order", () => {
    expect(parts("function-call-signature.sse")).toEqual([
      { functionCall: { name: "get_time", args: { zone: "Europe/Paris" } }, thoughtSignature: "EpwCCpkCAXLI2nxfixture+signature/for+tests==" },
      { text: "" }
    ])
    expect(fixture("function-call-signature.sse").response.candidates![0]!.index).toBe(0)
  })

  it("parallel-calls.sse: text, then both calls in order", () => {
    expect(parts("parallel-calls.sse")).toEqual([
      { text: "Checking both cities." },
      { functionCall: { name: "weather", args: { city: "Oslo" } } },
      { functionCall: { name: "weather", args: { city: "Lima", units: ["C", "F"] } } }
    ])
    expect(GeminiGenerateContent.api.finishReasons(fixture("parallel-calls.sse").response)).toEqual(["STOP"])
  })

  it("multi-candidate.sse: candidates by index, each with its finish reason and its own fields", () => {
    const result = fixture("multi-candidate.sse")
    expect(result.complete).toBe(true)
    expect(result.response.candidates).toEqual([
      {
        index: 0,
        content: { parts: [{ text: "Red is warm." }], role: "model" },
        finishReason: "STOP",
        safetyRatings: [{ category: "HARM_CATEGORY_HARASSMENT", probability: "NEGLIGIBLE" }]
      },
      { index: 1, content: { parts: [{ text: "Blue is calm." }], role: "model" }, finishReason: "MAX_TOKENS" }
    ])
    expect(GeminiGenerateContent.api.finishReasons(result.response)).toEqual(["STOP", "MAX_TOKENS"])
  })

  it("usage-mid-stream.sse: the last running total, never a sum", () => {
    const result = fixture("usage-mid-stream.sse")
    expect(result.response.usageMetadata).toEqual({
      promptTokenCount: 5,
      candidatesTokenCount: 5,
      totalTokenCount: 10,
      cachedContentTokenCount: 4,
      serviceTier: "standard"
    })
    expect(GeminiGenerateContent.usage(result.response)).toEqual({
      inputTokens: 5,
      outputTokens: 5,
      totalTokens: 10,
      cacheReadInputTokens: 4
    })
    expect(parts("usage-mid-stream.sse")).toEqual([{ text: "one, two, three" }])
  })

  it("truncated.sse: partial text, finishReason null, incomplete", () => {
    const result = fixture("truncated.sse")
    expect(result.complete).toBe(false)
    expect(result.response.candidates![0]!.finishReason).toBeNull()
    expect(parts("truncated.sse")).toEqual([{ text: "The first half of an answer" }])
    expect(GeminiGenerateContent.api.finishReasons(result.response)).toEqual([])
  })

  it("vertex-streamed-args.sse: partialArgs assembled into args (strings joined, numbers, booleans, arrays, null)", () => {
    expect(parts("vertex-streamed-args.sse")).toEqual([
      {
        functionCall: {
          name: "book_table",
          args: { restaurant: "Chez Léon", party: { size: 4, highChair: true }, times: ["19:00", "19:30"], note: null }
        },
        thoughtSignature: "CiMBjz1rXfixtureSignatureForVertexArgs"
      },
      { functionCall: { name: "notify", args: { channel: "sms" } } }
    ])
    const result = fixture("vertex-streamed-args.sse")
    expect(result.complete).toBe(true)
    expect(result.response["createTime"]).toBe("2026-03-01T12:00:00.000000Z")
  })

  it("error-midstream.sse: the error payload is recorded, the partial response kept", () => {
    const result = fixture("error-midstream.sse")
    expect(result.error).toEqual(Option.some({ type: "UNAVAILABLE", message: "The model is overloaded. Please try again later." }))
    expect(result.complete).toBe(false)
    expect(parts("error-midstream.sse")).toEqual([{ text: "Starting the report" }])
    expect(result.response["error"]).toBeUndefined()
  })

  it("blocked-prompt.sse: no candidate, prompt feedback and usage kept, complete", () => {
    const result = fixture("blocked-prompt.sse")
    expect(result.complete).toBe(true)
    expect(result.response).toEqual({
      candidates: [],
      promptFeedback: { blockReason: "PROHIBITED_CONTENT" },
      usageMetadata: { promptTokenCount: 11, totalTokenCount: 11 },
      modelVersion: "gemini-2.5-flash",
      responseId: "fixtureBlocked0010"
    })
  })

  it("bad-input.sse: not JSON, wrong shapes and arrays skipped and counted, the rest kept", () => {
    const result = fixture("bad-input.sse")
    expect(result.skipped).toBe(4)
    expect(result.complete).toBe(true)
    expect(result.response.candidates).toEqual([{
      content: { parts: [{ text: "ok then done" }], role: "model" },
      finishReason: "STOP",
      citationMetadata: { citations: [{ startIndex: 0, endIndex: 3, uri: "https://example.com" }] }
    }])
  })
})

// ---------------------------------------------------------------------------------------------------------------
// Behaviour
// ---------------------------------------------------------------------------------------------------------------

const chunks = (...payloads: ReadonlyArray<Json>): Uint8Array => utf8(payloads.map((p) => geminiSseEvent(p)).join(""))

const foldChunks = (bytes: Uint8Array) => Option.getOrThrow(aggregateBytes(GeminiGenerateContent.api, [bytes]))

const withParts = (parts: ReadonlyArray<Json>, extra: Json = {}): Json => ({ candidates: [{ content: { parts, role: "model" }, ...extra }] })

describe("GeminiGenerateContent: behaviour", () => {
  it("adjacent text merges only when the thought flag matches; other parts are never merged", () => {
    const result = foldChunks(chunks(
      withParts([{ text: "a", thought: true }, { text: "b", thought: true }]),
      withParts([{ text: "c" }, { text: "d", thought: false }]),
      withParts([{ inlineData: { mimeType: "image/png", data: "AAAA" } }]),
      withParts([{ text: "e" }]),
      withParts([{ text: "f", thought: true }])
    ))
    expect(result.response.candidates![0]!.content!.parts).toEqual([
      { text: "ab", thought: true },
      { text: "cd" },
      { inlineData: { mimeType: "image/png", data: "AAAA" } },
      { text: "e" },
      { text: "f", thought: true }
    ])
  })

  it("a second signature starts a new part instead of overwriting the first", () => {
    const result = foldChunks(chunks(
      withParts([{ text: "x", thoughtSignature: "s1" }]),
      withParts([{ text: "y" }]),
      withParts([{ text: "z", thoughtSignature: "s2" }])
    ))
    expect(result.response.candidates![0]!.content!.parts).toEqual([
      { text: "xy", thoughtSignature: "s1" },
      { text: "z", thoughtSignature: "s2" }
    ])
  })

  it("candidates without index are placed by position; the last non-null field value wins", () => {
    const result = foldChunks(chunks(
      { candidates: [{ content: { parts: [{ text: "a" }] }, safetyRatings: [1] }, { content: { parts: [{ text: "b" }] } }] },
      { candidates: [{ content: { parts: [{ text: "c" }] }, finishReason: null, safetyRatings: [2] }, { content: { parts: [{ text: "d" }], role: "model" }, finishReason: "STOP" }] }
    ))
    expect(result.response.candidates).toEqual([
      { content: { parts: [{ text: "ac" }] }, finishReason: null, safetyRatings: [2] },
      { content: { parts: [{ text: "bd" }], role: "model" }, finishReason: "STOP" }
    ])
    expect(result.complete).toBe(false)
  })

  it("usageMetadata: the last one seen, a null never erases it; usage alone is a response", () => {
    const result = foldChunks(chunks(
      { usageMetadata: { promptTokenCount: 1, totalTokenCount: 1 } },
      { usageMetadata: { promptTokenCount: 1, candidatesTokenCount: 2, totalTokenCount: 3 } },
      { usageMetadata: null, modelVersion: "m" }
    ))
    expect(result.response).toEqual({
      candidates: [],
      usageMetadata: { promptTokenCount: 1, candidatesTokenCount: 2, totalTokenCount: 3 },
      modelVersion: "m"
    })
  })

  it("an error before anything else: the fold reports it, aggregate gives None", () => {
    const bytes = chunks({ error: { code: 429, message: "Resource exhausted", status: "RESOURCE_EXHAUSTED" } })
    const result = foldChunks(bytes)
    expect(result.error).toEqual(Option.some({ type: "RESOURCE_EXHAUSTED", message: "Resource exhausted" }))
    expect(GeminiGenerateContent.aggregate([bytes])).toEqual(Option.none())
    expect(streamError.fromGoogle({ code: 500, message: "x" })).toEqual({ type: "500", message: "x" })
    expect(streamError.fromGoogle("plain")).toEqual({ type: "error", message: "plain" })
  })

  it("a streamed call is closed by any other part, even without its terminal fragment", () => {
    const result = foldChunks(chunks(
      withParts([{ functionCall: { name: "f", willContinue: true } }]),
      withParts([{ functionCall: { partialArgs: [{ jsonPath: "$.a", stringValue: "1", willContinue: true }], willContinue: true } }]),
      withParts([{ text: "after" }]),
      withParts([{ functionCall: { name: "g", args: { b: 2 } } }], { finishReason: "STOP" })
    ))
    expect(result.response.candidates![0]!.content!.parts).toEqual([
      { functionCall: { name: "f", args: { a: "1" } } },
      { text: "after" },
      { functionCall: { name: "g", args: { b: 2 } } }
    ])
  })

  it("JSONPath: bracket keys, indexes, nesting; unsupported or prototype paths are ignored", () => {
    expect(parseJsonPath("$.a.b[2]['c d'][\"e\"]")).toEqual(["a", "b", 2, "c d", "e"])
    expect(parseJsonPath("$")).toEqual([])
    expect(parseJsonPath("a.b")).toBeUndefined()
    expect(parseJsonPath("$..a")).toBeUndefined()
    expect(parseJsonPath("$[*]")).toBeUndefined()
    expect(parseJsonPath("$.__proto__.x")).toBeUndefined()
    const result = foldChunks(chunks(withParts([{
      functionCall: {
        name: "f",
        partialArgs: [
          { jsonPath: "$.__proto__.polluted", boolValue: true },
          { jsonPath: "$..bad", numberValue: 1 },
          { jsonPath: "$.ok", numberValue: 1 }
        ]
      }
    }])))
    expect(({} as Json)["polluted"]).toBeUndefined()
    expect(result.response.candidates![0]!.content!.parts).toEqual([{ functionCall: { name: "f", args: { ok: 1 } } }])
  })

  it("a result is a snapshot: later chunks never change it", () => {
    const state = GeminiGenerateContent.fold.initial()
    const step = (p: Json) => GeminiGenerateContent.fold.step(state, { event: "message", data: JSON.stringify(p), id: "", retry: undefined })
    step(withParts([{ text: "a" }]))
    step(withParts([{ functionCall: { name: "f", willContinue: true } }]))
    step(withParts([{ functionCall: { partialArgs: [{ jsonPath: "$.x", stringValue: "1", willContinue: true }], willContinue: true } }]))
    const first = Option.getOrThrow(GeminiGenerateContent.fold.done(state))
    const copy = structuredClone(first)
    step(withParts([{ functionCall: { partialArgs: [{ jsonPath: "$.x", stringValue: "2" }, { jsonPath: "$.y.z", numberValue: 3 }] } }]))
    step(withParts([{ text: "b" }], { finishReason: "STOP" }))
    expect(first).toEqual(copy)
    expect(Option.getOrThrow(GeminiGenerateContent.fold.done(state)).response.candidates![0]!.content!.parts).toEqual([
      { text: "a" },
      { functionCall: { name: "f", args: { x: "12", y: { z: 3 } } } },
      { text: "b" }
    ])
  })
})

describe("GeminiGenerateContent: api", () => {
  const body = {
    candidates: [{ content: { parts: [{ text: "hi" }], role: "model" }, finishReason: "STOP", index: 0, avgLogprobs: -0.1 }],
    usageMetadata: { promptTokenCount: 4, candidatesTokenCount: 1, totalTokenCount: 5, thoughtsTokenCount: 0 },
    modelVersion: "gemini-2.5-flash",
    responseId: "abc"
  }

  it("names the provider, operation and message format", () => {
    expect([GeminiGenerateContent.api.provider, GeminiGenerateContent.api.operation, GeminiGenerateContent.api.messageFormat]).toEqual([
      "gcp.gemini",
      "generate_content",
      "gemini"
    ])
  })

  it("decodes a non-streaming body, keeping unknown fields; anything else is None", () => {
    expect(GeminiGenerateContent.api.decodeResponse(body)).toEqual(Option.some(body))
    expect(GeminiGenerateContent.api.decodeResponse({ id: "msg", type: "message", content: [] })).toEqual(Option.none())
    expect(GeminiGenerateContent.api.decodeResponse({ candidates: "no" })).toEqual(Option.none())
    expect(GeminiGenerateContent.api.decodeResponse(null)).toEqual(Option.none())
  })

  it("reads id, model, finish reasons and usage", () => {
    const response = Option.getOrThrow(GeminiGenerateContent.api.decodeResponse(body))
    expect(GeminiGenerateContent.api.responseId(response)).toEqual(Option.some("abc"))
    expect(GeminiGenerateContent.api.responseModel(response)).toEqual(Option.some("gemini-2.5-flash"))
    expect(GeminiGenerateContent.api.finishReasons(response)).toEqual(["STOP"])
    expect(GeminiGenerateContent.api.usage(response)).toEqual({ inputTokens: 4, outputTokens: 1, totalTokens: 5, reasoningTokens: 0 })
  })

  it("every aggregate of the own fixtures is a valid GenerateContentResponse; every chunk a valid chunk", () => {
    for (const name of fixtures.keys()) {
      expect(Schema.is(GeminiGenerateContent.GenerateContentResponse)(fixture(name).response)).toBe(true)
    }
    const decode = Schema.decodeUnknownEither(GeminiGenerateContent.GenerateContentResponseChunk)
    for (const name of ["text.sse", "thinking.sse", "vertex-streamed-args.sse", "multi-candidate.sse"]) {
      for (const block of new TextDecoder().decode(fixtures.get(name)!).split(/\r?\n\r?\n/)) {
        if (block.startsWith("data: ")) expect(decode(JSON.parse(block.slice(6)))._tag).toBe("Right")
      }
    }
  })
})

// ---------------------------------------------------------------------------------------------------------------
// Chunking, properties, memory
// ---------------------------------------------------------------------------------------------------------------

describe("GeminiGenerateContent: split cuts", () => {
  it("every two-way split, and byte by byte, of a fixture give the same aggregate", () => {
    const bytes = fixtures.get("vertex-streamed-args.sse")!
    const whole = foldChunks(bytes)
    for (const split of everyTwoWaySplit(bytes)) expect(aggregateBytes(GeminiGenerateContent.api, split)).toEqual(Option.some(whole))
    expect(aggregateBytes(GeminiGenerateContent.api, byteByByte(bytes))).toEqual(Option.some(whole))
    expect(aggregateBytes(GeminiGenerateContent.api, splitAt(fixtures.get("text.sse")!, [1, 2, 50, 51]))).toEqual(
      Option.some(fixture("text.sse"))
    )
  })
})

describe("GeminiGenerateContent: property — generated streams under random chunking", () => {
  it.prop(
    "the aggregate equals the generator's response (candidates, thoughts, signatures, calls whole or streamed, usage)",
    [geminiSpecArbitrary, FastCheck.nat(), FastCheck.integer({ min: 1, max: 300 })],
    ([spec, seed, maxChunk]) => {
      const bytes = utf8(geminiSse(spec))
      const result = Option.getOrThrow(aggregateBytes(GeminiGenerateContent.api, randomChunking(bytes, seed, maxChunk)))
      expect(result.response).toEqual(expectedGemini(spec))
      expect(result.complete).toBe(expectedGeminiComplete(spec))
      expect(result.skipped).toBe(0)
      expect(result.error).toEqual(Option.none())
      expect(Schema.is(GeminiGenerateContent.GenerateContentResponse)(result.response)).toBe(true)
    },
    { fastCheck: { numRuns: 300 } }
  )

  it.prop(
    "the seed's framing (data lines, no blank lines) folds to the same response",
    [geminiSpecArbitrary, FastCheck.nat()],
    ([spec, seed]) => {
      const packed = utf8(geminiSse({ ...spec, crlf: false }).split("\n\n").filter((b) => b !== "").map((b) => b + "\n").join(""))
      expect(GeminiGenerateContent.aggregate(randomChunking(packed, seed, 97))).toEqual(Option.some(expectedGemini(spec)))
    },
    { fastCheck: { numRuns: 200 } }
  )
})

describe("GeminiGenerateContent: memory", () => {
  it("1,000,000 chunks fold with heap growth bounded by the (tiny) output, not the input", () => {
    setFlagsFromString("--expose-gc")
    const gc = runInNewContext("gc") as () => void
    const event: Sse.Event = {
      event: "message",
      data: JSON.stringify({
        candidates: [{ content: { parts: [{ text: "" }], role: "model" }, index: 0 }],
        usageMetadata: { promptTokenCount: 3, totalTokenCount: 3 },
        modelVersion: "gemini-2.5-flash",
        responseId: "mem"
      }),
      id: "",
      retry: undefined
    }
    let state = GeminiGenerateContent.fold.initial()
    state = GeminiGenerateContent.fold.step(state, event)
    gc()
    const before = process.memoryUsage().heapUsed
    for (let i = 0; i < 1_000_000; i++) state = GeminiGenerateContent.fold.step(state, event)
    gc()
    const growth = process.memoryUsage().heapUsed - before
    const result = Option.getOrThrow(GeminiGenerateContent.fold.done(state))
    expect(result.response.candidates![0]!.content!.parts).toEqual([{ text: "" }])
    expect(growth).toBeLessThan(8 * 1024 * 1024)
  })
})
