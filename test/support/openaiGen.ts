/**
 * Generators of valid OpenAI streams (Chat Completions and Responses) for property tests and benchmarks.
 *
 * Each random stream comes with the response it must fold into, computed here from the generator's own inputs
 * (the text pieces joined, the argument fragments joined, …), never by the fold under test.
 */
import { FastCheck } from "effect"

type Json = Record<string, unknown>

const sse = (data: unknown, event?: string): string =>
  `${event === undefined ? "" : `event: ${event}\n`}data: ${JSON.stringify(data)}\n\n`

/** Text that exercises UTF-8: ASCII, multi-byte, emoji, control characters, lone surrogates (JSON-escaped). */
export const textArbitrary = (maxLength = 12): FastCheck.Arbitrary<string> =>
  FastCheck.oneof(
    FastCheck.string({ unit: "grapheme", maxLength }),
    FastCheck.string({ unit: "binary", maxLength }),
    FastCheck.constantFrom("é", "你好", "🎉", "👍🏽", " ", "\n", "\"", "\\")
  )

/** A JSON arguments object and its text split at random points: the fragments a provider streams. */
export const argumentsArbitrary: FastCheck.Arbitrary<{ readonly value: Json; readonly pieces: Array<string> }> =
  FastCheck.record({
    value: FastCheck.dictionary(
      FastCheck.string({ unit: "grapheme", maxLength: 6 }),
      FastCheck.oneof(textArbitrary(8), FastCheck.integer(), FastCheck.boolean(), FastCheck.constant(null)),
      { maxKeys: 4 }
    ),
    cuts: FastCheck.array(FastCheck.nat(), { maxLength: 8 })
  }).map(({ cuts, value }) => ({ value, pieces: splitText(JSON.stringify(value), cuts) }))

/** Splits `text` at the given offsets (modulo its length, in UTF-16 units but never inside a surrogate pair). */
export const splitText = (text: string, cuts: ReadonlyArray<number>): Array<string> => {
  const points = [...new Set(cuts.map((c) => (text.length === 0 ? 0 : c % text.length)))]
    .filter((p) => p > 0 && !(isHigh(text.charCodeAt(p - 1)) && isLow(text.charCodeAt(p))))
    .sort((a, b) => a - b)
  const pieces: Array<string> = []
  let start = 0
  for (const p of points) {
    pieces.push(text.slice(start, p))
    start = p
  }
  pieces.push(text.slice(start))
  return pieces
}

const isHigh = (c: number) => c >= 0xd800 && c <= 0xdbff
const isLow = (c: number) => c >= 0xdc00 && c <= 0xdfff

/** Merges several event lists, keeping each list's order, choosing the next list by `picks`. */
const interleave = <A>(lists: ReadonlyArray<ReadonlyArray<A>>, picks: ReadonlyArray<number>): Array<A> => {
  const queues = lists.map((l) => [...l]).filter((l) => l.length > 0)
  const out: Array<A> = []
  let k = 0
  while (queues.length > 0) {
    const i = (picks.length === 0 ? 0 : picks[k++ % picks.length]!) % queues.length
    out.push(queues[i]!.shift()!)
    if (queues[i]!.length === 0) queues.splice(i, 1)
  }
  return out
}

// ---------------------------------------------------------------------------------------------------------------
// Chat Completions
// ---------------------------------------------------------------------------------------------------------------

export interface ChatToolSpec {
  readonly id: string
  readonly name: string
  readonly args: { readonly value: Json; readonly pieces: Array<string> }
}

export interface ChatChoiceSpec {
  readonly role: string
  readonly content: Array<string>
  readonly refusal: Array<string>
  readonly tools: Array<ChatToolSpec>
  readonly finish: string | null
}

export interface ChatSpec {
  readonly id: string
  readonly model: string
  readonly created: number
  readonly fingerprint: string
  readonly choices: Array<ChatChoiceSpec>
  readonly usage: { readonly prompt_tokens: number; readonly completion_tokens: number; readonly total_tokens: number } | null
  /** Every chunk carries `usage: null` (include_usage), as the API sends it. */
  readonly nullUsage: boolean
  readonly done: boolean
  readonly picks: Array<number>
}

