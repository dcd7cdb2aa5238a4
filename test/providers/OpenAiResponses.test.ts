import { describe, expect, it } from "@effect/vitest"
import { FastCheck, Option, Schema } from "effect"
import { fileURLToPath } from "node:url"
import { setFlagsFromString } from "node:v8"
import { runInNewContext } from "node:vm"
import { aggregateBytes } from "../../src/providers/Api.js"
import * as OpenAiResponses from "../../src/providers/OpenAiResponses.js"
import type * as Sse from "../../src/Sse.js"
import { byteByByte, everyTwoWaySplit, randomChunking, readSseFiles, utf8 } from "../support/chunking.js"
import {
  expectedFinalResponse,
  expectedPartialResponse,
  responsesSpecArbitrary,
  responsesSse
} from "../support/openaiGen.js"

type Json = Record<string, unknown>

// The seed's events, in its framing: one `data:` line each, no blank line between events.
const CREATED = "data: " + JSON.stringify({
  type: "response.created",
  response: { id: "resp_1", object: "response", created_at: 1741290958, status: "in_progress", output: [], usage: null }
}) + "\n"
const TEXT_DELTA = "data: " + JSON.stringify({
  type: "response.output_text.delta",
  item_id: "msg_1",
  output_index: 0,
  content_index: 0,
  delta: "Hi"
}) + "\n"
const TEXT_DONE = "data: " + JSON.stringify({
  type: "response.output_text.done",
  item_id: "msg_1",
  output_index: 0,
  content_index: 0,
  text: "Hi there!"
}) + "\n"
const COMPLETED = "data: " + JSON.stringify({
  type: "response.completed",
  response: {
    id: "resp_1",
    object: "response",
    created_at: 1741290958,
    status: "completed",
    output: [{
      id: "msg_1",
      type: "message",
      status: "completed",
      role: "assistant",
      content: [{ type: "output_text", text: "Hi there!", annotations: [] }]
    }],
    usage: { input_tokens: 37, output_tokens: 11, total_tokens: 48 }
  }
}) + "\n"

const aggregateText = (...chunks: ReadonlyArray<string>) => OpenAiResponses.aggregate(chunks.map(utf8))

const blankLineSse = (payloads: ReadonlyArray<unknown>): Uint8Array =>
  utf8(payloads.map((p) => `data: ${typeof p === "string" ? p : JSON.stringify(p)}\n\n`).join(""))

const fold = (bytes: Uint8Array) => Option.getOrThrow(aggregateBytes(OpenAiResponses.api, [bytes]))

/** The text of every `output_text` part of every message, joined. */
const outputText = (response: OpenAiResponses.Response): string =>
  response.output
    .flatMap((item) => item.type === "message" ? item["content"] as ReadonlyArray<Json> : [])
    .flatMap((part) => part["type"] === "output_text" ? [part["text"] as string] : [])
    .join("")

describe("OpenAiResponses: the seed's aggregate_openai_responses_stream_chunks cases", () => {
  it("empty → None", () => {
    expect(OpenAiResponses.aggregate([])).toEqual(Option.none())
  })

  it("no completed event → None", () => {
    expect(aggregateText(CREATED, TEXT_DELTA)).toEqual(Option.none())
  })

  it("basic", () => {
    const result = Option.getOrThrow(aggregateText(CREATED, TEXT_DELTA, TEXT_DONE, COMPLETED))
    expect(result.id).toBe("resp_1")
    expect(result.object).toBe("response")
    expect(result.status).toBe("completed")
    expect(result.output).toHaveLength(1)
    expect(result.output[0]?.["role"]).toBe("assistant")
    expect((result.output[0]?.["content"] as ReadonlyArray<Json>)[0]?.["text"]).toBe("Hi there!")
    expect(result.usage).toEqual({ input_tokens: 37, output_tokens: 11, total_tokens: 48 })
  })

  it("split SSE lines", () => {
    const mid = Math.floor(utf8(COMPLETED).length / 2)
    const completed = utf8(COMPLETED)
    const result = OpenAiResponses.aggregate([utf8(CREATED), completed.subarray(0, mid), completed.subarray(mid)])
    expect(Option.map(result, (r) => [r.id, r.status])).toEqual(Option.some(["resp_1", "completed"]))
  })

  it("returns the completed response when several events share one chunk", () => {
    const result = Option.getOrThrow(aggregateText(CREATED + TEXT_DELTA + COMPLETED))
    expect(result.status).toBe("completed")
    expect(result.usage?.total_tokens).toBe(48)
  })

  it("the same at every two-way split and byte by byte", () => {
    const bytes = utf8(CREATED + TEXT_DELTA + TEXT_DONE + COMPLETED)
    const whole = OpenAiResponses.aggregate([bytes])
    for (const split of everyTwoWaySplit(bytes)) expect(OpenAiResponses.aggregate(split)).toEqual(whole)
    expect(OpenAiResponses.aggregate(byteByByte(bytes))).toEqual(whole)
  })
})

