import { describe, expect, it } from "@effect/vitest"
import { FastCheck, Option, Schema } from "effect"
import { fileURLToPath } from "node:url"
import { setFlagsFromString } from "node:v8"
import { runInNewContext } from "node:vm"
import * as AnthropicMessages from "../../src/providers/AnthropicMessages.js"
import { aggregateBytes } from "../../src/providers/Api.js"
import { readFastDelta } from "../../src/providers/internal/anthropicFastDelta.js"
import type * as Sse from "../../src/Sse.js"
import {
  anthropicSpecArbitrary,
  anthropicSse,
  anthropicSseEvent,
  expectedAnthropic,
  expectedAnthropicComplete
} from "../support/anthropicGen.js"
import { byteByByte, everyTwoWaySplit, randomChunking, readSseFiles, splitAt, utf8 } from "../support/chunking.js"
import { textArbitrary } from "../support/openaiGen.js"

type Json = Record<string, unknown>

// ---------------------------------------------------------------------------------------------------------------
// The seed's stream builders (MLflow tests): one `data:` line per event and NO blank line between events.
// ---------------------------------------------------------------------------------------------------------------

const line = (event: Json): Uint8Array => utf8(`data: ${JSON.stringify(event)}\n`)

const msgStart = (id: string, model: string, inputTokens?: number) =>
  line({
    type: "message_start",
    message: { id, model, role: "assistant", usage: inputTokens === undefined ? {} : { input_tokens: inputTokens } }
  })

const textBlockStart = (index: number) =>
  line({ type: "content_block_start", index, content_block: { type: "text", text: "" } })

const textDelta = (index: number, text: string) =>
  line({ type: "content_block_delta", index, delta: { type: "text_delta", text } })

const toolBlockStart = (index: number, id: string, name: string) =>
  line({ type: "content_block_start", index, content_block: { type: "tool_use", id, name, input: {} } })

const toolDelta = (index: number, partialJson: string) =>
  line({ type: "content_block_delta", index, delta: { type: "input_json_delta", partial_json: partialJson } })

const msgDelta = (stopReason: string, outputTokens: number, stopSequence: string | null = null) =>
  line({ type: "message_delta", delta: { stop_reason: stopReason, stop_sequence: stopSequence }, usage: { output_tokens: outputTokens } })

const concat = (...parts: ReadonlyArray<Uint8Array>): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.length
  }
  return out
}

const aggregate = (chunks: ReadonlyArray<Uint8Array>) => Option.getOrThrow(AnthropicMessages.aggregate(chunks))

const SONNET = "claude-3-5-sonnet-20241022"

