/**
 * OpenAI legacy Completions: the fold rebuilds the `text_completion` of generated streams (choices interleaved,
 * logprobs concatenated, include_usage), at any split; an error payload is recorded; the non-streamed body
 * decodes.
 */
import { describe, expect, it } from "@effect/vitest"
import { FastCheck, Option } from "effect"
import { readFileSync } from "node:fs"
import * as Api from "../../src/providers/Api.js"
import * as OpenAiCompletions from "../../src/providers/OpenAiCompletions.js"
import * as Attributes from "../../src/tracing/Attributes.js"
import { byteByByte, everyTwoWaySplit, randomChunking, utf8 } from "../support/chunking.js"
import * as Gen from "../support/completionsGen.js"

const fixture = (name: string) => new Uint8Array(readFileSync(new URL(`../fixtures/openai-completions/${name}`, import.meta.url)))

describe("OpenAiCompletions: the fold", () => {
  it.prop("generated streams under random chunking give the generator's completion", [Gen.specArb, FastCheck.integer()], ([spec, seed]) => {
    const bytes = utf8(Gen.sse(spec))
    const result = OpenAiCompletions.aggregate(randomChunking(bytes, seed))
    expect(result).toEqual(Option.some(Gen.expected(spec)))
    const full = Option.getOrThrow(Api.aggregateBytes(OpenAiCompletions.api, [bytes]))
    expect(full.complete).toBe(true)
    expect(full.skipped).toBe(0)
  }, { fastCheck: { numRuns: 150 } })

  it.prop("aggregateChunks over the parsed chunks equals the byte fold, and leaves the chunks untouched", [Gen.specArb], ([spec]) => {
    const chunks = Gen.chunks(spec) as unknown as Array<OpenAiCompletions.CompletionChunk>
    const before = structuredClone(chunks)
    expect(OpenAiCompletions.aggregateChunks(chunks)).toEqual(OpenAiCompletions.aggregate([utf8(Gen.sse(spec))]))
    expect(chunks).toEqual(before)
  }, { fastCheck: { numRuns: 100 } })

  it("every two-way split and byte by byte of the fixtures give the same aggregate", () => {
    for (const name of ["text.sse", "n2-logprobs-usage.sse", "error-midstream.sse"]) {
      const bytes = fixture(name)
      const whole = Api.aggregateBytes(OpenAiCompletions.api, [bytes])
      for (const split of everyTwoWaySplit(bytes)) expect(Api.aggregateBytes(OpenAiCompletions.api, split)).toEqual(whole)
      expect(Api.aggregateBytes(OpenAiCompletions.api, byteByByte(bytes))).toEqual(whole)
    }
  })

  it("n=2 with include_usage: both choices, usage, fingerprint; a usage-only chunk is not skipped", () => {
    const result = Option.getOrThrow(Api.aggregateBytes(OpenAiCompletions.api, [fixture("n2-logprobs-usage.sse")]))
    const completion = result.response
    expect(completion.choices.map((c) => [c.index, c.text, c.finish_reason])).toEqual([[0, "Hello", "stop"], [1, "Hi there!", "length"]])
    expect(completion.choices[1]!.logprobs?.text_offset).toEqual([0, 2, 8])
    expect(OpenAiCompletions.usage(result.response)).toEqual({ inputTokens: 5, outputTokens: 5, totalTokens: 10 })
    expect(OpenAiCompletions.api.finishReasons(result.response)).toEqual(["stop", "length"])
    expect(OpenAiCompletions.api.responseAttributes(result.response)).toEqual({ [Attributes.OpenAiResponseSystemFingerprint]: "fp_44709d6fcb" })
    expect([result.complete, result.skipped]).toEqual([true, 0])
  })

  it("an error payload mid-stream is recorded; the partial text is kept and the aggregate is not complete", () => {
    const result = Option.getOrThrow(Api.aggregateBytes(OpenAiCompletions.api, [fixture("error-midstream.sse")]))
    expect(result.error).toEqual(Option.some({ type: "server_error", message: "The server had an error while processing your request." }))
    expect(result.response.choices[0]!.text).toBe("Half")
    expect(result.complete).toBe(false)
  })

  it("data that is not JSON, or JSON of another shape, is skipped and counted", () => {
    const bytes = utf8(`data: not json\n\ndata: {"choices":"x"}\n\n${Gen.sse({ choices: [{ pieces: ["a"], finishReason: "stop", logprobs: false }], includeUsage: false, fingerprint: undefined, order: [0] })}`)
    const result = Option.getOrThrow(Api.aggregateBytes(OpenAiCompletions.api, [bytes]))
    expect([result.skipped, result.response.choices[0]!.text, result.complete]).toEqual([2, "a", true])
  })

  it("the non-streamed body decodes; another API's body does not", () => {
    const body = Gen.expected({ choices: [{ pieces: ["ok"], finishReason: "stop", logprobs: false }], includeUsage: true, fingerprint: undefined, order: [0] })
    expect(OpenAiCompletions.api.decodeResponse(body)).toEqual(Option.some(body))
    expect(Option.isNone(OpenAiCompletions.api.decodeResponse({ ...body, object: "chat.completion" }))).toBe(true)
    expect(OpenAiCompletions.api.operation).toBe("text_completion")
  })
})
