/**
 * The echo provider's replies, per dialect: the JSON body of a non-streamed reply and the events of a streamed
 * one, as each real API writes them (ids, usage, finish markers, `include_usage`, Gemini's CRLF framing).
 *
 * @internal
 */
import type * as Dialect from "../Dialect.js"

/** One token per maximal run of non-whitespace characters (see `Echo.countTokens`). @internal */
export const countTokens = (text: string): number => {
  const words = text.match(/\S+/g)
  return words === null ? 0 : words.length
}

/** Everything one reply needs. @internal */
export interface Turn {
  readonly id: string
  /** Unix seconds. */
  readonly created: number
  readonly model: string
  readonly text: string
  readonly pieces: ReadonlyArray<string>
  readonly inputTokens: number
  readonly outputTokens: number
  readonly body: unknown
}

/** A streamed reply: events before the words, one event per word, events after. @internal */
export interface Script {
  readonly head: ReadonlyArray<string>
  readonly words: ReadonlyArray<string>
  readonly tail: ReadonlyArray<string>
}

const field = (value: unknown, key: string): unknown =>
  typeof value === "object" && value !== null ? (value as Record<string, unknown>)[key] : undefined

const data = (payload: unknown): string => `data: ${JSON.stringify(payload)}\n\n`
const named = (event: string, payload: unknown): string => `event: ${event}\ndata: ${JSON.stringify(payload)}\n\n`

// OpenAI Chat Completions ----------------------------------------------------------------------------------------

const chatUsage = (t: Turn) => ({
  prompt_tokens: t.inputTokens,
  completion_tokens: t.outputTokens,
  total_tokens: t.inputTokens + t.outputTokens,
  prompt_tokens_details: { cached_tokens: 0 },
  completion_tokens_details: { reasoning_tokens: 0 }
})

const chatJson = (t: Turn) => ({
  id: t.id,
  object: "chat.completion",
  created: t.created,
  model: t.model,
  choices: [{
    index: 0,
    message: { role: "assistant", content: t.text, refusal: null, annotations: [] },
    logprobs: null,
    finish_reason: "stop"
  }],
  usage: chatUsage(t),
  system_fingerprint: null
})

const chatScript = (t: Turn): Script => {
  // As the real API: with include_usage every chunk carries `usage: null`, then one `choices: []` usage chunk.
  const includeUsage = field(field(t.body, "stream_options"), "include_usage") === true
  const chunk = (choices: ReadonlyArray<unknown>, usage: unknown = null) =>
    data({
      id: t.id,
      object: "chat.completion.chunk",
      created: t.created,
      model: t.model,
      system_fingerprint: null,
      choices,
      ...(includeUsage ? { usage } : {})
    })
  const choice = (delta: unknown, finish: string | null) => ({ index: 0, delta, logprobs: null, finish_reason: finish })
  return {
    head: [chunk([choice({ role: "assistant", content: "", refusal: null }, null)])],
    words: t.pieces.map((piece) => chunk([choice({ content: piece }, null)])),
    tail: [
      chunk([choice({}, "stop")]),
      ...(includeUsage ? [chunk([], chatUsage(t))] : []),
      "data: [DONE]\n\n"
    ]
  }
}

// OpenAI legacy Completions --------------------------------------------------------------------------------------

const completionUsage = (t: Turn) => ({
  prompt_tokens: t.inputTokens,
  completion_tokens: t.outputTokens,
  total_tokens: t.inputTokens + t.outputTokens
})

const completionJson = (t: Turn) => ({
  id: t.id,
  object: "text_completion",
  created: t.created,
  model: t.model,
  choices: [{ text: t.text, index: 0, logprobs: null, finish_reason: "stop" }],
  usage: completionUsage(t)
})

const completionScript = (t: Turn): Script => {
  // As chat: with include_usage every chunk carries `usage: null`, then one `choices: []` usage chunk.
  const includeUsage = field(field(t.body, "stream_options"), "include_usage") === true
  const chunk = (choices: ReadonlyArray<unknown>, usage: unknown = null) =>
    data({ id: t.id, object: "text_completion", created: t.created, model: t.model, choices, ...(includeUsage ? { usage } : {}) })
  const choice = (text: string, finish: string | null) => ({ text, index: 0, logprobs: null, finish_reason: finish })
  return {
    head: [],
    words: t.pieces.map((piece) => chunk([choice(piece, null)])),
    tail: [
      chunk([choice("", "stop")]),
      ...(includeUsage ? [chunk([], completionUsage(t))] : []),
      "data: [DONE]\n\n"
    ]
  }
}