const chatChoiceArbitrary: FastCheck.Arbitrary<ChatChoiceSpec> = FastCheck.record({
  role: FastCheck.constantFrom("assistant", "developer"),
  content: FastCheck.array(textArbitrary(), { maxLength: 8 }),
  refusal: FastCheck.oneof(FastCheck.constant([]), FastCheck.array(textArbitrary(), { maxLength: 3 })),
  tools: FastCheck.array(
    FastCheck.record({
      id: FastCheck.stringMatching(/^call_[A-Za-z0-9]{1,8}$/),
      name: FastCheck.stringMatching(/^[a-z_]{1,10}$/),
      args: argumentsArbitrary
    }),
    { maxLength: 3 }
  ),
  finish: FastCheck.constantFrom("stop", "length", "tool_calls", "content_filter", null)
})

export const chatSpecArbitrary: FastCheck.Arbitrary<ChatSpec> = FastCheck.record({
  id: FastCheck.stringMatching(/^chatcmpl-[A-Za-z0-9]{1,10}$/),
  model: FastCheck.constantFrom("gpt-4o-mini", "gpt-5", "o3"),
  created: FastCheck.integer({ min: 1_700_000_000, max: 1_800_000_000 }),
  fingerprint: FastCheck.constantFrom("fp_abc123", ""),
  choices: FastCheck.array(chatChoiceArbitrary, { minLength: 1, maxLength: 3 }),
  usage: FastCheck.option(
    FastCheck.record({ prompt_tokens: FastCheck.nat(5000), completion_tokens: FastCheck.nat(5000) })
      .map((u) => ({ ...u, total_tokens: u.prompt_tokens + u.completion_tokens })),
    { nil: null }
  ),
  nullUsage: FastCheck.boolean(),
  done: FastCheck.boolean(),
  picks: FastCheck.array(FastCheck.nat(), { maxLength: 32 })
})

const chatDeltas = (choice: ChatChoiceSpec): Array<{ readonly delta: Json; readonly finish: string | null }> => {
  const deltas: Array<{ delta: Json; finish: string | null }> = [{ delta: { role: choice.role, content: "" }, finish: null }]
  for (const piece of choice.content) deltas.push({ delta: { content: piece }, finish: null })
  for (const piece of choice.refusal) deltas.push({ delta: { refusal: piece }, finish: null })
  choice.tools.forEach((tool, index) => {
    deltas.push({
      delta: { tool_calls: [{ index, id: tool.id, type: "function", function: { name: tool.name, arguments: "" } }] },
      finish: null
    })
    for (const piece of tool.args.pieces) deltas.push({ delta: { tool_calls: [{ index, function: { arguments: piece } }] }, finish: null })
  })
  if (choice.finish !== null) deltas.push({ delta: {}, finish: choice.finish })
  return deltas
}

/** The `chat.completion.chunk` objects of a spec, choices interleaved by `picks`. */
export const chatChunks = (spec: ChatSpec): Array<Json> => {
  const envelope = (choices: Array<Json>): Json => ({
    id: spec.id,
    object: "chat.completion.chunk",
    created: spec.created,
    model: spec.model,
    system_fingerprint: spec.fingerprint,
    choices,
    ...(spec.nullUsage ? { usage: null } : {})
  })
  const perChoice = spec.choices.map((choice, index) =>
    chatDeltas(choice).map(({ delta, finish }) => ({ index, delta, logprobs: null, finish_reason: finish }))
  )
  const chunks = interleave(perChoice, spec.picks).map((choice) => envelope([choice]))
  if (spec.usage !== null) chunks.push({ ...envelope([]), usage: spec.usage })
  return chunks
}

/** The SSE body of a spec (blank-line framed, `[DONE]` when the spec says so). */
export const chatSse = (spec: ChatSpec): string =>
  chatChunks(spec).map((c) => sse(c)).join("") + (spec.done ? "data: [DONE]\n\n" : "")

const joinOrNull = (pieces: ReadonlyArray<string>): string | null => pieces.join("") === "" ? null : pieces.join("")

