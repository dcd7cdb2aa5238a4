import Anthropic from "@anthropic-ai/sdk"
import { describe, expect, it, layer } from "@effect/vitest"
import { GoogleGenAI } from "@google/genai"
import { Chunk, Effect, Either, FastCheck, Fiber, Option, Stream, TestClock } from "effect"
import { createParser, type EventSourceMessage } from "eventsource-parser"
import OpenAI from "openai"
import type * as Dialect from "../../src/gateway/Dialect.js"
import * as Echo from "../../src/gateway/Echo.js"
import { EchoServerTag, echoServerLayer } from "../support/echoServer.js"

// ---------------------------------------------------------------------------------------------------------------
// Generators: texts whose word count is known by construction (the oracle for every usage count below)
// ---------------------------------------------------------------------------------------------------------------

interface Text {
  readonly text: string
  readonly words: number
}

const join = (parts: ReadonlyArray<string>) => parts.join("")

/** Non-whitespace characters, multi-byte and JSON-escaped ones included (no lone surrogates: they do not survive UTF-8). */
const WordArb = FastCheck.array(
  FastCheck.constantFrom("a", "b", "Z", "7", "é", "€", "😀", "中", "-", ".", ",", "!", "\"", "\\", "'", "<"),
  { minLength: 1, maxLength: 6 }
).map(join)

const SpaceArb = FastCheck.array(FastCheck.constantFrom(" ", " ", "\n", "\t", "\u00a0", "\r\n", "\u3000"), { minLength: 1, maxLength: 3 })
  .map(join)

const TextArb: FastCheck.Arbitrary<Text> = FastCheck.record({
  lead: FastCheck.option(SpaceArb, { nil: "" }),
  words: FastCheck.array(FastCheck.tuple(WordArb, SpaceArb), { maxLength: 10 }),
  trail: FastCheck.option(SpaceArb, { nil: "" })
}).map(({ lead, trail, words }) => ({
  text: lead + words.map(([w, s], i) => (i === words.length - 1 ? w : w + s)).join("") + trail,
  words: words.length
}))

interface Conversation {
  readonly system: Text | undefined
  readonly turns: ReadonlyArray<{ readonly user: boolean; readonly text: Text }>
}

const ConversationArb: FastCheck.Arbitrary<Conversation> = FastCheck.record({
  system: FastCheck.option(TextArb, { nil: undefined }),
  turns: FastCheck.array(FastCheck.record({ user: FastCheck.boolean(), text: TextArb }), { minLength: 1, maxLength: 4 })
}).map((c) => (c.turns.some((t) => t.user) ? c : { ...c, turns: [{ ...c.turns[0]!, user: true }, ...c.turns.slice(1)] }))

/** What Echo must answer: the last user text; usage from the generated word counts. */
const expectedOf = (c: Conversation) => {
  const last = [...c.turns].reverse().find((t) => t.user)!.text
  const input = (c.system?.words ?? 0) + c.turns.reduce((n, t) => n + t.text.words, 0)
  return { text: last.text, input, output: last.words }
}

const chatMessages = (c: Conversation) => [
  ...(c.system === undefined ? [] : [{ role: "system" as const, content: c.system.text }]),
  ...c.turns.map((t) => ({ role: t.user ? "user" as const : "assistant" as const, content: t.text.text }))
]
const responsesInput = (c: Conversation) =>
  c.turns.map((t) => ({ role: t.user ? "user" as const : "assistant" as const, content: t.text.text }))
const anthropicMessages = (c: Conversation) =>
  c.turns.map((t) => ({ role: t.user ? "user" as const : "assistant" as const, content: t.text.text }))
const geminiContents = (c: Conversation) =>
  c.turns.map((t) => ({ role: t.user ? "user" : "model", parts: [{ text: t.text.text }] }))

/** The conversational dialects (the others echo a prompt or embedding inputs: see GatewayApis.test.ts). */
type ChatDialect = "openai.chat" | "openai.responses" | "anthropic.messages" | "gemini.generateContent"