const fixtures = new Map(readSseFiles(fileURLToPath(new URL("../fixtures/openai-responses", import.meta.url))))
const fixture = (name: string) => {
  const bytes = fixtures.get(name)
  if (bytes === undefined) throw new Error(`missing fixture ${name}`)
  return fold(bytes)
}

describe("OpenAiResponses: own fixtures (test/fixtures/openai-responses)", () => {
  it("text: multi-byte text, usage with cache and reasoning details", () => {
    const { complete, error, response, skipped } = fixture("text.sse")
    expect([complete, skipped, error]).toEqual([true, 0, Option.none()])
    expect(response.id).toBe("resp_own_text")
    expect(response.model).toBe("gpt-4.1-2025-04-14")
    expect(outputText(response)).toBe("Olá, mundo — 你好 👋")
    expect(OpenAiResponses.api.finishReasons(response)).toEqual(["stop"])
    expect(OpenAiResponses.usage(response)).toEqual({
      inputTokens: 21,
      outputTokens: 9,
      totalTokens: 30,
      cacheReadInputTokens: 5,
      reasoningTokens: 0
    })
  })

  it("function call: arguments parseable, finish reason tool_calls", () => {
    const { response } = fixture("function-call.sse")
    const call = response.output[0]!
    expect([call.type, call["name"], call["call_id"]]).toEqual(["function_call", "get_weather", "call_own_1"])
    expect(JSON.parse(call["arguments"] as string)).toEqual({ location: "Zürich" })
    expect(OpenAiResponses.api.finishReasons(response)).toEqual(["tool_calls"])
  })

  it("reasoning: summary kept as a reasoning item, then the message; reasoning tokens", () => {
    const { response } = fixture("reasoning.sse")
    expect(response.output.map((i) => i.type)).toEqual(["reasoning", "message"])
    expect(response.output[0]?.["summary"]).toEqual([{ type: "summary_text", text: "**Plan** think first" }])
    expect(outputText(response)).toBe("The result is 4.")
    expect(OpenAiResponses.usage(response).reasoningTokens).toBe(128)
  })

  it("incomplete: terminal, with its reason as the finish reason", () => {
    const { complete, response } = fixture("incomplete.sse")
    expect(complete).toBe(true)
    expect(response.status).toBe("incomplete")
    expect(outputText(response)).toBe("Once upon a")
    expect(OpenAiResponses.api.finishReasons(response)).toEqual(["max_output_tokens"])
  })

  it("failed: the error event recorded, response.failed is the response", () => {
    const { complete, error, response } = fixture("failed.sse")
    expect(complete).toBe(true)
    expect(error).toEqual(Option.some({ type: "server_error", message: "The server had an error processing your request." }))
    expect(response.status).toBe("failed")
    expect(response.error).toEqual({ code: "server_error", message: "The server had an error processing your request." })
    expect(OpenAiResponses.api.finishReasons(response)).toEqual(["error"])
  })

  it("truncated (no terminal, no final blank line): the fold keeps the partial snapshot, aggregate gives None", () => {
    const { complete, response } = fixture("truncated-no-terminal.sse")
    expect(complete).toBe(false)
    expect(response.status).toBe("in_progress")
    expect(outputText(response)).toBe("Half of it")
    expect(OpenAiResponses.api.finishReasons(response)).toEqual([])
    expect(OpenAiResponses.aggregate([fixtures.get("truncated-no-terminal.sse")!])).toEqual(Option.none())
  })

  it("unknown event types are ignored, never failing", () => {
    const { complete, response, skipped } = fixture("unknown-events.sse")
    expect([complete, skipped]).toEqual([true, 0])
    expect(outputText(response)).toBe("Fine.")
  })
})

