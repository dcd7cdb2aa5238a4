import { describe, expect, it } from "@effect/vitest"
import { FastCheck, Option, Schema } from "effect"
import { fileURLToPath } from "node:url"
import { setFlagsFromString } from "node:v8"
import { runInNewContext } from "node:vm"
import { aggregateBytes } from "../../src/providers/Api.js"
import * as OpenAiChat from "../../src/providers/OpenAiChat.js"
import type * as OpenAiChatSchema from "../../src/providers/OpenAiChatSchema.js"
import type * as Sse from "../../src/Sse.js"
import { byteByByte, everyTwoWaySplit, randomChunking, readSseFiles, splitAt, utf8 } from "../support/chunking.js"
import { chatChunks, chatSpecArbitrary, chatSse, expectedChat, expectedChatComplete } from "../support/openaiGen.js"

type Json = Record<string, unknown>

type ToolCallDelta = OpenAiChatSchema.ToolCallDelta

// The seed's chunk builder (MLflow `_make_chunk`): one choice per chunk, these defaults.
const makeChunk = (options: {
  readonly content?: string | null
  readonly finish_reason?: string | null
  readonly usage?: OpenAiChat.ChatCompletionChunk["usage"]
  readonly tool_calls?: ReadonlyArray<ToolCallDelta>
  readonly role?: string | null
  readonly choice_index?: number
}): OpenAiChat.ChatCompletionChunk => ({
  id: "chunk-1",
  object: "chat.completion.chunk",
  created: 1700000000,
  model: "test-model",
  usage: options.usage ?? null,
  choices: [{
    index: options.choice_index ?? 0,
    finish_reason: options.finish_reason ?? null,
    delta: {
      role: options.role === undefined ? "assistant" : options.role,
      content: options.content ?? null,
      tool_calls: options.tool_calls ?? null
    }
  }]
})

/** The seed's SSE framing: one `data:` line per event and no blank line between events. */
const seedSse = (chunks: ReadonlyArray<unknown>): Uint8Array =>
  utf8(chunks.map((c) => `data: ${JSON.stringify(c)}\n`).join(""))

const blankLineSse = (payloads: ReadonlyArray<unknown>): Uint8Array =>
  utf8(payloads.map((p) => `data: ${typeof p === "string" ? p : JSON.stringify(p)}\n\n`).join(""))

const fold = (bytes: Uint8Array) => Option.getOrThrow(aggregateBytes(OpenAiChat.api, [bytes]))

const seedCases: ReadonlyArray<readonly [string, ReadonlyArray<OpenAiChat.ChatCompletionChunk>, (r: OpenAiChat.ChatCompletion) => void]> = [
  ["aggregates content", [
    makeChunk({ content: "Hello" }),
    makeChunk({ content: " " }),
    makeChunk({ content: "world" }),
    makeChunk({ content: null, finish_reason: "stop" })
  ], (r) => {
    expect(r.object).toBe("chat.completion")
    expect(r.model).toBe("test-model")
    expect(r.choices[0]?.message.role).toBe("assistant")
    expect(r.choices[0]?.message.content).toBe("Hello world")
    expect(r.choices[0]?.finish_reason).toBe("stop")
  }],
  ["with usage", [
    makeChunk({ content: "Hi" }),
    makeChunk({ content: null, finish_reason: "stop", usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 } })
  ], (r) => {
    expect(r.choices[0]?.message.content).toBe("Hi")
    expect(r.usage).toEqual({ prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 })
  }],
  ["defaults finish_reason", [makeChunk({ content: "Hi" })], (r) => {
    expect(r.choices[0]?.finish_reason).toBe("stop")
  }],
  ["aggregates tool calls", [
    makeChunk({ tool_calls: [{ index: 0, id: "call_abc", type: "function", function: { name: "get_weather", arguments: "" } }] }),
    makeChunk({ tool_calls: [{ index: 0, function: { arguments: "{\"loc" } }] }),
    makeChunk({ tool_calls: [{ index: 0, function: { arguments: "ation\": \"SF\"}" } }] }),
    makeChunk({ finish_reason: "tool_calls" })
  ], (r) => {
    expect(r.choices[0]?.message.content).toBeNull()
    expect(r.choices[0]?.finish_reason).toBe("tool_calls")
    const calls = r.choices[0]?.message.tool_calls ?? []
    expect(calls).toHaveLength(1)
    expect(calls[0]?.id).toBe("call_abc")
    expect(calls[0]?.type).toBe("function")
    expect(calls[0]?.function.name).toBe("get_weather")
    expect(calls[0]?.function.arguments).toBe("{\"location\": \"SF\"}")
  }],
  ["derives role from delta", [
    makeChunk({ role: "developer", content: "Hello" }),
    makeChunk({ role: null, content: " world" }),
    makeChunk({ role: null, finish_reason: "stop" })
  ], (r) => {
    expect(r.choices[0]?.message.role).toBe("developer")
  }],
  ["multiple choice indices", [
    makeChunk({ content: "Hi", choice_index: 0 }),
    makeChunk({ content: "Hey", choice_index: 1 }),
    makeChunk({ content: " there", choice_index: 0 }),
    makeChunk({ content: " you", choice_index: 1 }),
    makeChunk({ finish_reason: "stop", choice_index: 0 }),
    makeChunk({ finish_reason: "stop", choice_index: 1 })
  ], (r) => {
    expect(r.choices).toHaveLength(2)
    expect(r.choices[0]?.index).toBe(0)
    expect(r.choices[0]?.message.content).toBe("Hi there")
    expect(r.choices[1]?.index).toBe(1)
    expect(r.choices[1]?.message.content).toBe("Hey you")
  }]
]