/** The `chat.completion` a spec's stream must fold into, from the spec alone. */
export const expectedChat = (spec: ChatSpec): Json => {
  const usage = spec.usage ?? (spec.nullUsage ? null : undefined)
  return {
    id: spec.id,
    object: "chat.completion",
    created: spec.created,
    model: spec.model,
    ...(spec.fingerprint === "" ? {} : { system_fingerprint: spec.fingerprint }),
    ...(usage === undefined ? {} : { usage }),
    choices: spec.choices.map((choice, index) => ({
      index,
      logprobs: null,
      finish_reason: choice.finish ?? "stop",
      message: {
        role: choice.role,
        content: joinOrNull(choice.content),
        refusal: joinOrNull(choice.refusal),
        ...(choice.tools.length === 0 ? {} : {
          tool_calls: choice.tools.map((tool) => ({
            id: tool.id,
            type: "function",
            function: { name: tool.name, arguments: tool.args.pieces.join("") }
          }))
        })
      }
    }))
  }
}

/** Every choice got a finish reason. */
export const expectedChatComplete = (spec: ChatSpec): boolean => spec.choices.every((c) => c.finish !== null)

// ---------------------------------------------------------------------------------------------------------------
// Responses
// ---------------------------------------------------------------------------------------------------------------

export type ResponsesItemSpec =
  | { readonly kind: "message"; readonly id: string; readonly parts: Array<Array<string>> }
  | { readonly kind: "function_call"; readonly id: string; readonly callId: string; readonly name: string; readonly args: { readonly value: Json; readonly pieces: Array<string> } }
  | { readonly kind: "reasoning"; readonly id: string; readonly summary: Array<Array<string>> }

export interface ResponsesSpec {
  readonly id: string
  readonly model: string
  readonly createdAt: number
  readonly items: Array<ResponsesItemSpec>
  readonly usage: { readonly input_tokens: number; readonly output_tokens: number; readonly total_tokens: number }
  readonly terminal: "completed" | "incomplete" | "failed" | null
  /** Send the `*.done` events (full values) as the API does; without them the fold must join the deltas. */
  readonly withDone: boolean
}

const itemId = (prefix: string) => FastCheck.stringMatching(new RegExp(`^${prefix}_[a-f0-9]{1,12}$`))

const responsesItemArbitrary: FastCheck.Arbitrary<ResponsesItemSpec> = FastCheck.oneof(
  FastCheck.record({
    kind: FastCheck.constant("message" as const),
    id: itemId("msg"),
    parts: FastCheck.array(FastCheck.array(textArbitrary(), { maxLength: 6 }), { minLength: 1, maxLength: 2 })
  }),
  FastCheck.record({
    kind: FastCheck.constant("function_call" as const),
    id: itemId("fc"),
    callId: itemId("call"),
    name: FastCheck.stringMatching(/^[a-z_]{1,10}$/),
    args: argumentsArbitrary
  }),
  FastCheck.record({
    kind: FastCheck.constant("reasoning" as const),
    id: itemId("rs"),
    summary: FastCheck.array(FastCheck.array(textArbitrary(), { maxLength: 6 }), { maxLength: 3 })
  })
)

export const responsesSpecArbitrary: FastCheck.Arbitrary<ResponsesSpec> = FastCheck.record({
  id: itemId("resp"),
  model: FastCheck.constantFrom("gpt-4.1", "o4-mini", "gpt-5"),
  createdAt: FastCheck.integer({ min: 1_700_000_000, max: 1_800_000_000 }),
  items: FastCheck.array(responsesItemArbitrary, { maxLength: 4 }),
  usage: FastCheck.record({ input_tokens: FastCheck.nat(9000), output_tokens: FastCheck.nat(9000) })
    .map((u) => ({ ...u, total_tokens: u.input_tokens + u.output_tokens })),
  terminal: FastCheck.constantFrom("completed" as const, "incomplete" as const, "failed" as const, null),
  withDone: FastCheck.boolean()
})

const textPart = (text: string): Json => ({ type: "output_text", text, annotations: [] })

/** An output item as it stands once streamed (`done`) or as `output_item.added` announces it. */
const itemState = (item: ResponsesItemSpec, done: boolean): Json => {
  const status = done ? "completed" : "in_progress"
  switch (item.kind) {
    case "message":
      return {
        id: item.id,
        type: "message",
        status,
        role: "assistant",
        content: done ? item.parts.map((p) => textPart(p.join(""))) : []
      }
    case "function_call":
      return {
        id: item.id,
        type: "function_call",
        status,
        call_id: item.callId,
        name: item.name,
        arguments: done ? item.args.pieces.join("") : ""
      }
    case "reasoning":
      return {
        id: item.id,
        type: "reasoning",
        summary: done ? item.summary.map((s) => ({ type: "summary_text", text: s.join("") })) : []
      }
  }
}