describe("AnthropicMessages: the seed's aggregate_anthropic_messages_stream_chunks cases", () => {
  it("empty input → None", () => {
    expect(AnthropicMessages.aggregate([])).toEqual(Option.none())
    expect(AnthropicMessages.aggregate([new Uint8Array(0)])).toEqual(Option.none())
  })

  it("no parseable events (a ping name and [DONE]) → None", () => {
    expect(AnthropicMessages.aggregate([utf8("event: ping\n"), utf8("data: [DONE]\n")])).toEqual(Option.none())
    const result = aggregateBytes(AnthropicMessages.api, [utf8("event: ping\n"), utf8("data: [DONE]\n")])
    expect(result).toEqual(Option.none())
  })

  it("text", () => {
    const result = aggregate([
      msgStart("msg_1", SONNET, 10),
      textBlockStart(0),
      textDelta(0, "Hello"),
      textDelta(0, " world"),
      line({ type: "content_block_stop", index: 0 }),
      msgDelta("end_turn", 5),
      line({ type: "message_stop" })
    ])
    expect(result.id).toBe("msg_1")
    expect(result.type).toBe("message")
    expect(result.role).toBe("assistant")
    expect(result.model).toBe(SONNET)
    expect(result.stop_reason).toBe("end_turn")
    expect(result.stop_sequence).toBeNull()
    expect(result.content).toEqual([{ type: "text", text: "Hello world" }])
    expect(result.usage).toEqual({ input_tokens: 10, output_tokens: 5 })
  })

  it("tool_use", () => {
    const result = aggregate([
      msgStart("msg_2", SONNET, 20),
      toolBlockStart(0, "toolu_abc", "get_weather"),
      toolDelta(0, "{\"city\""),
      toolDelta(0, ": \"Paris\"}"),
      line({ type: "content_block_stop", index: 0 }),
      msgDelta("tool_use", 15)
    ])
    expect(result.stop_reason).toBe("tool_use")
    expect(result.content).toHaveLength(1)
    expect(result.content[0]).toEqual({ type: "tool_use", id: "toolu_abc", name: "get_weather", input: { city: "Paris" } })
    expect(result.usage).toEqual({ input_tokens: 20, output_tokens: 15 })
  })

  it("mixed content", () => {
    const result = aggregate([
      msgStart("msg_3", SONNET, 30),
      textBlockStart(0),
      textDelta(0, "Let me check that."),
      line({ type: "content_block_stop", index: 0 }),
      toolBlockStart(1, "toolu_xyz", "search"),
      toolDelta(1, "{\"q\": \"mlflow\"}"),
      line({ type: "content_block_stop", index: 1 }),
      msgDelta("tool_use", 25)
    ])
    expect(result.content).toHaveLength(2)
    expect(result.content[0]).toEqual({ type: "text", text: "Let me check that." })
    expect(result.content[1]).toEqual({ type: "tool_use", id: "toolu_xyz", name: "search", input: { q: "mlflow" } })
  })

  it("several events in one chunk (newline-separated data lines)", () => {
    const combined = concat(msgStart("msg_4", SONNET, 5), textBlockStart(0), textDelta(0, "Hi"), msgDelta("end_turn", 2))
    const result = aggregate([combined])
    expect(result.id).toBe("msg_4")
    expect(result.content).toEqual([{ type: "text", text: "Hi" }])
    expect(result.usage).toEqual({ input_tokens: 5, output_tokens: 2 })
  })

  const edgeCases: ReadonlyArray<readonly [string, Json]> = [
    ["{\"key\": \"val\"}", { key: "val" }],
    ["", {}],
    ["not-valid-json", {}]
  ]
  for (const [raw, expected] of edgeCases) {
    it(`tool input edge case ${JSON.stringify(raw)} → ${JSON.stringify(expected)}`, () => {
      const chunks = [msgStart("msg_5", SONNET), toolBlockStart(0, "t1", "fn")]
      if (raw !== "") chunks.push(toolDelta(0, raw))
      chunks.push(msgDelta("tool_use", 1))
      expect(aggregate(chunks).content[0]?.["input"]).toEqual(expected)
    })
  }

  it("a data line split across chunks", () => {
    const start = msgStart("msg_split", SONNET, 3)
    const mid = Math.floor(start.length / 2)
    const result = aggregate([start.subarray(0, mid), concat(start.subarray(mid), msgDelta("end_turn", 1))])
    expect(result.id).toBe("msg_split")
    expect(result.usage).toEqual({ input_tokens: 3, output_tokens: 1 })
  })

  it("cache tokens", () => {
    const result = aggregate([
      line({
        type: "message_start",
        message: {
          id: "msg_cache",
          model: SONNET,
          role: "assistant",
          usage: { input_tokens: 10, cache_read_input_tokens: 5, cache_creation_input_tokens: 2 }
        }
      }),
      msgDelta("end_turn", 8)
    ])
    expect(result.usage).toEqual({
      input_tokens: 10,
      cache_read_input_tokens: 5,
      cache_creation_input_tokens: 2,
      output_tokens: 8
    })
  })
})

// ---------------------------------------------------------------------------------------------------------------
// Own fixtures: key fields, read by hand from each file
// ---------------------------------------------------------------------------------------------------------------

const fixtures = new Map(readSseFiles(fileURLToPath(new URL("../fixtures/anthropic", import.meta.url))))

const fixture = (name: string) => {
  const bytes = fixtures.get(name)
  if (bytes === undefined) throw new Error(`missing fixture ${name}`)
  return Option.getOrThrow(aggregateBytes(AnthropicMessages.api, [bytes]))
}

const blocks = (name: string) => fixture(name).response.content as ReadonlyArray<Json>