describe("OpenAiChat: the seed's aggregate_chat_stream_chunks cases", () => {
  it("empty input → None", () => {
    expect(OpenAiChat.aggregateChunks([])).toEqual(Option.none())
    expect(OpenAiChat.aggregate([])).toEqual(Option.none())
    expect(OpenAiChat.aggregate([new Uint8Array(0)])).toEqual(Option.none())
  })

  it("no parseable events → None", () => {
    expect(OpenAiChat.aggregate([utf8("data: not json\n\ndata: [DONE]\n\n: comment\n\n")])).toEqual(Option.none())
  })

  for (const [name, chunks, check] of seedCases) {
    it(`${name} (parsed chunks)`, () => check(Option.getOrThrow(OpenAiChat.aggregateChunks(chunks))))

    it(`${name} (seed SSE bytes, whole / split data lines / byte by byte)`, () => {
      const bytes = seedSse(chunks)
      const whole = Option.getOrThrow(OpenAiChat.aggregate([bytes]))
      check(whole)
      expect(whole).toEqual(Option.getOrThrow(OpenAiChat.aggregateChunks(chunks)))
      for (const split of everyTwoWaySplit(bytes)) expect(OpenAiChat.aggregate(split)).toEqual(Option.some(whole))
      expect(OpenAiChat.aggregate(byteByByte(bytes))).toEqual(Option.some(whole))
    })
  }

  it("several events in one chunk, blank-line framed or not", () => {
    const chunks = seedCases[0]![1]
    const framed = Option.getOrThrow(OpenAiChat.aggregate([blankLineSse(chunks)]))
    expect(framed.choices[0]?.message.content).toBe("Hello world")
    expect(OpenAiChat.aggregate([seedSse(chunks)])).toEqual(Option.some(framed))
  })
})

describe("OpenAiChat: aggregateChunks", () => {
  const deepFreeze = <A>(value: A): A => {
    if (typeof value === "object" && value !== null) {
      for (const v of Object.values(value)) deepFreeze(v)
      Object.freeze(value)
    }
    return value
  }

  it("does not mutate the chunks (frozen input), including logprobs lists", () => {
    const lp = (token: string) => ({ token, logprob: -1, bytes: null, top_logprobs: [] })
    const chunks = deepFreeze([
      { ...makeChunk({ content: "a" }), choices: [{ index: 0, delta: { role: "assistant", content: "a" }, logprobs: { content: [lp("a")], refusal: null } }] },
      { ...makeChunk({ content: "b" }), choices: [{ index: 0, delta: { content: "b" }, logprobs: { content: [lp("b")], refusal: null }, finish_reason: "stop" }] }
    ])
    const result = Option.getOrThrow(OpenAiChat.aggregateChunks(chunks))
    expect(result.choices[0]?.message.content).toBe("ab")
    expect(result.choices[0]?.logprobs).toEqual({ content: [lp("a"), lp("b")], refusal: null })
  })

  it.prop("equals the generator's expected completion", [chatSpecArbitrary], ([spec]) => {
    const chunks = chatChunks(spec) as unknown as ReadonlyArray<OpenAiChat.ChatCompletionChunk>
    expect(OpenAiChat.aggregateChunks(chunks)).toEqual(Option.some(expectedChat(spec)))
  }, { fastCheck: { numRuns: 200 } })
})