const responseObject = (spec: ResponsesSpec, status: string, output: Array<Json>, usage: Json | null): Json => ({
  id: spec.id,
  object: "response",
  created_at: spec.createdAt,
  status,
  model: spec.model,
  output,
  usage,
  error: status === "failed" ? { code: "server_error", message: "The model failed." } : null,
  incomplete_details: status === "incomplete" ? { reason: "max_output_tokens" } : null,
  metadata: {}
})

const itemEvents = (item: ResponsesItemSpec, outputIndex: number, withDone: boolean): Array<Json> => {
  const events: Array<Json> = [{ type: "response.output_item.added", output_index: outputIndex, item: itemState(item, false) }]
  const at = { item_id: item.id, output_index: outputIndex }
  switch (item.kind) {
    case "message":
      item.parts.forEach((pieces, contentIndex) => {
        const ix = { ...at, content_index: contentIndex }
        events.push({ type: "response.content_part.added", ...ix, part: textPart("") })
        for (const delta of pieces) events.push({ type: "response.output_text.delta", ...ix, delta, logprobs: [] })
        if (withDone) {
          events.push({ type: "response.output_text.done", ...ix, text: pieces.join(""), logprobs: [] })
          events.push({ type: "response.content_part.done", ...ix, part: textPart(pieces.join("")) })
        }
      })
      break
    case "function_call":
      for (const delta of item.args.pieces) events.push({ type: "response.function_call_arguments.delta", ...at, delta })
      if (withDone) events.push({ type: "response.function_call_arguments.done", ...at, arguments: item.args.pieces.join("") })
      break
    case "reasoning":
      item.summary.forEach((pieces, summaryIndex) => {
        const ix = { ...at, summary_index: summaryIndex }
        events.push({ type: "response.reasoning_summary_part.added", ...ix, part: { type: "summary_text", text: "" } })
        for (const delta of pieces) events.push({ type: "response.reasoning_summary_text.delta", ...ix, delta })
        if (withDone) {
          events.push({ type: "response.reasoning_summary_text.done", ...ix, text: pieces.join("") })
          events.push({ type: "response.reasoning_summary_part.done", ...ix, part: { type: "summary_text", text: pieces.join("") } })
        }
      })
      break
  }
  if (withDone) events.push({ type: "response.output_item.done", output_index: outputIndex, item: itemState(item, true) })
  return events
}

/** The Responses events of a spec, numbered with `sequence_number`. */
export const responsesEvents = (spec: ResponsesSpec): Array<Json> => {
  const events: Array<Json> = [
    { type: "response.created", response: responseObject(spec, "in_progress", [], null) },
    { type: "response.in_progress", response: responseObject(spec, "in_progress", [], null) }
  ]
  spec.items.forEach((item, i) => events.push(...itemEvents(item, i, spec.withDone)))
  const final = expectedFinalResponse(spec)
  if (final !== undefined) events.push({ type: `response.${spec.terminal}`, response: final })
  return events.map((e, sequence_number) => ({ ...e, sequence_number }))
}

export const responsesSse = (spec: ResponsesSpec): string =>
  responsesEvents(spec).map((e) => sse(e, e["type"] as string)).join("")

/** The terminal event's response: every item complete, with usage. Undefined without a terminal event. */
export const expectedFinalResponse = (spec: ResponsesSpec): Json | undefined =>
  spec.terminal === null
    ? undefined
    : responseObject(spec, spec.terminal, spec.items.map((item) => itemState(item, true)), spec.usage)

/**
 * The snapshot of a stream without a terminal event: items complete when the `.done` events were sent, else as
 * announced with the deltas joined (status still `in_progress`).
 */
export const expectedPartialResponse = (spec: ResponsesSpec): Json =>
  responseObject(
    spec,
    "in_progress",
    spec.items.map((item) => {
      if (spec.withDone) return itemState(item, true)
      const joined = itemState(item, true)
      return { ...joined, ...("status" in joined ? { status: "in_progress" } : {}) }
    }),
    null
  )

// ---------------------------------------------------------------------------------------------------------------
// Benchmark streams (deterministic)
// ---------------------------------------------------------------------------------------------------------------