describe("OpenAiResponses: behaviour", () => {
  const created = { type: "response.created", response: { id: "r", object: "response", status: "in_progress", output: [] } }
  const added = (item: Json, output_index = 0) => ({ type: "response.output_item.added", output_index, item })

  it("not JSON, not an object, no type, a lifecycle event without a response, a delta for a missing item: skipped", () => {
    const result = fold(blankLineSse([
      "{nope",
      [1],
      { no: "type" },
      { type: "response.created", response: { id: 1 } },
      created,
      { type: "response.output_text.delta", output_index: 3, content_index: 0, delta: "x" },
      { type: "response.function_call_arguments.delta", output_index: 0, delta: 5 }
    ]))
    expect(result.skipped).toBe(6)
    expect(result.response.id).toBe("r")
  })

  it("deltas before any response.created are ignored (nothing to apply them to)", () => {
    const result = fold(blankLineSse([{ type: "response.output_text.delta", output_index: 0, content_index: 0, delta: "x" }, created]))
    expect(result.skipped).toBe(0)
    expect(result.response.output).toEqual([])
  })

  it("an error event before anything else: recorded, with an empty failed response; aggregate None", () => {
    const error = { type: "error", code: "rate_limit_exceeded", message: "slow down", param: null }
    const result = fold(blankLineSse([error]))
    expect(result.error).toEqual(Option.some({ type: "rate_limit_exceeded", message: "slow down" }))
    expect(result.response).toEqual({ id: "", object: "response", status: "failed", output: [] })
    expect(OpenAiResponses.aggregate([blankLineSse([error])])).toEqual(Option.none())
  })

  it("[DONE] is not an error; later events are ignored", () => {
    const result = fold(blankLineSse([created, "[DONE]", added({ type: "message", content: [] })]))
    expect(result.skipped).toBe(0)
    expect(result.response.output).toEqual([])
  })

  it("refusal, custom tool input, code interpreter code and tool status events build the snapshot", () => {
    const at = (output_index: number) => ({ output_index, item_id: "x" })
    const result = fold(blankLineSse([
      created,
      added({ type: "message", content: [] }),
      { type: "response.content_part.added", ...at(0), content_index: 0, part: { type: "refusal", refusal: "" } },
      { type: "response.refusal.delta", ...at(0), content_index: 0, delta: "No" },
      { type: "response.refusal.delta", ...at(0), content_index: 0, delta: "pe" },
      added({ type: "custom_tool_call", input: "" }, 1),
      { type: "response.custom_tool_call_input.delta", ...at(1), delta: "print(" },
      { type: "response.custom_tool_call_input.delta", ...at(1), delta: "1)" },
      added({ type: "code_interpreter_call", status: "in_progress", code: null }, 2),
      { type: "response.code_interpreter_call_code.delta", ...at(2), delta: "x = 1" },
      { type: "response.code_interpreter_call.interpreting", ...at(2) },
      added({ type: "web_search_call", status: "in_progress" }, 3),
      { type: "response.web_search_call.searching", ...at(3) },
      { type: "response.web_search_call.searching", ...at(2) }
    ]))
    expect(result.skipped).toBe(0)
    expect(result.response.output).toEqual([
      { type: "message", content: [{ type: "refusal", refusal: "Nope" }] },
      { type: "custom_tool_call", input: "print(1)" },
      { type: "code_interpreter_call", status: "interpreting", code: "x = 1" },
      { type: "web_search_call", status: "searching" }
    ])
  })

  it("reasoning text parts go to reasoning items; annotations are placed by index", () => {
    const at = (output_index: number) => ({ output_index, item_id: "x" })
    const annotation = { type: "url_citation", url: "https://example.com", start_index: 0, end_index: 2 }
    const result = fold(blankLineSse([
      created,
      added({ type: "reasoning", summary: [] }),
      { type: "response.content_part.added", ...at(0), content_index: 0, part: { type: "reasoning_text", text: "" } },
      { type: "response.reasoning_text.delta", ...at(0), content_index: 0, delta: "hmm" },
      added({ type: "message", content: [] }, 1),
      { type: "response.content_part.added", ...at(1), content_index: 0, part: { type: "output_text", text: "", annotations: [] } },
      { type: "response.output_text.delta", ...at(1), content_index: 0, delta: "ok" },
      { type: "response.output_text.annotation.added", ...at(1), content_index: 0, annotation_index: 0, annotation }
    ]))
    expect(result.response.output).toEqual([
      { type: "reasoning", summary: [], content: [{ type: "reasoning_text", text: "hmm" }] },
      { type: "message", content: [{ type: "output_text", text: "ok", annotations: [annotation] }] }
    ])
  })
})