describe("OpenAiChat: property — generated streams under random chunking", () => {
  it.prop(
    "the aggregate equals the generator's completion; tool arguments parse to the generated values",
    [chatSpecArbitrary, FastCheck.nat(), FastCheck.integer({ min: 1, max: 300 })],
    ([spec, seed, maxChunk]) => {
      const bytes = utf8(chatSse(spec))
      const result = Option.getOrThrow(aggregateBytes(OpenAiChat.api, randomChunking(bytes, seed, maxChunk)))
      expect(result.response).toEqual(expectedChat(spec))
      expect(result.complete).toBe(expectedChatComplete(spec))
      expect(result.skipped).toBe(0)
      expect(result.error).toEqual(Option.none())
      expect(Schema.is(OpenAiChat.ChatCompletion)(result.response)).toBe(true)
      spec.choices.forEach((choice, i) => {
        const calls = result.response.choices[i]?.message.tool_calls ?? []
        expect(calls.map((c) => JSON.parse(c.function.arguments))).toEqual(choice.tools.map((t) => t.args.value))
      })
    },
    { fastCheck: { numRuns: 300 } }
  )
})

const fixtures = new Map(readSseFiles(fileURLToPath(new URL("../fixtures/openai-chat", import.meta.url))))
const fixture = (name: string) => {
  const bytes = fixtures.get(name)
  if (bytes === undefined) throw new Error(`missing fixture ${name}`)
  return fold(bytes)
}