// Embeddings -----------------------------------------------------------------------------------------------------

/** A deterministic vector of `text` (FNV-1a of the text and the position, in [-1, 1)): same text, same vector. */
const vector = (text: string, dimensions: number): Array<number> => {
  const out: Array<number> = []
  for (let i = 0; i < dimensions; i++) {
    let hash = 0x811c9dc5
    const key = `${i}:${text}`
    for (let j = 0; j < key.length; j++) hash = Math.imul(hash ^ key.charCodeAt(j), 0x01000193)
    // float32-exact, so that the base64 encoding decodes to the same numbers.
    out.push(Math.fround(((hash >>> 0) / 2 ** 31) - 1))
  }
  return out
}

/** The requested size within 1..4096, else 8 (a small default: echo vectors carry no meaning). */
const dimensionsOf = (requested: unknown): number =>
  typeof requested === "number" && Number.isInteger(requested) && requested >= 1 && requested <= 4096 ? requested : 8

const base64 = (values: ReadonlyArray<number>): string => Buffer.from(new Float32Array(values).buffer).toString("base64")

const inputsOf = (body: unknown): ReadonlyArray<string> => {
  const input = field(body, "input")
  return typeof input === "string" ? [input] : Array.isArray(input) ? input.filter((s): s is string => typeof s === "string") : []
}

const embeddingsJson = (t: Turn) => {
  const dimensions = dimensionsOf(field(t.body, "dimensions"))
  const encode = field(t.body, "encoding_format") === "base64" ? base64 : (v: Array<number>) => v
  return {
    object: "list",
    data: inputsOf(t.body).map((text, index) => ({ object: "embedding", index, embedding: encode(vector(text, dimensions)) })),
    model: t.model,
    usage: { prompt_tokens: t.inputTokens, total_tokens: t.inputTokens }
  }
}

const geminiTextOf = (request: unknown): string => {
  const parts = field(field(request, "content"), "parts")
  return Array.isArray(parts) ? parts.flatMap((p) => typeof field(p, "text") === "string" ? [field(p, "text") as string] : []).join("\n") : ""
}

/** The Gemini API reports no usage for embeddings: none here either. */
const geminiEmbedding = (request: unknown) => ({ values: vector(geminiTextOf(request), dimensionsOf(field(request, "outputDimensionality"))) })

const geminiBatchJson = (t: Turn) => {
  const requests = field(t.body, "requests")
  return { embeddings: (Array.isArray(requests) ? requests : []).map(geminiEmbedding) }
}

/** A JSON-only API asked to stream (never, as echo renders them): its JSON as the one event. */
const single = (payload: unknown): Script => ({ head: [], words: [], tail: [data(payload)] })

// OpenAI Responses -----------------------------------------------------------------------------------------------

const responsesUsage = (t: Turn) => ({
  input_tokens: t.inputTokens,
  input_tokens_details: { cached_tokens: 0 },
  output_tokens: t.outputTokens,
  output_tokens_details: { reasoning_tokens: 0 },
  total_tokens: t.inputTokens + t.outputTokens
})

const messageId = (t: Turn) => `msg_${t.id.slice("resp_".length)}`
const outputText = (text: string) => ({ type: "output_text", annotations: [], logprobs: [], text })
const messageItem = (t: Turn, done: boolean) => ({
  id: messageId(t),
  type: "message",
  status: done ? "completed" : "in_progress",
  content: done ? [outputText(t.text)] : [],
  role: "assistant"
})

const response = (t: Turn, done: boolean) => {
  const instructions = field(t.body, "instructions")
  return {
    id: t.id,
    object: "response",
    created_at: t.created,
    status: done ? "completed" : "in_progress",
    background: false,
    completed_at: done ? t.created : null,
    error: null,
    incomplete_details: null,
    instructions: typeof instructions === "string" ? instructions : null,
    max_output_tokens: null,
    model: t.model,
    output: done ? [messageItem(t, true)] : [],
    parallel_tool_calls: true,
    previous_response_id: null,
    reasoning: { effort: null, summary: null },
    store: false,
    temperature: 1,
    text: { format: { type: "text" } },
    tool_choice: "auto",
    tools: [],
    top_p: 1,
    truncation: "disabled",
    usage: done ? responsesUsage(t) : null,
    metadata: {}
  }
}