describe("OpenAiResponses: api", () => {
  const response = (fields: Json) =>
    Option.getOrThrow(OpenAiResponses.api.decodeResponse({ id: "resp_9", object: "response", output: [], ...fields }))

  it("names the API", () => {
    expect([OpenAiResponses.api.provider, OpenAiResponses.api.operation, OpenAiResponses.api.messageFormat]).toEqual([
      "openai",
      "chat",
      "openai"
    ])
  })

  it("decodeResponse keeps unknown fields and rejects other shapes", () => {
    const body = { id: "resp_9", object: "response", model: "gpt-5", status: "completed", output: [{ type: "message", x: 1 }], extra: [1] }
    expect(OpenAiResponses.api.decodeResponse(body)).toEqual(Option.some(body))
    expect(OpenAiResponses.api.decodeResponse({ id: "c", object: "chat.completion", choices: [] })).toEqual(Option.none())
    expect(OpenAiResponses.api.decodeResponse(null)).toEqual(Option.none())
  })

  it("finish reasons from the status", () => {
    const fr = OpenAiResponses.api.finishReasons
    expect(fr(response({ status: "completed", output: [{ type: "message" }] }))).toEqual(["stop"])
    expect(fr(response({ status: "completed", output: [{ type: "message" }, { type: "function_call" }] }))).toEqual(["tool_calls"])
    expect(fr(response({ status: "incomplete", incomplete_details: { reason: "content_filter" } }))).toEqual(["content_filter"])
    expect(fr(response({ status: "incomplete", incomplete_details: null }))).toEqual(["length"])
    expect(fr(response({ status: "failed" }))).toEqual(["error"])
    expect(fr(response({ status: "cancelled" }))).toEqual(["cancelled"])
    expect(fr(response({ status: "in_progress" }))).toEqual([])
  })

  it("id, model, usage", () => {
    const r = response({ model: "o3", usage: { input_tokens: 5, output_tokens: 7, total_tokens: 12 } })
    expect(OpenAiResponses.api.responseId(r)).toEqual(Option.some("resp_9"))
    expect(OpenAiResponses.api.responseModel(r)).toEqual(Option.some("o3"))
    expect(OpenAiResponses.api.responseModel(response({}))).toEqual(Option.none())
    expect(OpenAiResponses.api.usage(r)).toEqual({ inputTokens: 5, outputTokens: 7, totalTokens: 12 })
  })
})

describe("OpenAiResponses: property — generated streams under random chunking", () => {
  it.prop(
    "aggregate = the terminal response (None without one); the fold's partial snapshot = the deltas joined",
    [responsesSpecArbitrary, FastCheck.nat(), FastCheck.integer({ min: 1, max: 300 })],
    ([spec, seed, maxChunk]) => {
      const chunks = randomChunking(utf8(responsesSse(spec)), seed, maxChunk)
      const final = expectedFinalResponse(spec)
      expect(OpenAiResponses.aggregate(chunks)).toEqual(Option.fromNullable(final))
      const result = Option.getOrThrow(aggregateBytes(OpenAiResponses.api, chunks))
      expect(result.response).toEqual(final ?? expectedPartialResponse(spec))
      expect([result.complete, result.skipped]).toEqual([final !== undefined, 0])
      expect(Schema.is(OpenAiResponses.Response)(result.response)).toBe(true)
    },
    { fastCheck: { numRuns: 300 } }
  )

  it.prop(
    "without the terminal event the snapshot still holds every generated item",
    [responsesSpecArbitrary.map((s) => ({ ...s, terminal: null })), FastCheck.nat()],
    ([spec, seed]) => {
      const result = Option.getOrThrow(aggregateBytes(OpenAiResponses.api, randomChunking(utf8(responsesSse(spec)), seed)))
      expect(result.response).toEqual(expectedPartialResponse(spec))
      expect(result.complete).toBe(false)
      for (const [i, item] of spec.items.entries()) {
        if (item.kind === "function_call") {
          expect(JSON.parse(result.response.output[i]?.["arguments"] as string)).toEqual(item.args.value)
        }
      }
    },
    { fastCheck: { numRuns: 200 } }
  )
})

describe("OpenAiResponses: memory", () => {
  it("1,000,000 events fold with heap growth bounded by the (tiny) output, not the input", () => {
    setFlagsFromString("--expose-gc")
    const gc = runInNewContext("gc") as () => void
    const event = (data: unknown): Sse.Event => ({ event: "message", data: JSON.stringify(data), id: "", retry: undefined })
    const at = { item_id: "msg_1", output_index: 0, content_index: 0 }
    let state = OpenAiResponses.fold.initial()
    for (
      const e of [
        { type: "response.created", response: { id: "r", object: "response", status: "in_progress", output: [] } },
        { type: "response.output_item.added", output_index: 0, item: { type: "message", content: [] } },
        { type: "response.content_part.added", ...at, part: { type: "output_text", text: "", annotations: [] } }
      ]
    ) state = OpenAiResponses.fold.step(state, event(e))
    const delta = event({ type: "response.output_text.delta", ...at, delta: "", logprobs: [], obfuscation: "AbCdEfGh", sequence_number: 7 })
    gc()
    const before = process.memoryUsage().heapUsed
    for (let i = 0; i < 1_000_000; i++) state = OpenAiResponses.fold.step(state, delta)
    gc()
    const growth = process.memoryUsage().heapUsed - before
    expect(Option.map(OpenAiResponses.fold.done(state), (a) => a.response.output.length)).toEqual(Option.some(1))
    expect(growth).toBeLessThan(8 * 1024 * 1024)
  })
})