describe("AnthropicMessages: own fixtures (test/fixtures/anthropic)", () => {
  it("has them all", () => {
    expect([...fixtures.keys()]).toEqual([
      "cache-read-write.sse",
      "error-midstream.sse",
      "parallel-tool-use.sse",
      "redacted-thinking.sse",
      "text.sse",
      "thinking-signature.sse",
      "tool-use.sse",
      "truncated.sse",
      "unknown-and-bad.sse",
      "web-search-citations.sse"
    ])
  })

  it("text.sse: multi-byte text, ping ignored, usage merged", () => {
    const result = fixture("text.sse")
    expect(result.complete).toBe(true)
    expect(result.skipped).toBe(0)
    expect(result.error).toEqual(Option.none())
    expect(result.response.content).toEqual([{ type: "text", text: "Bonjour ! Ça va ? 🙂\n" }])
    expect(result.response.stop_reason).toBe("end_turn")
    expect(result.response.usage).toEqual({
      input_tokens: 21,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 0,
      output_tokens: 9,
      service_tier: "standard"
    })
    expect(AnthropicMessages.usage(result.response)).toEqual({
      inputTokens: 21,
      outputTokens: 9,
      totalTokens: 30,
      cacheReadInputTokens: 0,
      cacheWriteInputTokens: 0
    })
  })

  it("tool-use.sse: text then a tool call whose input is the joined fragments", () => {
    expect(blocks("tool-use.sse")).toEqual([
      { type: "text", text: "I'll look up the weather in Zürich for you." },
      { type: "tool_use", id: "toolu_01WeatherZurich0000000001", name: "get_weather", input: { city: "Zürich", unit: "celsius", days: 3 } }
    ])
    expect(AnthropicMessages.api.finishReasons(fixture("tool-use.sse").response)).toEqual(["tool_use"])
  })

  it("parallel-tool-use.sse: three calls in index order, unknown block fields kept, a call without input", () => {
    expect(blocks("parallel-tool-use.sse")).toEqual([
      { type: "tool_use", id: "toolu_01LookupA", name: "lookup", input: { term: "fold", limit: 5 }, caller: { type: "direct" } },
      { type: "tool_use", id: "toolu_01LookupB", name: "lookup", input: { term: "stream", limit: 2, tags: ["a", "b"] }, caller: { type: "direct" } },
      { type: "tool_use", id: "toolu_01Clock", name: "now", input: {} }
    ])
    expect(fixture("parallel-tool-use.sse").response["stop_details"]).toBeNull()
  })

  it("thinking-signature.sse: thinking joined, signature kept, output_tokens_details merged", () => {
    const result = fixture("thinking-signature.sse")
    expect(result.response.content).toEqual([
      {
        type: "thinking",
        thinking: "The user wants 17 × 23. 17 × 20 = 340, 17 × 3 = 51, so 391.",
        signature: "ErUBCkYIBxgCIkB0aGlzIGlzIG5vdCBhIHJlYWwgc2lnbmF0dXJlLCBvbmx5IGEgZml4dHVyZQ=="
      },
      { type: "text", text: "17 × 23 = **391**." }
    ])
    expect(result.response.usage["output_tokens_details"]).toEqual({ thinking_tokens: 61 })
    expect(result.response.usage.output_tokens).toBe(87)
  })

  it("redacted-thinking.sse: redacted blocks kept as they are, never text", () => {
    const content = blocks("redacted-thinking.sse")
    expect(content.map((b) => b["type"])).toEqual(["redacted_thinking", "redacted_thinking", "text"])
    expect(content[0]).toEqual({
      type: "redacted_thinking",
      data: "EmwKAhgBEgy3va3pzix/LafPsn4aDFIT2Xlxh0L5L8rLVyIwxtE3rAFBa8cr3qpPkNRj2YfWXGmKDxH4mPnZ5sQ7vB5URj2pXAIaQ"
    })
    expect(content[2]).toEqual({ type: "text", text: "I can't share my reasoning here, but the answer is yes." })
  })

  it("cache-read-write.sse: cache reads and writes, max_tokens, normalised usage", () => {
    const result = fixture("cache-read-write.sse")
    expect(result.response.stop_reason).toBe("max_tokens")
    expect(result.response.usage).toEqual({
      input_tokens: 12,
      cache_creation_input_tokens: 2048,
      cache_read_input_tokens: 30517,
      cache_creation: { ephemeral_5m_input_tokens: 2048, ephemeral_1h_input_tokens: 0 },
      output_tokens: 16,
      service_tier: "standard"
    })
    expect(AnthropicMessages.usage(result.response)).toEqual({
      inputTokens: 12 + 2048 + 30517,
      outputTokens: 16,
      totalTokens: 12 + 2048 + 30517 + 16,
      cacheReadInputTokens: 30517,
      cacheWriteInputTokens: 2048
    })
  })

  it("web-search-citations.sse: server tool call, search results and citations with their real types", () => {
    const result = fixture("web-search-citations.sse")
    const content = result.response.content as ReadonlyArray<Json>
    expect(content.map((b) => b["type"])).toEqual(["server_tool_use", "web_search_tool_result", "text", "text", "text"])
    expect(content[0]).toEqual({ type: "server_tool_use", id: "srvtoolu_01SearchFixture", name: "web_search", input: { query: "effect ts streams" } })
    expect((content[1]?.["content"] as ReadonlyArray<Json>).map((r) => r["url"])).toEqual([
      "https://effect.website/docs/stream/introduction/",
      "https://github.com/Effect-TS/effect"
    ])
    expect(content[3]?.["text"]).toBe("An Effect stream describes a program that emits many values")
    expect((content[3]?.["citations"] as ReadonlyArray<Json>).map((c) => c["encrypted_index"])).toEqual([
      "Eo8BCioIAhgBIiQfixtureA",
      "Eo8BCioIAhgBIiQfixtureB"
    ])
    expect(content[2]).toEqual({ type: "text", text: "Here is what I found. " })
    expect(result.response.usage["server_tool_use"]).toEqual({ web_search_requests: 1 })
    expect(result.response.usage.input_tokens).toBe(9120)
  })

  it("error-midstream.sse: the error is recorded, the partial message kept, incomplete", () => {
    const result = fixture("error-midstream.sse")
    expect(result.error).toEqual(Option.some({ type: "overloaded_error", message: "Overloaded" }))
    expect(result.complete).toBe(false)
    expect(result.response.content).toEqual([{ type: "text", text: "Once upon a time, in a stream" }])
    expect(result.response.stop_reason).toBeNull()
    expect(AnthropicMessages.api.finishReasons(result.response)).toEqual([])
  })

  it("truncated.sse: cut inside a tool call's JSON → partial message, input {}, incomplete", () => {
    const result = fixture("truncated.sse")
    expect(result.complete).toBe(false)
    expect(result.error).toEqual(Option.none())
    expect(result.response.content).toEqual([
      { type: "text", text: "Saving the note now." },
      { type: "tool_use", id: "toolu_01SaveNote", name: "save_note", input: {} }
    ])
    expect(result.response.usage).toEqual({ input_tokens: 64, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 1 })
  })

  it("unknown-and-bad.sse: unknown types ignored, bad events counted, wrong-kind deltas not applied", () => {
    const result = fixture("unknown-and-bad.sse")
    // not JSON, an array, an object without `type`, a delta for a block that never started
    expect(result.skipped).toBe(4)
    expect(result.complete).toBe(true)
    expect(result.response.content).toEqual([
      { type: "container_upload", file_id: "file_011Fixture" },
      { type: "text", text: "still fine" }
    ])
    expect(result.response["container"]).toEqual({ id: "container_011Fixture", expires_at: "2026-01-01T00:00:00Z" })
    // A null counter in message_delta never erases nor adds a key.
    expect(result.response.usage).toEqual({ input_tokens: 5, output_tokens: 12 })
  })
})