describe("OpenAiChat: own fixtures (test/fixtures/openai-chat)", () => {
  it("text + usage: multi-byte text, usage with cache and reasoning details, envelope fields", () => {
    const { complete, response, skipped } = fixture("text-usage.sse")
    expect(complete).toBe(true)
    expect(skipped).toBe(0)
    expect(response.id).toBe("chatcmpl-own-text")
    expect(response.model).toBe("gpt-4o-mini-2024-07-18")
    expect(response.created).toBe(1760000000)
    expect(response.system_fingerprint).toBe("fp_5f2d8b1a9c")
    expect(response.service_tier).toBe("default")
    expect(response.choices[0]?.message).toEqual({ role: "assistant", content: "Bonjour, café 你好 🎉!", refusal: null })
    expect(OpenAiChat.api.finishReasons(response)).toEqual(["stop"])
    expect(OpenAiChat.usage(response)).toEqual({
      inputTokens: 19,
      outputTokens: 7,
      totalTokens: 26,
      cacheReadInputTokens: 4,
      reasoningTokens: 2
    })
  })

  it("tool call: arguments joined and parseable, finish tool_calls", () => {
    const { response } = fixture("tool-call.sse")
    const calls = response.choices[0]?.message.tool_calls ?? []
    expect(calls).toEqual([{
      id: "call_own_weather",
      type: "function",
      function: { name: "get_weather", arguments: "{\"city\":\"São Paulo\",\"unit\":\"c\"}" }
    }])
    expect(JSON.parse(calls[0]!.function.arguments)).toEqual({ city: "São Paulo", unit: "c" })
    expect(response.choices[0]?.message.content).toBeNull()
    expect(OpenAiChat.api.finishReasons(response)).toEqual(["tool_calls"])
  })

  it("parallel tool calls: interleaved fragments keyed by index, sorted by index", () => {
    const calls = fixture("parallel-tool-calls.sse").response.choices[0]?.message.tool_calls ?? []
    expect(calls.map((c) => [c.id, c.function.name, JSON.parse(c.function.arguments)])).toEqual([
      ["call_one", "lookup", { id: 42 }],
      ["call_two", "search", { q: "effect ts" }]
    ])
  })

  it("n = 2: interleaved choices, each with its own finish reason", () => {
    const { complete, response } = fixture("multi-choice-n2.sse")
    expect(complete).toBe(true)
    expect(response.choices.map((c) => [c.index, c.message.content, c.finish_reason])).toEqual([
      [0, "First answer", "stop"],
      [1, "Second ans", "length"]
    ])
    expect(OpenAiChat.api.finishReasons(response)).toEqual(["stop", "length"])
  })

  it("logprobs: content token lists concatenated", () => {
    const logprobs = fixture("logprobs.sse").response.choices[0]?.logprobs
    expect(logprobs?.refusal).toBeNull()
    expect((logprobs?.content ?? []).map((t) => (t as { token: string }).token)).toEqual(["Yes", ",", " é"])
  })

  it("refusal: joined, content null, logprobs.refusal concatenated", () => {
    const choice = fixture("refusal.sse").response.choices[0]
    expect(choice?.message.refusal).toBe("I can't help with that.")
    expect(choice?.message.content).toBeNull()
    expect(choice?.logprobs?.content).toBeNull()
    expect((choice?.logprobs?.refusal ?? []).map((t) => (t as { token: string }).token)).toEqual([
      "I can't",
      " help with that."
    ])
  })

  it("finish length", () => {
    const { complete, response } = fixture("finish-length.sse")
    expect(complete).toBe(true)
    expect(response.choices[0]?.finish_reason).toBe("length")
    expect(response.choices[0]?.message.content).toBe("The answer is a very long")
  })

  it("truncated (no finish_reason, no [DONE], no final blank line): partial text, default stop, incomplete", () => {
    const { complete, response } = fixture("truncated-no-finish.sse")
    expect(complete).toBe(false)
    expect(response.choices[0]?.message.content).toBe("Partial answ")
    expect(response.choices[0]?.finish_reason).toBe("stop")
    expect(response.usage).toBeUndefined()
  })

  it("no [DONE]: complete with usage", () => {
    const { complete, response } = fixture("no-done.sse")
    expect(complete).toBe(true)
    expect(response.choices[0]?.message.content).toBe("Done without marker")
    expect(response.usage?.total_tokens).toBe(7)
  })

  it("error payload: recorded, the partial completion kept", () => {
    const { complete, error, response } = fixture("error-payload.sse")
    expect(error).toEqual(Option.some({
      type: "server_error",
      message: "The server had an error while processing your request."
    }))
    expect(complete).toBe(false)
    expect(response.choices[0]?.message.content).toBe("Before the error")
  })

  it("unknown fields kept (Azure filters, moderation, unknown delta fields); usage survives a later usage: null", () => {
    const { response } = fixture("unknown-fields.sse")
    expect(response.id).toBe("chatcmpl-own-azure")
    expect(response["prompt_filter_results"]).toEqual([
      { prompt_index: 0, content_filter_results: { hate: { filtered: false, severity: "safe" } } }
    ])
    expect(response["moderation"]).toEqual({ flagged: false })
    expect(response["obfuscation"]).toBe("pad")
    expect(response.choices[0]?.["content_filter_results"]).toEqual({})
    expect(response.choices[0]?.message["reasoning_content"]).toBe("think")
    expect(response.usage).toEqual({ prompt_tokens: 9, completion_tokens: 1, total_tokens: 10 })
  })

  it("bad input: not JSON, not an object, wrong shape → skipped and counted, the rest folded", () => {
    const { complete, response, skipped } = fixture("bad-input.sse")
    expect(skipped).toBe(3)
    expect(complete).toBe(true)
    expect(response.choices[0]?.message.content).toBe("ok")
  })
})

