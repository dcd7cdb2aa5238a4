/**
 * Anthropic Messages (`/v1/messages`, `stream: true`): the fold from stream events to the `message` the same
 * request would have returned without streaming.
 *
 * It keeps what the official SDK accumulator (`@anthropic-ai/sdk` `MessageStream`, and its superset
 * `BetaMessageStream`) keeps: `message_start`'s message with every field, content blocks by `index` with their real
 * types (text, tool_use, server_tool_use, mcp_tool_use, thinking + signature, redacted_thinking, web search and
 * other result blocks, compaction), `citations_delta` pushed to the block's `citations`, tool input parsed from
 * the joined `partial_json`, and `message_delta`'s stop fields and usage (present counters overwrite, never add).
 * It differs only where the SDK throws or drops data: it never throws (bad events are skipped and counted, an
 * `error` event is recorded, a stream cut short gives the partial message with `complete: false`), invalid tool
 * JSON gives `input: {}`, and every non-null usage counter of `message_delta` is kept, not only the known ones.
 *
 * Events are dispatched on the JSON `type` field, not on the SSE event name: some proxies drop `event:` lines.
 * Text, thinking and tool JSON deltas in the API's own serialisation (the bulk of a stream) are read without
 * `JSON.parse`; everything else is parsed. The wire Schemas are in `AnthropicMessagesSchema`.
 *
 * @since 0.1.0
 */
import type * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import type * as Fold from "../Fold.js"
import { forEachJson, isIndex, isRecord, type Json, nonEmpty, someNonEmpty, stepJson } from "../internal/json.js"
import type * as Sse from "../Sse.js"
import * as TokenUsage from "../TokenUsage.js"
import { GenAiOperations, GenAiOutputTypes } from "../tracing/Attributes.js"
import * as Api from "./Api.js"
import { type ContentBlock, Message } from "./AnthropicMessagesSchema.js"
import { JSON_INPUT, type PieceKind, scanDelta, TEXT, THINKING } from "./internal/anthropicFastDelta.js"
import * as Parameters from "./internal/requestParameters.js"
import * as streamError from "./internal/streamError.js"

/**
 * The event the fold reads and the message it gives (the Schemas and their types; content blocks, deltas and
 * each event's own Schema are in `AnthropicMessagesSchema`).
 *
 * @since 0.1.0
 * @category schemas
 */
export { Message, type Response, StreamEvent } from "./AnthropicMessagesSchema.js"

// ---------------------------------------------------------------------------------------------------------------
// Fold state
// ---------------------------------------------------------------------------------------------------------------

/**
 * Text built from many small deltas. `+=` would make a rope that keeps every piece alive, and a piece sliced from
 * an event's text keeps that whole text alive: joining every 64 pieces keeps memory proportional to the output.
 */
interface Builder {
  readonly joined: Array<string>
  readonly pending: Array<string>
}

const builder = (): Builder => ({ joined: [], pending: [] })

const append = (b: Builder, piece: string): void => {
  if (piece === "") return
  b.pending.push(piece)
  if (b.pending.length === 64) {
    b.joined.push(b.pending.join(""))
    b.pending.length = 0
  }
}

const build = (b: Builder): string => b.joined.join("") + b.pending.join("")

interface BlockState {
  readonly index: number
  /** The block as started (the parsed event is ours: no copy needed); never mutated by text deltas. */
  readonly block: Json
  /** Deltas appended to the block's `text` (text blocks) or `thinking` (thinking blocks). */
  appended: Builder | undefined
  /** The `partial_json` fragments of a tool block; undefined until the first `input_json_delta`. */
  json: Builder | undefined
}

/**
 * The fold's state: mutable, private to one run. O(output): one entry per content block with its joined text,
 * never the events.
 *
 * @since 0.1.0
 * @category models
 */
export interface State extends Api.JsonEventState {
  /** The message's own fields (id, model, role, stop_reason, …), without `content` and `usage`. */
  message: Json | undefined
  usage: Json | undefined
  readonly blocks: Map<number, BlockState>
  /** `message_stop` arrived. */
  stopped: boolean
}

/** An `event: error` block: its data is usually the error payload, but may be plain text or another JSON shape. */
const recordErrorEvent = (state: State, data: string): void => {
  if (state.error !== undefined) return
  const last = { payload: data as unknown }
  forEachJson(data, last, (holder, value) => {
    holder.payload = value
  })
  state.error = streamError.fromAnthropic(last.payload)
}

const makeState = (): State => ({
  message: undefined,
  usage: undefined,
  blocks: new Map(),
  stopped: false,
  skipped: 0,
  ended: false,
  error: undefined
})

const acceptPayload = (state: State, payload: unknown): void => {
  if (!isRecord(payload) || typeof payload["type"] !== "string") {
    state.skipped++
    return
  }
  switch (payload["type"]) {
    case "content_block_delta":
      return stepDelta(state, payload)
    case "message_start":
      return stepStart(state, payload)
    case "content_block_start":
      return stepBlockStart(state, payload)
    case "message_delta":
      return stepMessageDelta(state, payload)
    case "message_stop":
      state.stopped = true
      return
    case "error":
      state.error ??= streamError.fromAnthropic(payload)
      return
    // `ping`, `content_block_stop` and event types newer than this fold: nothing to keep.
  }
}