// ---------------------------------------------------------------------------------------------------------------
// Behaviour
// ---------------------------------------------------------------------------------------------------------------

const events = (...payloads: ReadonlyArray<Json | string>): Uint8Array =>
  utf8(payloads.map((p) => (typeof p === "string" ? p : anthropicSseEvent(p, true))).join(""))

const start: Json = {
  type: "message_start",
  message: { id: "msg_b", type: "message", role: "assistant", model: "claude", content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 1, output_tokens: 1 } }
}

const foldEvents = (bytes: Uint8Array) => Option.getOrThrow(aggregateBytes(AnthropicMessages.api, [bytes]))

describe("AnthropicMessages: behaviour", () => {
  it("dispatches on the JSON type, with or without `event:` lines", () => {
    const payloads = [start, { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } }, { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "x" } }, { type: "message_stop" }]
    const named = foldEvents(utf8(payloads.map((p) => anthropicSseEvent(p, true)).join("")))
    const anonymous = foldEvents(utf8(payloads.map((p) => anthropicSseEvent(p, false)).join("")))
    // A misleading event name does not change the dispatch either.
    const misnamed = foldEvents(utf8(payloads.map((p) => `event: ping\ndata: ${JSON.stringify(p)}\n\n`).join("")))
    expect(anonymous).toEqual(named)
    expect(misnamed).toEqual(named)
    expect(named.response.content).toEqual([{ type: "text", text: "x" }])
  })

  it("message_delta usage overwrites present counters, never sums; other delta and event fields are kept", () => {
    const result = foldEvents(events(
      { ...start, message: { ...(start["message"] as Json), usage: { input_tokens: 100, cache_read_input_tokens: 7, output_tokens: 1 } } },
      { type: "message_delta", delta: { stop_reason: "pause_turn", stop_sequence: null }, usage: { output_tokens: 10 } },
      { type: "message_delta", delta: { stop_reason: "end_turn", stop_sequence: "###", stop_details: null }, usage: { output_tokens: 25, input_tokens: 100, cache_read_input_tokens: null }, context_management: { applied_edits: [] } }
    ))
    expect(result.response.usage).toEqual({ input_tokens: 100, cache_read_input_tokens: 7, output_tokens: 25 })
    expect(result.response.stop_reason).toBe("end_turn")
    expect(result.response.stop_sequence).toBe("###")
    expect(result.response["stop_details"]).toBeNull()
    expect(result.response["context_management"]).toEqual({ applied_edits: [] })
  })

  it("a delta of the wrong kind for its block is ignored (never coerced to text)", () => {
    const result = foldEvents(events(
      start,
      { type: "content_block_start", index: 0, content_block: { type: "thinking", thinking: "", signature: "" } },
      { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "not thinking" } },
      { type: "content_block_delta", index: 0, delta: { type: "thinking_delta", thinking: "hmm" } },
      { type: "content_block_delta", index: 0, delta: { type: "citations_delta", citation: { type: "x" } } },
      { type: "content_block_start", index: 1, content_block: { type: "text", text: "" } },
      { type: "content_block_delta", index: 1, delta: { type: "signature_delta", signature: "sig" } },
      { type: "content_block_delta", index: 1, delta: { type: "thinking_delta", thinking: "nope" } }
    ))
    expect(result.response.content).toEqual([{ type: "thinking", thinking: "hmm", signature: "" }, { type: "text", text: "" }])
    expect(result.skipped).toBe(0)
  })

  it("mcp_tool_use input streams like tool_use; compaction_delta assigns the block's content", () => {
    const result = foldEvents(events(
      start,
      { type: "content_block_start", index: 0, content_block: { type: "compaction", content: null } },
      { type: "content_block_delta", index: 0, delta: { type: "compaction_delta", content: "summary of earlier turns" } },
      { type: "content_block_start", index: 1, content_block: { type: "mcp_tool_use", id: "mcptoolu_1", name: "ask", server_name: "wiki", input: {} } },
      { type: "content_block_delta", index: 1, delta: { type: "input_json_delta", partial_json: "{\"q\":" } },
      { type: "content_block_delta", index: 1, delta: { type: "input_json_delta", partial_json: "\"why\"}" } },
      { type: "content_block_start", index: 2, content_block: { type: "mcp_tool_result", tool_use_id: "mcptoolu_1", is_error: false, content: [{ type: "text", text: "because" }] } }
    ))
    expect(result.response.content).toEqual([
      { type: "compaction", content: "summary of earlier turns" },
      { type: "mcp_tool_use", id: "mcptoolu_1", name: "ask", server_name: "wiki", input: { q: "why" } },
      { type: "mcp_tool_result", tool_use_id: "mcptoolu_1", is_error: false, content: [{ type: "text", text: "because" }] }
    ])
  })

  it("blocks come out in index order, whatever order they started in", () => {
    const result = foldEvents(events(
      start,
      { type: "content_block_start", index: 1, content_block: { type: "text", text: "b" } },
      { type: "content_block_start", index: 0, content_block: { type: "text", text: "a" } }
    ))
    expect(result.response.content).toEqual([{ type: "text", text: "a" }, { type: "text", text: "b" }])
  })

  it("a JSON array of a tool's input is not an input: {}", () => {
    const result = foldEvents(events(
      start,
      { type: "content_block_start", index: 0, content_block: { type: "tool_use", id: "t", name: "n", input: {} } },
      { type: "content_block_delta", index: 0, delta: { type: "input_json_delta", partial_json: "[1, 2]" } }
    ))
    expect(result.response.content[0]?.["input"]).toEqual({})
  })

  it("`event: error` with plain text, with another JSON shape, and a JSON error payload without the event name", () => {
    const plain = foldEvents(events(start, "event: error\ndata: upstream connect error\n\n"))
    expect(plain.error).toEqual(Option.some({ type: "error", message: "upstream connect error" }))
    const other = foldEvents(events(start, "event: error\ndata: {\"error\": {\"type\": \"rate_limit_error\", \"message\": \"slow down\"}}\n\n"))
    expect(other.error).toEqual(Option.some({ type: "rate_limit_error", message: "slow down" }))
    const unnamed = foldEvents(events(start, "data: {\"type\":\"error\",\"error\":{\"type\":\"api_error\",\"message\":\"boom\"}}\n\n"))
    expect(unnamed.error).toEqual(Option.some({ type: "api_error", message: "boom" }))
    // The first error wins.
    const two = foldEvents(events(start, { type: "error", error: { type: "a", message: "1" } }, { type: "error", error: { type: "b", message: "2" } }))
    expect(two.error).toEqual(Option.some({ type: "a", message: "1" }))
  })

  it("an error before any message: the fold reports it on an empty message, aggregate gives None", () => {
    const bytes = events({ type: "error", error: { type: "overloaded_error", message: "Overloaded" } })
    const result = foldEvents(bytes)
    expect(result.error).toEqual(Option.some({ type: "overloaded_error", message: "Overloaded" }))
    expect(result.response).toEqual({ id: "", type: "message", role: "assistant", model: "", content: [], stop_reason: null, stop_sequence: null, usage: {} })
    expect(AnthropicMessages.aggregate([bytes])).toEqual(Option.none())
  })

  it("a result is a snapshot: later events never change it", () => {
    const state = AnthropicMessages.fold.initial()
    const step = (p: Json) => AnthropicMessages.fold.step(state, { event: "message", data: JSON.stringify(p), id: "", retry: undefined })
    step(start)
    step({ type: "content_block_start", index: 0, content_block: { type: "text", text: "", citations: [] } })
    step({ type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "a" } })
    step({ type: "content_block_delta", index: 0, delta: { type: "citations_delta", citation: { n: 1 } } })
    step({ type: "content_block_start", index: 1, content_block: { type: "tool_use", id: "t", name: "n", input: {} } })
    step({ type: "content_block_delta", index: 1, delta: { type: "input_json_delta", partial_json: "{\"a\":1}" } })
    const first = Option.getOrThrow(AnthropicMessages.fold.done(state))
    const copy = structuredClone(first)
    step({ type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "b" } })
    step({ type: "content_block_delta", index: 0, delta: { type: "citations_delta", citation: { n: 2 } } })
    step({ type: "content_block_delta", index: 1, delta: { type: "input_json_delta", partial_json: "x" } })
    step({ type: "message_delta", delta: { stop_reason: "end_turn" }, usage: { output_tokens: 9 } })
    expect(first).toEqual(copy)
    expect(Option.getOrThrow(AnthropicMessages.fold.done(state)).response.content[0]).toEqual({ type: "text", text: "ab", citations: [{ n: 1 }, { n: 2 }] })
  })

  it("a `__proto__` key on the wire is data, never a prototype", () => {
    const result = foldEvents(events(
      "data: {\"type\":\"message_start\",\"message\":{\"id\":\"m\",\"model\":\"c\",\"__proto__\":{\"polluted\":true},\"usage\":{\"__proto__\":{\"polluted\":true}}}}\n\n"
    ))
    expect(({} as Json)["polluted"]).toBeUndefined()
    expect(result.response.id).toBe("m")
    expect(Object.getPrototypeOf(result.response)).toBe(Object.prototype)
  })
})