describe("OpenAiChat: behaviour", () => {
  const chunk = (fields: Json): Json => ({
    id: "c1",
    object: "chat.completion.chunk",
    created: 1,
    model: "m",
    choices: [],
    ...fields
  })
  const choice = (delta: Json, finish: string | null = null, extra: Json = {}) => ({ index: 0, delta, finish_reason: finish, ...extra })

  it("usage from whichever chunk carries it, even an empty-id one, never erased by usage: null", () => {
    const usage = { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 }
    const { response } = fold(blankLineSse([
      chunk({ choices: [choice({ role: "assistant", content: "x" }, "stop")], usage: null }),
      chunk({ id: "", usage }),
      chunk({ usage: null, choices: [] })
    ]))
    expect(response.usage).toEqual(usage)
    expect(response.id).toBe("c1")
  })

  it("[DONE] is not an error, and events after it are ignored (as by the SDK)", () => {
    const { response, skipped } = fold(blankLineSse([
      chunk({ choices: [choice({ content: "a" }, "stop")] }),
      "[DONE]",
      chunk({ choices: [choice({ content: "ignored" })] }),
      "not json after done"
    ]))
    expect(skipped).toBe(0)
    expect(response.choices[0]?.message.content).toBe("a")
  })

  it("several JSON lines in one event (no blank lines) are each folded; a bad line is counted", () => {
    const data = [chunk({ choices: [choice({ content: "a" })] }), chunk({ choices: [choice({ content: "b" })] })]
      .map((c) => `data: ${JSON.stringify(c)}\n`).join("") + "data: {oops\n\n"
    const result = fold(utf8(data))
    expect(result.response.choices[0]?.message.content).toBe("ab")
    expect(result.skipped).toBe(1)
  })

  it("an error payload with a string error, and one with only a code", () => {
    expect(fold(blankLineSse([{ error: "rate limited" }])).error).toEqual(
      Option.some({ type: "error", message: "rate limited" })
    )
    const { error, response } = fold(blankLineSse([{ error: { code: "context_length_exceeded", message: "too long" } }]))
    expect(error).toEqual(Option.some({ type: "context_length_exceeded", message: "too long" }))
    expect(response.choices).toEqual([])
    expect(OpenAiChat.aggregate([blankLineSse([{ error: "x" }])])).toEqual(Option.none())
  })

  it("complete only when every choice got a finish reason", () => {
    const result = fold(blankLineSse([
      chunk({ choices: [choice({ content: "a" }, "stop")] }),
      chunk({ choices: [{ ...choice({ content: "b" }), index: 1 }] })
    ]))
    expect(result.complete).toBe(false)
    expect(result.response.choices.map((c) => c.finish_reason)).toEqual(["stop", "stop"])
  })

  it("first non-empty role wins; tool call id/type/name last non-empty; unknown tool-call fields kept", () => {
    const { response } = fold(blankLineSse([
      chunk({ choices: [choice({ role: "assistant", tool_calls: [{ index: 0, id: "a", type: "function", function: { name: "f", arguments: "{" } }] })] }),
      chunk({ choices: [choice({ role: "tool", tool_calls: [{ index: 0, id: "", function: { name: "", arguments: "}" }, extra: 1 }] })] })
    ]))
    expect(response.choices[0]?.message.role).toBe("assistant")
    expect(response.choices[0]?.message.tool_calls).toEqual([{ id: "a", type: "function", function: { name: "f", arguments: "{}" }, extra: 1 }])
  })

  it("audio: data and transcript joined; an expires_at-only delta completes the choice", () => {
    const result = fold(blankLineSse([
      chunk({ choices: [choice({ role: "assistant", audio: { id: "au_1", data: "AAA", transcript: "he" } })] }),
      chunk({ choices: [choice({ audio: { data: "BBB", transcript: "llo" } })] }),
      chunk({ choices: [choice({ audio: { expires_at: 99 } })] })
    ]))
    expect(result.complete).toBe(true)
    expect(result.response.choices[0]?.message.audio).toEqual({ id: "au_1", data: "AAABBB", transcript: "hello", expires_at: 99 })
  })

  it("the deprecated function_call is joined", () => {
    const { response } = fold(blankLineSse([
      chunk({ choices: [choice({ role: "assistant", function_call: { name: "f", arguments: "{\"a\"" } })] }),
      chunk({ choices: [choice({ function_call: { arguments: ":1}" } }, "function_call")] })
    ]))
    expect(response.choices[0]?.message.function_call).toEqual({ name: "f", arguments: "{\"a\":1}" })
  })

  it("fold.done on a state with nothing in it is None; done can be read mid-stream and again", () => {
    expect(OpenAiChat.fold.done(OpenAiChat.fold.initial())).toEqual(Option.none())
    const event = (data: unknown): Sse.Event => ({ event: "message", data: JSON.stringify(data), id: "", retry: undefined })
    let state = OpenAiChat.fold.step(OpenAiChat.fold.initial(), event(chunk({ choices: [choice({ content: "a" })] })))
    const early = Option.getOrThrow(OpenAiChat.fold.done(state))
    state = OpenAiChat.fold.step(state, event(chunk({ choices: [choice({ content: "b" }, "stop")] })))
    expect(early.response.choices[0]?.message.content).toBe("a")
    expect(Option.getOrThrow(OpenAiChat.fold.done(state)).response.choices[0]?.message.content).toBe("ab")
  })
})