const words = ["hello", "world", "stream", "token", "the", "model", "answer", "is", "data", "json", "of", "a"]
const multiByte = ["café", "naïve", "你好", "世界", "🎉", "👍🏽"]

const pseudoRandom = (seed: number) => () => {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff
  return seed
}

/** Token-sized text deltas: 1–4 words, a multi-byte word in one delta of ten. */
const deltaTexts = function*(seed: number): Generator<string> {
  const next = pseudoRandom(seed)
  for (;;) {
    let text = next() % 10 === 0 ? multiByte[next() % multiByte.length]! : ""
    const n = 1 + (next() % 4)
    for (let i = 0; i < n; i++) text += " " + words[next() % words.length]
    yield text
  }
}

const encodeAll = (parts: ReadonlyArray<string>): Uint8Array => new TextEncoder().encode(parts.join(""))

/**
 * A realistic gpt-5 style chat stream of at least `targetBytes`: role chunk, content deltas with `obfuscation`
 * and `usage: null`, a finish chunk, the usage chunk and `[DONE]`.
 */
export const chatBenchStream = (targetBytes: number): Uint8Array => {
  const envelope = { id: "chatcmpl-CBenchmark0123456789", object: "chat.completion.chunk", created: 1757000000, model: "gpt-5-2025-08-07", service_tier: "default", system_fingerprint: null }
  const chunk = (delta: Json, finish: string | null, obfuscation: string) =>
    sse({ ...envelope, choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }], usage: null, obfuscation })
  const parts = [chunk({ role: "assistant", content: "", refusal: null }, null, "x")]
  let size = parts[0]!.length
  const texts = deltaTexts(7)
  while (size < targetBytes) {
    const part = chunk({ content: texts.next().value }, null, "AbCdEf")
    parts.push(part)
    size += part.length
  }
  parts.push(chunk({}, "stop", "Qw"))
  parts.push(sse({ ...envelope, choices: [], usage: { prompt_tokens: 12, completion_tokens: parts.length, total_tokens: 12 + parts.length }, obfuscation: "z" }))
  parts.push("data: [DONE]\n\n")
  return encodeAll(parts)
}

/**
 * A realistic Responses stream of at least `targetBytes`: created, in_progress, one message whose text comes as
 * `output_text.delta` events, the `.done` events and `response.completed` (which repeats the whole text, as the
 * API does).
 */
export const responsesBenchStream = (targetBytes: number): Uint8Array => {
  const base = { id: "resp_0bench0123456789abcdef", object: "response", created_at: 1757000000, model: "gpt-5-2025-08-07", tools: [], metadata: {} }
  let seq = 0
  const event = (e: Json) => sse({ ...e, sequence_number: seq++ }, e["type"] as string)
  const at = { item_id: "msg_0bench0123456789abcdef", output_index: 0, content_index: 0 }
  const parts = [
    event({ type: "response.created", response: { ...base, status: "in_progress", output: [], usage: null } }),
    event({ type: "response.in_progress", response: { ...base, status: "in_progress", output: [], usage: null } }),
    event({ type: "response.output_item.added", output_index: 0, item: { id: at.item_id, type: "message", status: "in_progress", content: [], role: "assistant" } }),
    event({ type: "response.content_part.added", ...at, part: textPart("") })
  ]
  let size = parts.reduce((n, p) => n + p.length, 0)
  const texts = deltaTexts(11)
  let text = ""
  while (size < targetBytes) {
    const delta = texts.next().value
    text += delta
    const part = event({ type: "response.output_text.delta", ...at, delta, logprobs: [], obfuscation: "AbCdEf" })
    parts.push(part)
    size += part.length
  }
  const item = { id: at.item_id, type: "message", status: "completed", content: [textPart(text)], role: "assistant" }
  parts.push(event({ type: "response.output_text.done", ...at, text, logprobs: [] }))
  parts.push(event({ type: "response.content_part.done", ...at, part: textPart(text) }))
  parts.push(event({ type: "response.output_item.done", output_index: 0, item }))
  parts.push(event({
    type: "response.completed",
    response: { ...base, status: "completed", output: [item], usage: { input_tokens: 12, output_tokens: seq, total_tokens: 12 + seq } }
  }))
  return encodeAll(parts)
}