/** Keys the fold writes itself; never copied from the wire onto the message. */
const ownKeys = new Set(["content", "usage", "__proto__"])

const stepStart = (state: State, event: Json): void => {
  const message = event["message"]
  if (!isRecord(message)) {
    state.skipped++
    return
  }
  const target = state.message ??= {}
  for (const key in message) if (!ownKeys.has(key)) target[key] = message[key]
  if (isRecord(message["usage"])) state.usage = { ...message["usage"] }
  // A message_start that already carries content (never seen, allowed by the type) fills the first indices.
  const content = message["content"]
  if (Array.isArray(content)) {
    content.forEach((block, index) => {
      if (isRecord(block) && typeof block["type"] === "string") state.blocks.set(index, { index, block, appended: undefined, json: undefined })
    })
  }
}

const stepBlockStart = (state: State, event: Json): void => {
  const index = event["index"]
  const block = event["content_block"]
  if (!isIndex(index) || !isRecord(block) || typeof block["type"] !== "string") {
    state.skipped++
    return
  }
  state.blocks.set(index, { index, block, appended: undefined, json: undefined })
}

/** Blocks whose input streams as `input_json_delta`: `tool_use`, `server_tool_use`, `mcp_tool_use`, … */
const tracksInput = (type: unknown): boolean => typeof type === "string" && type.endsWith("tool_use")

/** Appends a string delta to its block, if the block is of the kind it applies to. */
const appendPiece = (entry: BlockState, kind: PieceKind, piece: string): void => {
  const type = entry.block["type"]
  if (kind === JSON_INPUT) {
    if (tracksInput(type)) append(entry.json ??= builder(), piece)
  } else if (type === (kind === TEXT ? "text" : "thinking")) {
    append(entry.appended ??= builder(), piece)
  }
}

const stepDelta = (state: State, event: Json): void => applyDelta(state, event["index"], event["delta"])

const applyDelta = (state: State, index: unknown, delta: unknown): void => {
  const entry = isIndex(index) ? state.blocks.get(index) : undefined
  if (entry === undefined || !isRecord(delta)) {
    // A delta for a block that never started, or without a delta: nothing it could apply to.
    state.skipped++
    return
  }
  const block = entry.block
  const type = block["type"]
  // A delta of the wrong kind for its block is ignored, as by the SDK (never coerced to another type).
  switch (delta["type"]) {
    case "text_delta":
      if (typeof delta["text"] === "string") appendPiece(entry, TEXT, delta["text"])
      return
    case "input_json_delta":
      if (typeof delta["partial_json"] === "string") appendPiece(entry, JSON_INPUT, delta["partial_json"])
      return
    case "thinking_delta":
      if (typeof delta["thinking"] === "string") appendPiece(entry, THINKING, delta["thinking"])
      return
    case "signature_delta":
      if (type === "thinking" && typeof delta["signature"] === "string") block["signature"] = delta["signature"]
      return
    case "citations_delta": {
      if (type !== "text" || !("citation" in delta)) return
      const citations = block["citations"]
      if (Array.isArray(citations)) citations.push(delta["citation"])
      else block["citations"] = [delta["citation"]]
      return
    }
    case "compaction_delta":
      // The delta carries the block's final value (null = compaction failed): assigned, as by the beta SDK.
      if (type === "compaction") {
        block["content"] = delta["content"]
        if ("encrypted_content" in delta) block["encrypted_content"] = delta["encrypted_content"]
      }
      return
    // Delta types newer than this fold: ignored, never failing.
  }
}

/** Stop fields the SDK replaces on every `message_delta` (absent in the delta = absent after it). */
const stopKeys = ["stop_reason", "stop_sequence", "stop_details"] as const