const bodies = (c: Conversation): Record<ChatDialect, unknown> => ({
  "openai.chat": { model: "m", messages: chatMessages(c) },
  "openai.responses": { model: "m", input: responsesInput(c), ...(c.system === undefined ? {} : { instructions: c.system.text }) },
  "anthropic.messages": { model: "m", max_tokens: 5, messages: anthropicMessages(c), ...(c.system === undefined ? {} : { system: c.system.text }) },
  "gemini.generateContent": {
    contents: geminiContents(c),
    ...(c.system === undefined ? {} : { systemInstruction: { parts: [{ text: c.system.text }] } })
  }
})

const dialects: ReadonlyArray<ChatDialect> = ["openai.chat", "openai.responses", "anthropic.messages", "gemini.generateContent"]

const runs = { fastCheck: { numRuns: 12 } }

// ---------------------------------------------------------------------------------------------------------------
// Pure core
// ---------------------------------------------------------------------------------------------------------------

describe("Echo core", () => {
  it.prop("countTokens counts whitespace-separated words", [TextArb], ([t]) => {
    expect(Echo.countTokens(t.text)).toBe(t.words)
  }, { fastCheck: { numRuns: 500 } })

  it.prop("splitWords: the pieces join to the text, one word per piece", [TextArb], ([t]) => {
    const pieces = Echo.splitWords(t.text)
    expect(pieces.join("")).toBe(t.text)
    if (t.words > 0) {
      expect(pieces.length).toBe(t.words)
      for (const piece of pieces) expect(Echo.countTokens(piece)).toBe(1)
    } else {
      expect(pieces.length).toBe(t.text === "" ? 0 : 1)
    }
  }, { fastCheck: { numRuns: 500 } })

  it.prop("readPrompt: last user text and prompt tokens, every dialect", [ConversationArb], ([c]) => {
    const expected = expectedOf(c)
    for (const dialect of dialects) {
      const prompt = Either.getOrThrow(Echo.readPrompt(dialect, bodies(c)[dialect]))
      expect(prompt).toEqual({ lastUserText: expected.text, inputTokens: expected.input })
      expect(Either.getRight(Either.map(Echo.readPrompt(dialect, bodies(c)[dialect]), (p) => p.lastUserText))).toEqual(Option.some(expected.text))
    }
  }, { fastCheck: { numRuns: 300 } })

  it("text parts are joined with a newline; non-text parts are skipped", () => {
    const chat = { messages: [{ role: "user", content: [{ type: "text", text: "one" }, { type: "image_url", image_url: { url: "x" } }, { type: "text", text: "two" }] }] }
    const responses = { input: [{ role: "user", content: [{ type: "input_text", text: "one" }, { type: "input_image", image_url: "x" }, { type: "input_text", text: "two" }] }] }
    const anthropic = { messages: [{ role: "user", content: [{ type: "text", text: "one" }, { type: "tool_result", tool_use_id: "t", content: "no" }, { type: "text", text: "two" }] }] }
    const gemini = { contents: [{ parts: [{ text: "one" }, { inlineData: { data: "", mimeType: "image/png" } }, { text: "two" }] }] }
    for (const [dialect, body] of [["openai.chat", chat], ["openai.responses", responses], ["anthropic.messages", anthropic], ["gemini.generateContent", gemini]] as const) {
      expect(Echo.readPrompt(dialect, body)).toEqual(Either.right({ lastUserText: "one\ntwo", inputTokens: 2 }))
    }
  })

  it("a Responses string input is the user message", () => {
    expect(Echo.readPrompt("openai.responses", { input: "hello there", instructions: "be brief" }))
      .toEqual(Either.right({ lastUserText: "hello there", inputTokens: 4 }))
  })

  it("no user message, or the wrong shape, is an InvalidRequest naming the field", () => {
    const cases: ReadonlyArray<readonly [Dialect.Id, unknown, string]> = [
      ["openai.chat", { messages: [{ role: "assistant", content: "x" }] }, "no user message"],
      ["openai.chat", { messages: [] }, "no user message"],
      ["openai.chat", { messages: "hi" }, "messages"],
      ["openai.chat", { messages: [{ role: 5, content: "x" }] }, "messages[0].role"],
      ["openai.chat", null, "request body"],
      ["openai.responses", { model: "m" }, "input"],
      ["openai.responses", { input: [{ role: "assistant", content: "x" }] }, "no user message"],
      ["anthropic.messages", { messages: [{ role: "user", content: 3 }] }, "messages[0].content"],
      ["anthropic.messages", { system: "s", messages: [{ role: "assistant", content: "x" }] }, "no user message"],
      ["gemini.generateContent", { contents: [{ role: "user", parts: "x" }] }, "contents[0].parts"],
      ["gemini.generateContent", { contents: [{ role: "model", parts: [{ text: "x" }] }] }, "no user message"]
    ]
    for (const [dialect, body, mention] of cases) {
      const result = Echo.readPrompt(dialect, body)
      expect(Either.isLeft(result), `${dialect} ${JSON.stringify(body)}`).toBe(true)
      if (Either.isLeft(result)) {
        expect(result.left._tag).toBe("InvalidRequest")
        expect(result.left.message).toContain(mention)
      }
      expect(Either.isLeft(Echo.readPrompt(dialect, body))).toBe(true)
    }
  })
})