describe("AnthropicMessages: the JSON.parse-free hot path", () => {
  const kinds = [["text_delta", "text"], ["thinking_delta", "thinking"], ["input_json_delta", "partial_json"]] as const
  /** Ways an event may be written: the first three are the API's and must take the fast path. */
  const variants: ReadonlyArray<(index: string, type: string, field: string, value: string) => string> = [
    (i, t, f, v) => `{"type":"content_block_delta","index":${i},"delta":{"type":"${t}","${f}":${v}}}`,
    (i, t, f, v) => `{"type":"content_block_delta","index":${i},"delta":{"type":"${t}","${f}":${v}}      }`,
    (i, t, f, v) => `{"type":"content_block_delta","index":${i},"delta":{"type":"${t}","${f}":${v}} \t}\n`,
    (i, t, f, v) => `{"type":"content_block_delta","index":${i},"delta":{"type":"${t}","${f}":${v},"extra":1}}`,
    (i, t, f, v) => `{"type":"content_block_delta","index":${i},"delta":{"type":"${t}","${f}":${v}},"type":"ping"}`,
    (i, t, f, v) => ` {"type":"content_block_delta","index":${i},"delta":{"type":"${t}","${f}":${v}}}`,
    (i, t, f, v) => `{"type":"content_block_delta","index":0${i},"delta":{"type":"${t}","${f}":${v}}}`,
    (i, t, f, v) => `{"type":"content_block_delta","index":${i},"delta":{"type":"${t}","${f}":${v}}`,
    (i, t, f, v) => `{"type":"content_block_delta","index":${i},"delta":{"type":"${t}","${f}":${v}}}}`,
    (i, t, f, v) => `{"type":"content_block_delta","index":${i},"delta":{"type":"${t}","${f}":${v}}}\n{"type":"ping"}`,
    (i, t, f, v) => `{"type":"content_block_delta","index":${i}.5,"delta":{"type":"${t}","${f}":${v}}}`
  ]
  const literal = FastCheck.oneof(
    textArbitrary(16).map((text) => JSON.stringify(text)),
    // Invalid literals: a raw control character, a bad escape, an unterminated string.
    FastCheck.constantFrom("\"a\u0001b\"", "\"bad \\x escape\"", "\"open", "\"\\\"\"", "\"\\\\\"")
  )

  it.prop(
    "agrees with JSON.parse, or declines (then JSON.parse decides); the API's own forms always take the fast path",
    [FastCheck.constantFrom(...kinds), literal, FastCheck.nat(variants.length - 1), FastCheck.constantFrom("0", "7", "42", "123456789", "1234567890")],
    ([[type, field], value, variant, index]) => {
      const data = variants[variant]!(index, type, field, value)
      const fast = readFastDelta(data)
      let parsed: unknown = undefined
      try {
        parsed = JSON.parse(data)
      } catch {
        // not JSON: the fast path must decline too
      }
      if (fast !== undefined) {
        expect(parsed).toEqual({ type: "content_block_delta", index: fast.index, delta: fast.delta })
        expect(Object.keys(parsed as Json)).toEqual(["type", "index", "delta"])
      }
      if (parsed === undefined) expect(fast).toBeUndefined()
      if (variant < 3 && parsed !== undefined && index.length < 10) expect(fast).toBeDefined()
    },
    { fastCheck: { numRuns: 1000 } }
  )
})