const stepMessageDelta = (state: State, event: Json): void => {
  const delta = event["delta"]
  const usage = event["usage"]
  if (!isRecord(delta) && !isRecord(usage)) {
    state.skipped++
    return
  }
  const message = state.message ??= {}
  if (isRecord(delta)) {
    for (const key of stopKeys) {
      if (key in delta) message[key] = delta[key]
      else delete message[key]
    }
    for (const key in delta) {
      const value = delta[key]
      if (value != null && !ownKeys.has(key) && !(stopKeys as ReadonlyArray<string>).includes(key)) message[key] = value
    }
  }
  // Fields beside `delta` (beta `context_management`, `input_transformations`) belong to the message too.
  for (const key in event) {
    if (key === "type" || key === "delta" || key === "usage" || ownKeys.has(key)) continue
    if (event[key] != null) message[key] = event[key]
  }
  if (isRecord(usage)) {
    // Cumulative totals: a present counter overwrites, never adds.
    const target = state.usage ??= {}
    for (const key in usage) if (usage[key] != null && key !== "__proto__") target[key] = usage[key]
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Result
// ---------------------------------------------------------------------------------------------------------------

/** The tool input from its joined JSON: `{}` when empty, invalid (cut short) or not an object. */
const parseInput = (json: string): unknown => {
  if (json === "") return {}
  try {
    const value: unknown = JSON.parse(json)
    return isRecord(value) ? value : {}
  } catch {
    return {}
  }
}

/** A fresh copy of a block, so that a result is never changed by later events. */
const toBlock = (entry: BlockState): ContentBlock => {
  const out: Json = { ...entry.block }
  if (Array.isArray(out["citations"])) out["citations"] = out["citations"].slice()
  if (entry.appended !== undefined) {
    const field = out["type"] === "text" ? "text" : "thinking"
    out[field] = (typeof out[field] === "string" ? out[field] : "") + build(entry.appended)
  }
  if (entry.json !== undefined) out["input"] = parseInput(build(entry.json))
  return out as ContentBlock
}

const byIndex = (a: BlockState, b: BlockState) => a.index - b.index

/** The `message` so far; the fields a message always has get their defaults. */
const toMessage = (state: State): Message => {
  const message = state.message ?? {}
  return {
    ...message,
    id: typeof message["id"] === "string" ? message["id"] : "",
    type: "message",
    role: nonEmpty(message["role"]) ? message["role"] : "assistant",
    model: typeof message["model"] === "string" ? message["model"] : "",
    content: Array.from(state.blocks.values()).sort(byIndex).map(toBlock),
    stop_reason: (message["stop_reason"] ?? null) as string | null,
    stop_sequence: (message["stop_sequence"] ?? null) as string | null,
    usage: { ...state.usage }
  }
}

const hasMessage = (state: State): boolean => nonEmpty(state.message?.["id"]) || state.blocks.size > 0

/**
 * An event by SSE name first (`event: error`), then the string deltas read without `JSON.parse`, then JSON.
 * Unlike JSON payloads, those two are applied even after `[DONE]`.
 */
const stepEvent = (state: State, event: Sse.Event, accept: Api.Accept<State>): State => {
  if (event.event === "error") {
    recordErrorEvent(state, event.data)
    return state
  }
  const delta = scanDelta(event.data)
  if (delta !== undefined) {
    const entry = state.blocks.get(delta.index)
    if (entry === undefined) state.skipped++
    else appendPiece(entry, delta.kind, delta.value)
    return state
  }
  return stepJson(state, event.data, accept)
}

// ---------------------------------------------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------------------------------------------

/**
 * Normalised usage (cache reads and writes added back into the input).
 *
 * @since 0.1.0
 * @category accessors
 */
export const usage = (response: Message): TokenUsage.TokenUsage => TokenUsage.fromAnthropic(response.usage)

/**
 * The request's parameters as GenAI attributes (`max_tokens`, `temperature`, `top_p`, `top_k`,
 * `stop_sequences`; a JSON `output_format` as the output type).
 *
 * @since 0.2.0
 * @category accessors
 */
export const requestAttributes = (body: unknown): Api.SpanAttributes => {
  const b = Parameters.fields(body)
  const format = Parameters.fields(b["output_format"])["type"]
  return Parameters.toAttributes({
    maxTokens: b["max_tokens"],
    temperature: b["temperature"],
    topP: b["top_p"],
    topK: b["top_k"],
    stopSequences: b["stop_sequences"],
    outputType: format === "json_schema" ? GenAiOutputTypes.Json : undefined
  })
}

const messages = Api.make<Message, State>({
  provider: "anthropic",
  operation: GenAiOperations.Chat,
  messageFormat: "anthropic",
  initial: makeState,
  accept: acceptPayload,
  step: stepEvent,
  hasResponse: hasMessage,
  response: toMessage,
  complete: (state) => state.stopped,
  decodeResponse: Schema.decodeUnknownOption(Message),
  usage,
  finishReasons: (response) => nonEmpty(response.stop_reason) ? [response.stop_reason] : [],
  responseId: (response) => someNonEmpty(response.id),
  responseModel: (response) => someNonEmpty(response.model),
  requestAttributes
})

/**
 * The fold over SSE events. `complete` is true once `message_stop` arrived; an `error` event (by JSON `type` or by
 * SSE event name) is recorded; data that is not JSON, or JSON that is not an event, is skipped and counted.
 * Without a message id and without blocks the result is None, unless an error arrived (then an empty message
 * carries it).
 *
 * @since 0.1.0
 * @category folding
 */
export const fold: Fold.Fold<Sse.Event, State, Api.Aggregate<Message>> = messages.fold

/**
 * Folds raw body chunks (SSE bytes, any split) into a `message`; None when no message id and no block arrived.
 *
 * @since 0.1.0
 * @category folding
 */
export const aggregate: (chunks: Iterable<Uint8Array>) => Option.Option<Message> = messages.aggregate

/**
 * Everything tracing needs to know about the Messages API.
 *
 * @since 0.1.0
 * @category api
 */
export const api: Api.Api<Message, State> = messages.api