describe("OpenAiChat: api", () => {
  const body = {
    id: "chatcmpl-1",
    object: "chat.completion",
    created: 5,
    model: "gpt-4o",
    choices: [{ index: 0, message: { role: "assistant", content: "hi", annotations: [] }, finish_reason: "stop", logprobs: null }],
    usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4, prompt_tokens_details: { cached_tokens: 2 } },
    service_tier: "default",
    future_field: { x: 1 }
  }

  it("names the API", () => {
    expect([OpenAiChat.api.provider, OpenAiChat.api.operation, OpenAiChat.api.messageFormat]).toEqual(["openai", "chat", "openai"])
  })

  it("decodeResponse keeps unknown fields and rejects other shapes", () => {
    expect(OpenAiChat.api.decodeResponse(body)).toEqual(Option.some(body))
    expect(OpenAiChat.api.decodeResponse({ ...body, object: "response" })).toEqual(Option.none())
    expect(OpenAiChat.api.decodeResponse({ id: "resp_1", object: "response", output: [] })).toEqual(Option.none())
    expect(OpenAiChat.api.decodeResponse("nope")).toEqual(Option.none())
  })

  it("reads id, model, finish reasons and usage", () => {
    const response = Option.getOrThrow(OpenAiChat.api.decodeResponse(body))
    expect(OpenAiChat.api.responseId(response)).toEqual(Option.some("chatcmpl-1"))
    expect(OpenAiChat.api.responseModel(response)).toEqual(Option.some("gpt-4o"))
    expect(OpenAiChat.api.finishReasons(response)).toEqual(["stop"])
    expect(OpenAiChat.api.usage(response)).toEqual({ inputTokens: 3, outputTokens: 1, totalTokens: 4, cacheReadInputTokens: 2 })
    const empty = Option.getOrThrow(OpenAiChat.aggregate([blankLineSse([{ choices: [], usage: { total_tokens: 1 } }])]))
    expect(OpenAiChat.api.responseId(empty)).toEqual(Option.none())
  })
})

describe("OpenAiChat: memory", () => {
  it("1,000,000 events fold with heap growth bounded by the (tiny) output, not the input", () => {
    setFlagsFromString("--expose-gc")
    const gc = runInNewContext("gc") as () => void
    const data = JSON.stringify({
      id: "chatcmpl-mem",
      object: "chat.completion.chunk",
      created: 1,
      model: "m",
      choices: [{ index: 0, delta: { content: "" }, logprobs: null, finish_reason: null }],
      usage: null,
      obfuscation: "AbCdEfGhIj"
    })
    const event: Sse.Event = { event: "message", data, id: "", retry: undefined }
    gc()
    const before = process.memoryUsage().heapUsed
    let state = OpenAiChat.fold.initial()
    for (let i = 0; i < 1_000_000; i++) state = OpenAiChat.fold.step(state, event)
    gc()
    const growth = process.memoryUsage().heapUsed - before
    const result = Option.getOrThrow(OpenAiChat.fold.done(state))
    expect(result.response.choices[0]?.message.content).toBeNull()
    // The input is ~200 MB of data strings and parsed objects; holding any per-event value would show.
    expect(growth).toBeLessThan(8 * 1024 * 1024)
  })
})

describe("OpenAiChat: split cuts", () => {
  it("every two-way split of a fixture gives the same aggregate", () => {
    const bytes = fixtures.get("parallel-tool-calls.sse")!
    const whole = fold(bytes)
    for (const chunks of everyTwoWaySplit(bytes)) expect(aggregateBytes(OpenAiChat.api, chunks)).toEqual(Option.some(whole))
    expect(aggregateBytes(OpenAiChat.api, splitAt(bytes, [1, 2, 3, 100, 101]))).toEqual(Option.some(whole))
  })
})