// ---------------------------------------------------------------------------------------------------------------
// respond: status, headers, Clock, ids, delay, errors (no server)
// ---------------------------------------------------------------------------------------------------------------

const bodyText = (reply: Echo.Reply, options?: Echo.Options) =>
  Stream.runCollect(Echo.body(reply, options)).pipe(
    Effect.map((chunks) => Buffer.concat(Chunk.toArray(chunks)).toString("utf8"))
  )

const sseEvents = (text: string): Array<EventSourceMessage> => {
  const events: Array<EventSourceMessage> = []
  const parser = createParser({ onEvent: (event) => events.push(event) })
  parser.feed(text)
  return events
}

describe("Echo.respond", () => {
  it.effect("created comes from the Clock; ids are unique per reply", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(1_700_000_123_456)
      const request = { body: { messages: [{ role: "user", content: "hi" }] }, stream: false, model: "m" }
      const first = JSON.parse(yield* bodyText(yield* Echo.respond("openai.chat", request)))
      const second = JSON.parse(yield* bodyText(yield* Echo.respond("openai.chat", request)))
      expect(first.created).toBe(1_700_000_123)
      expect(second.created).toBe(1_700_000_123)
      expect(first.id).not.toBe(second.id)
      const responses = JSON.parse(yield* bodyText(yield* Echo.respond("openai.responses", { body: { input: "hi" }, stream: false, model: "m" })))
      expect(responses.created_at).toBe(1_700_000_123)
    }))

  it.effect("content types: event-stream when streamed, JSON otherwise, JSON errors", () =>
    Effect.gen(function*() {
      for (const dialect of dialects) {
        const body = bodies({ system: undefined, turns: [{ user: true, text: { text: "a b", words: 2 } }] })[dialect]
        const streamed = yield* Echo.respond(dialect, { body, stream: true, model: "m" })
        const plain = yield* Echo.respond(dialect, { body, stream: false, model: "m" })
        const bad = yield* Echo.respond(dialect, { body: { nothing: true }, stream: true, model: "m" })
        expect([streamed.status, streamed.headers["content-type"]]).toEqual([200, "text/event-stream"])
        expect([plain.status, plain.headers["content-type"]]).toEqual([200, "application/json"])
        expect([bad.status, bad.headers["content-type"]]).toEqual([400, "application/json"])
      }
    }))

  it.effect("delay: each streamed word waits for it (TestClock)", () =>
    Effect.gen(function*() {
      const reply = yield* Echo.respond(
        "anthropic.messages",
        { body: { messages: [{ role: "user", content: "one two three" }] }, stream: true, model: "m" }
      )
      const fiber = yield* Effect.fork(bodyText(reply, { delay: "1 second" }))
      yield* TestClock.adjust("2 seconds")
      expect(Option.isNone(yield* Fiber.poll(fiber))).toBe(true)
      yield* TestClock.adjust("1 second")
      const text = yield* Fiber.join(fiber)
      const deltas = sseEvents(text).filter((e) => e.event === "content_block_delta").map((e) => JSON.parse(e.data).delta.text)
      expect(deltas).toEqual(["one ", "two ", "three"])
    }))
})