const responsesScript = (t: Turn): Script => {
  let sequence = 0
  const event = (type: string, payload: Record<string, unknown>) =>
    named(type, { type, ...payload, sequence_number: sequence++ })
  const where = { item_id: messageId(t), output_index: 0, content_index: 0 }
  const head = [
    event("response.created", { response: response(t, false) }),
    event("response.in_progress", { response: response(t, false) }),
    event("response.output_item.added", { output_index: 0, item: messageItem(t, false) }),
    event("response.content_part.added", { ...where, part: outputText("") })
  ]
  const words = t.pieces.map((delta) => event("response.output_text.delta", { ...where, delta, logprobs: [] }))
  const tail = [
    event("response.output_text.done", { ...where, text: t.text, logprobs: [] }),
    event("response.content_part.done", { ...where, part: outputText(t.text) }),
    event("response.output_item.done", { output_index: 0, item: messageItem(t, true) }),
    event("response.completed", { response: response(t, true) })
  ]
  return { head, words, tail }
}

// Anthropic Messages ---------------------------------------------------------------------------------------------

const anthropicUsage = (t: Turn, outputTokens: number) => ({
  input_tokens: t.inputTokens,
  cache_creation_input_tokens: 0,
  cache_read_input_tokens: 0,
  output_tokens: outputTokens
})

const anthropicJson = (t: Turn) => ({
  id: t.id,
  type: "message",
  role: "assistant",
  model: t.model,
  content: [{ type: "text", text: t.text }],
  stop_reason: "end_turn",
  stop_sequence: null,
  usage: anthropicUsage(t, t.outputTokens)
})

const anthropicScript = (t: Turn): Script => {
  const event = (type: string, payload: Record<string, unknown> = {}) => named(type, { type, ...payload })
  return {
    head: [
      event("message_start", { message: { ...anthropicJson(t), content: [], stop_reason: null, usage: anthropicUsage(t, 0) } }),
      event("content_block_start", { index: 0, content_block: { type: "text", text: "" } }),
      event("ping")
    ],
    words: t.pieces.map((text) => event("content_block_delta", { index: 0, delta: { type: "text_delta", text } })),
    tail: [
      event("content_block_stop", { index: 0 }),
      event("message_delta", { delta: { stop_reason: "end_turn", stop_sequence: null }, usage: anthropicUsage(t, t.outputTokens) }),
      event("message_stop")
    ]
  }
}

// Gemini generateContent -----------------------------------------------------------------------------------------

const geminiChunk = (t: Turn, text: string, outputTokens: number, last: boolean) => ({
  candidates: [{ content: { parts: [{ text }], role: "model" }, ...(last ? { finishReason: "STOP" } : {}), index: 0 }],
  usageMetadata: {
    promptTokenCount: t.inputTokens,
    candidatesTokenCount: outputTokens,
    totalTokenCount: t.inputTokens + outputTokens
  },
  modelVersion: t.model,
  responseId: t.id
})

const geminiScript = (t: Turn): Script => {
  // The Gemini API frames its SSE with CRLF; usageMetadata holds running totals.
  const frame = (payload: unknown) => `data: ${JSON.stringify(payload)}\r\n\r\n`
  if (t.pieces.length === 0) return { head: [], words: [], tail: [frame(geminiChunk(t, "", 0, true))] }
  let soFar = 0
  const words = t.pieces.map((piece, i) => {
    soFar += countTokens(piece)
    return frame(geminiChunk(t, piece, soFar, i === t.pieces.length - 1))
  })
  return { head: [], words, tail: [] }
}

/** The streamed events of a reply. @internal */
export const script = (dialect: Dialect.Id, t: Turn): Script => {
  switch (dialect) {
    case "openai.chat":
      return chatScript(t)
    case "openai.responses":
      return responsesScript(t)
    case "anthropic.messages":
      return anthropicScript(t)
    case "gemini.generateContent":
      return geminiScript(t)
    case "openai.completions":
      return completionScript(t)
    case "openai.embeddings":
    case "gemini.embedContent":
    case "gemini.batchEmbedContents":
      return single(json(dialect, t))
  }
}

/** The JSON body of a non-streamed reply. @internal */
export const json = (dialect: Dialect.Id, t: Turn): unknown => {
  switch (dialect) {
    case "openai.chat":
      return chatJson(t)
    case "openai.responses":
      return response(t, true)
    case "anthropic.messages":
      return anthropicJson(t)
    case "gemini.generateContent":
      return geminiChunk(t, t.text, t.outputTokens, true)
    case "openai.completions":
      return completionJson(t)
    case "openai.embeddings":
      return embeddingsJson(t)
    case "gemini.embedContent":
      return { embedding: geminiEmbedding(t.body) }
    case "gemini.batchEmbedContents":
      return geminiBatchJson(t)
  }
}