describe("AnthropicMessages: api", () => {
  const body = {
    id: "msg_nonstream",
    type: "message",
    role: "assistant",
    model: "claude-sonnet-5-5",
    content: [{ type: "text", text: "hi" }, { type: "tool_use", id: "t", name: "n", input: { a: 1 } }],
    stop_reason: "tool_use",
    stop_sequence: null,
    usage: { input_tokens: 3, cache_read_input_tokens: 4, cache_creation_input_tokens: 5, output_tokens: 6 },
    container: null
  }

  it("names the provider, operation and message format", () => {
    expect([AnthropicMessages.api.provider, AnthropicMessages.api.operation, AnthropicMessages.api.messageFormat]).toEqual([
      "anthropic",
      "chat",
      "anthropic"
    ])
  })

  it("decodes a non-streaming body, keeping unknown fields; anything else is None", () => {
    expect(AnthropicMessages.api.decodeResponse(body)).toEqual(Option.some(body))
    expect(AnthropicMessages.api.decodeResponse({ id: "chatcmpl", object: "chat.completion", choices: [] })).toEqual(Option.none())
    expect(AnthropicMessages.api.decodeResponse({ ...body, type: "error" })).toEqual(Option.none())
    expect(AnthropicMessages.api.decodeResponse("text")).toEqual(Option.none())
  })

  it("reads id, model, finish reasons and usage", () => {
    const response = Option.getOrThrow(AnthropicMessages.api.decodeResponse(body))
    expect(AnthropicMessages.api.responseId(response)).toEqual(Option.some("msg_nonstream"))
    expect(AnthropicMessages.api.responseModel(response)).toEqual(Option.some("claude-sonnet-5-5"))
    expect(AnthropicMessages.api.finishReasons(response)).toEqual(["tool_use"])
    expect(AnthropicMessages.api.usage(response)).toEqual({
      inputTokens: 12,
      outputTokens: 6,
      totalTokens: 18,
      cacheReadInputTokens: 4,
      cacheWriteInputTokens: 5
    })
  })

  it("every aggregate of the own fixtures is a valid Message", () => {
    for (const name of fixtures.keys()) expect(Schema.is(AnthropicMessages.Message)(fixture(name).response)).toBe(true)
  })

  it("the stream event schemas accept the fixtures' events", () => {
    const decode = Schema.decodeUnknownEither(AnthropicMessages.StreamEvent)
    for (const [name, bytes] of fixtures) {
      if (name === "unknown-and-bad.sse") continue
      for (const block of new TextDecoder().decode(bytes).split("\n\n")) {
        const data = block.split("\n").find((l) => l.startsWith("data: "))
        if (data !== undefined) expect(decode(JSON.parse(data.slice(6)))._tag).toBe("Right")
      }
    }
  })
})