// ---------------------------------------------------------------------------------------------------------------
// The official SDKs against the echo server (real sockets)
// ---------------------------------------------------------------------------------------------------------------

const promise = <A>(f: () => Promise<A>) => Effect.promise(f)
const nowSeconds = () => Math.floor(Date.now() / 1000)

const postJson = (url: string, body: unknown) =>
  promise(async () => {
    const response = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: typeof body === "string" ? body : JSON.stringify(body) })
    return { status: response.status, contentType: response.headers.get("content-type"), text: await response.text() }
  })

layer(echoServerLayer(), { excludeTestServices: true })("Echo through the official SDKs", (it) => {
  const openai = Effect.map(EchoServerTag, (s) => new OpenAI({ apiKey: "unused", baseURL: `${s.url}/v1`, maxRetries: 0 }))
  const anthropic = Effect.map(EchoServerTag, (s) => new Anthropic({ apiKey: "unused", baseURL: s.url, maxRetries: 0 }))
  const gemini = Effect.map(EchoServerTag, (s) => new GoogleGenAI({ apiKey: "unused", httpOptions: { baseUrl: s.url } }))

  it.effect.prop("openai chat, not streamed: chat.completions.create", [ConversationArb], ([c]) =>
    Effect.gen(function*() {
      const client = yield* openai
      const expected = expectedOf(c)
      const before = nowSeconds()
      const completion = yield* promise(() => client.chat.completions.create({ model: "echo-model", messages: chatMessages(c) }))
      expect(completion.object).toBe("chat.completion")
      expect(completion.model).toBe("echo-model")
      expect(completion.created).toBeGreaterThanOrEqual(before)
      expect(completion.created).toBeLessThanOrEqual(nowSeconds())
      expect(completion.choices[0]?.message.content).toBe(expected.text)
      expect(completion.choices[0]?.finish_reason).toBe("stop")
      expect(completion.usage).toMatchObject({ prompt_tokens: expected.input, completion_tokens: expected.output, total_tokens: expected.input + expected.output })
    }), runs)

  it.effect.prop("openai chat, streamed with include_usage: finalChatCompletion", [ConversationArb], ([c]) =>
    Effect.gen(function*() {
      const client = yield* openai
      const expected = expectedOf(c)
      const completion = yield* promise(() =>
        client.chat.completions.stream({ model: "echo-model", messages: chatMessages(c), stream_options: { include_usage: true } }).finalChatCompletion()
      )
      expect(completion.choices[0]?.message.content ?? "").toBe(expected.text)
      expect(completion.choices[0]?.message.role).toBe("assistant")
      expect(completion.choices[0]?.finish_reason).toBe("stop")
      expect(completion.usage).toMatchObject({ prompt_tokens: expected.input, completion_tokens: expected.output, total_tokens: expected.input + expected.output })
    }), runs)

  it.effect.prop("openai chat, streamed without include_usage: no usage", [ConversationArb], ([c]) =>
    Effect.gen(function*() {
      const client = yield* openai
      const completion = yield* promise(() => client.chat.completions.stream({ model: "echo-model", messages: chatMessages(c) }).finalChatCompletion())
      expect(completion.choices[0]?.message.content ?? "").toBe(expectedOf(c).text)
      expect(completion.usage).toBeUndefined()
    }), runs)

  it.effect("openai chat wire format: usage: null on every chunk and a final choices: [] chunk only with include_usage", () =>
    Effect.gen(function*() {
      const server = yield* EchoServerTag
      const messages = [{ role: "system", content: "sys tem" }, { role: "user", content: "alpha beta  gamma " }]
      for (const includeUsage of [false, true]) {
        const reply = yield* postJson(`${server.url}/v1/chat/completions`, {
          model: "echo-model",
          messages,
          stream: true,
          ...(includeUsage ? { stream_options: { include_usage: true } } : {})
        })
        expect(reply.contentType).toBe("text/event-stream")
        const events = sseEvents(reply.text)
        expect(events.at(-1)?.data).toBe("[DONE]")
        const chunks = events.slice(0, -1).map((e) => JSON.parse(e.data))
        expect(new Set(chunks.map((c) => c.id)).size).toBe(1)
        expect(chunks[0].choices[0].delta.role).toBe("assistant")
        const contentChunks = chunks.filter((c) => c.choices[0]?.delta.content !== undefined)
        expect(contentChunks.map((c) => c.choices[0].delta.content).join("")).toBe("alpha beta  gamma ")
        expect(contentChunks.length).toBe(1 + 3) // the role chunk's "" + one per word
        const finish = chunks.filter((c) => c.choices[0]?.finish_reason !== null && c.choices.length > 0)
        expect(finish.map((c) => c.choices[0].finish_reason)).toEqual(["stop"])
        if (includeUsage) {
          expect(chunks.every((c) => "usage" in c)).toBe(true)
          expect(chunks.slice(0, -1).every((c) => c.usage === null)).toBe(true)
          const last = chunks.at(-1)
          expect(last.choices).toEqual([])
          expect(last.usage).toMatchObject({ prompt_tokens: 5, completion_tokens: 3, total_tokens: 8 })
        } else {
          expect(chunks.some((c) => "usage" in c)).toBe(false)
          expect(chunks.some((c) => c.choices.length === 0)).toBe(false)
        }
      }
    }))

  it.effect.prop("openai responses, not streamed: responses.create", [ConversationArb], ([c]) =>
    Effect.gen(function*() {
      const client = yield* openai
      const expected = expectedOf(c)
      const response = yield* promise(() =>
        client.responses.create({ model: "echo-model", input: responsesInput(c), ...(c.system === undefined ? {} : { instructions: c.system.text }) })
      )
      expect(response.status).toBe("completed")
      expect(response.model).toBe("echo-model")
      expect(response.output_text).toBe(expected.text)
      expect(response.usage).toMatchObject({ input_tokens: expected.input, output_tokens: expected.output, total_tokens: expected.input + expected.output })
    }), runs)

  it.effect.prop("openai responses, streamed: responses.stream().finalResponse()", [ConversationArb], ([c]) =>
    Effect.gen(function*() {
      const client = yield* openai
      const expected = expectedOf(c)
      const response = yield* promise(() =>
        client.responses.stream({ model: "echo-model", input: responsesInput(c), ...(c.system === undefined ? {} : { instructions: c.system.text }) }).finalResponse()
      )
      expect(response.status).toBe("completed")
      expect(response.output_text).toBe(expected.text)
      expect(response.usage).toMatchObject({ input_tokens: expected.input, output_tokens: expected.output, total_tokens: expected.input + expected.output })
    }), runs)

  it.effect("openai responses wire format: event order, sequence_number on every event, one delta per word", () =>
    Effect.gen(function*() {
      const server = yield* EchoServerTag
      const reply = yield* postJson(`${server.url}/v1/responses`, { model: "echo-model", input: "uno dos tres", stream: true })
      const events = sseEvents(reply.text)
      const payloads = events.map((e) => JSON.parse(e.data))
      expect(events.map((e) => e.event)).toEqual(payloads.map((p) => p.type))
      expect(payloads.map((p) => p.sequence_number)).toEqual(payloads.map((_, i) => i))
      expect(payloads.map((p) => p.type)).toEqual([
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
        "response.output_text.delta",
        "response.output_text.delta",
        "response.output_text.delta",
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed"
      ])
      expect(payloads.filter((p) => p.type === "response.output_text.delta").map((p) => p.delta)).toEqual(["uno ", "dos ", "tres"])
      expect(payloads.at(-1).response.usage).toMatchObject({ input_tokens: 3, output_tokens: 3, total_tokens: 6 })
    }))

  it.effect.prop("anthropic, not streamed: messages.create", [ConversationArb], ([c]) =>
    Effect.gen(function*() {
      const client = yield* anthropic
      const expected = expectedOf(c)
      const message = yield* promise(() =>
        client.messages.create({ model: "echo-model", max_tokens: 64, messages: anthropicMessages(c), ...(c.system === undefined ? {} : { system: c.system.text }) })
      )
      expect(message.model).toBe("echo-model")
      expect(message.stop_reason).toBe("end_turn")
      expect(message.content.map((b) => (b.type === "text" ? b.text : "")).join("")).toBe(expected.text)
      expect(message.usage).toMatchObject({ input_tokens: expected.input, output_tokens: expected.output })
    }), runs)

  it.effect.prop("anthropic, streamed: messages.stream().finalMessage()", [ConversationArb], ([c]) =>
    Effect.gen(function*() {
      const client = yield* anthropic
      const expected = expectedOf(c)
      const message = yield* promise(() =>
        client.messages.stream({ model: "echo-model", max_tokens: 64, messages: anthropicMessages(c), ...(c.system === undefined ? {} : { system: c.system.text }) }).finalMessage()
      )
      expect(message.stop_reason).toBe("end_turn")
      expect(message.content.map((b) => (b.type === "text" ? b.text : "")).join("")).toBe(expected.text)
      expect(message.usage).toMatchObject({ input_tokens: expected.input, output_tokens: expected.output })
    }), runs)

  it.effect("anthropic wire format: event names and order", () =>
    Effect.gen(function*() {
      const server = yield* EchoServerTag
      const reply = yield* postJson(`${server.url}/v1/messages`, { model: "m", max_tokens: 5, stream: true, messages: [{ role: "user", content: "one two" }] })
      const events = sseEvents(reply.text)
      const payloads = events.map((e) => JSON.parse(e.data))
      expect(events.map((e) => e.event)).toEqual(payloads.map((p) => p.type))
      expect(payloads.map((p) => p.type)).toEqual([
        "message_start", "content_block_start", "ping", "content_block_delta", "content_block_delta",
        "content_block_stop", "message_delta", "message_stop"
      ])
      expect(payloads[0].message.usage.input_tokens).toBe(2)
      expect(payloads[6].usage.output_tokens).toBe(2)
    }))

  it.effect.prop("gemini, not streamed: models.generateContent", [ConversationArb], ([c]) =>
    Effect.gen(function*() {
      const client = yield* gemini
      const expected = expectedOf(c)
      const response = yield* promise(() =>
        client.models.generateContent({ model: "echo-model", contents: geminiContents(c), ...(c.system === undefined ? {} : { config: { systemInstruction: c.system.text } }) })
      )
      expect(response.text ?? "").toBe(expected.text)
      expect(response.candidates?.[0]?.finishReason).toBe("STOP")
      expect(response.modelVersion).toBe("echo-model")
      expect(response.usageMetadata).toMatchObject({ promptTokenCount: expected.input, candidatesTokenCount: expected.output, totalTokenCount: expected.input + expected.output })
    }), runs)

  it.effect.prop("gemini, streamed: models.generateContentStream", [ConversationArb], ([c]) =>
    Effect.gen(function*() {
      const client = yield* gemini
      const expected = expectedOf(c)
      const chunks = yield* promise(async () => {
        const out = []
        const stream = await client.models.generateContentStream({ model: "echo-model", contents: geminiContents(c), ...(c.system === undefined ? {} : { config: { systemInstruction: c.system.text } }) })
        for await (const chunk of stream) out.push(chunk)
        return out
      })
      expect(chunks.map((chunk) => chunk.text ?? "").join("")).toBe(expected.text)
      expect(chunks.length).toBe(Math.max(1, expected.output))
      expect(chunks.map((chunk) => chunk.candidates?.[0]?.finishReason)).toEqual(chunks.map((_, i) => (i === chunks.length - 1 ? "STOP" : undefined)))
      expect(new Set(chunks.map((chunk) => chunk.responseId)).size).toBe(1)
      // Running totals: candidates so far, never summed.
      expect(chunks.map((chunk) => chunk.usageMetadata?.candidatesTokenCount)).toEqual(chunks.map((_, i) => (expected.output === 0 ? 0 : i + 1)))
      expect(chunks.at(-1)?.usageMetadata).toMatchObject({ promptTokenCount: expected.input, candidatesTokenCount: expected.output, totalTokenCount: expected.input + expected.output })
    }), runs)

  it.effect("gemini wire format: CRLF-framed data events", () =>
    Effect.gen(function*() {
      const server = yield* EchoServerTag
      const reply = yield* postJson(`${server.url}/v1beta/models/echo-model:streamGenerateContent?alt=sse`, { contents: [{ parts: [{ text: "x y" }] }] })
      expect(reply.contentType).toBe("text/event-stream")
      const frames = reply.text.split("\r\n\r\n")
      expect(frames.at(-1)).toBe("")
      expect(frames.slice(0, -1).every((f) => f.startsWith("data: ") && !f.includes("\n"))).toBe(true)
      expect(frames.slice(0, -1).map((f) => JSON.parse(f.slice(6)).candidates[0].content.parts[0].text)).toEqual(["x ", "y"])
    }))

  it.effect("bad input through the SDKs: a 400 in each API's native error shape", () =>
    Effect.gen(function*() {
      const chatClient = yield* openai
      const chatError = yield* Effect.flip(Effect.tryPromise(() => chatClient.chat.completions.create({ model: "m", messages: [{ role: "assistant", content: "x" }] })))
      expect(chatError.error).toBeInstanceOf(OpenAI.BadRequestError)
      const chat = chatError.error as InstanceType<typeof OpenAI.BadRequestError>
      expect(chat.status).toBe(400)
      expect(chat.error).toMatchObject({ type: "invalid_request_error", param: null, code: null })

      const anthropicClient = yield* anthropic
      const anthropicError = yield* Effect.flip(Effect.tryPromise(() => anthropicClient.messages.create({ model: "m", max_tokens: 5, messages: [{ role: "assistant", content: "x" }] })))
      expect(anthropicError.error).toBeInstanceOf(Anthropic.BadRequestError)
      const anth = anthropicError.error as InstanceType<typeof Anthropic.BadRequestError>
      expect(anth.status).toBe(400)
      expect(anth.error).toMatchObject({ type: "error", error: { type: "invalid_request_error" } })

      const geminiClient = yield* gemini
      const geminiError = yield* Effect.flip(Effect.tryPromise(() => geminiClient.models.generateContent({ model: "m", contents: [{ role: "model", parts: [{ text: "x" }] }] })))
      const gem = geminiError.error as { readonly status?: number; readonly message: string }
      expect(gem.status).toBe(400)
      expect(JSON.parse(gem.message)).toMatchObject({ error: { code: 400, status: "INVALID_ARGUMENT" } })
    }))

  it.effect("bad input on the wire: wrong shape and invalid JSON are native 400s naming the problem", () =>
    Effect.gen(function*() {
      const server = yield* EchoServerTag
      const openAiShape = { error: { type: "invalid_request_error", param: null, code: null } }
      const anthropicShape = { type: "error", error: { type: "invalid_request_error" } }
      const geminiShape = { error: { code: 400, status: "INVALID_ARGUMENT" } }
      const cases: ReadonlyArray<readonly [string, unknown, object, string]> = [
        ["/v1/chat/completions", { messages: "hi" }, openAiShape, "messages"],
        ["/v1/responses", { input: 5 }, openAiShape, "input"],
        ["/v1/messages", { messages: [{ role: "user" }] }, anthropicShape, "messages[0].content"],
        ["/v1beta/models/m:generateContent", { contents: {} }, geminiShape, "contents"],
        ["/v1/chat/completions", "{not json", openAiShape, "JSON"],
        ["/v1/messages", "{not json", anthropicShape, "JSON"],
        ["/v1beta/models/m:streamGenerateContent?alt=sse", "{not json", geminiShape, "JSON"]
      ]
      for (const [path, body, shape, mention] of cases) {
        const reply = yield* postJson(server.url + path, body)
        expect(reply.status, path).toBe(400)
        expect(reply.contentType).toBe("application/json")
        const parsed = JSON.parse(reply.text)
        expect(parsed).toMatchObject(shape)
        expect(parsed.error.message).toContain(mention)
      }
    }))
})