// ---------------------------------------------------------------------------------------------------------------
// Chunking, properties, memory
// ---------------------------------------------------------------------------------------------------------------

describe("AnthropicMessages: split cuts", () => {
  it("every two-way split, and byte by byte, of a fixture give the same aggregate", () => {
    const bytes = fixtures.get("web-search-citations.sse")!
    const whole = foldEvents(bytes)
    for (const chunks of everyTwoWaySplit(bytes)) expect(aggregateBytes(AnthropicMessages.api, chunks)).toEqual(Option.some(whole))
    expect(aggregateBytes(AnthropicMessages.api, byteByByte(bytes))).toEqual(Option.some(whole))
    expect(aggregateBytes(AnthropicMessages.api, splitAt(bytes, [1, 2, 3, 100, 101]))).toEqual(Option.some(whole))
  })
})

describe("AnthropicMessages: property — generated streams under random chunking", () => {
  it.prop(
    "the aggregate equals the generator's message (text, thinking, tool input, citations, usage)",
    [anthropicSpecArbitrary, FastCheck.nat(), FastCheck.integer({ min: 1, max: 300 })],
    ([spec, seed, maxChunk]) => {
      const bytes = utf8(anthropicSse(spec))
      const result = Option.getOrThrow(aggregateBytes(AnthropicMessages.api, randomChunking(bytes, seed, maxChunk)))
      expect(result.response).toEqual(expectedAnthropic(spec))
      expect(result.complete).toBe(expectedAnthropicComplete(spec))
      expect(result.skipped).toBe(0)
      expect(result.error).toEqual(Option.none())
      expect(Schema.is(AnthropicMessages.Message)(result.response)).toBe(true)
    },
    { fastCheck: { numRuns: 300 } }
  )

  it.prop(
    "the seed's framing (data lines, no blank lines) folds to the same message",
    [anthropicSpecArbitrary, FastCheck.nat()],
    ([spec, seed]) => {
      const packed = utf8(
        anthropicSse({ ...spec, named: false, crlf: false }).split("\n\n").filter((b) => b !== "").map((b) => b + "\n").join("")
      )
      expect(AnthropicMessages.aggregate(randomChunking(packed, seed, 97))).toEqual(Option.some(expectedAnthropic(spec)))
    },
    { fastCheck: { numRuns: 200 } }
  )
})

describe("AnthropicMessages: memory", () => {
  it("1,000,000 events fold with heap growth bounded by the (tiny) output, not the input", () => {
    setFlagsFromString("--expose-gc")
    const gc = runInNewContext("gc") as () => void
    const delta: Sse.Event = {
      event: "content_block_delta",
      data: JSON.stringify({ type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "" } }),
      id: "",
      retry: undefined
    }
    const ping: Sse.Event = { event: "ping", data: "{\"type\": \"ping\"}", id: "", retry: undefined }
    let state = AnthropicMessages.fold.initial()
    state = AnthropicMessages.fold.step(state, { event: "message_start", data: JSON.stringify(start), id: "", retry: undefined })
    state = AnthropicMessages.fold.step(state, {
      event: "content_block_start",
      data: JSON.stringify({ type: "content_block_start", index: 0, content_block: { type: "text", text: "" } }),
      id: "",
      retry: undefined
    })
    gc()
    const before = process.memoryUsage().heapUsed
    for (let i = 0; i < 1_000_000; i++) state = AnthropicMessages.fold.step(state, (i & 15) === 0 ? ping : delta)
    gc()
    const growth = process.memoryUsage().heapUsed - before
    const result = Option.getOrThrow(AnthropicMessages.fold.done(state))
    expect(result.response.content).toEqual([{ type: "text", text: "" }])
    // The input is ~90 MB of data strings and parsed objects; holding any per-event value would show.
    expect(growth).toBeLessThan(8 * 1024 * 1024)
  })
})
