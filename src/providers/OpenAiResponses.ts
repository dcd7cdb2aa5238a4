/**
 * OpenAI Responses (`/v1/responses`, `stream: true`): the fold from stream events to the `response` object.
 *
 * Like the official SDK (`openai` `ResponseStream`), it keeps a snapshot: `response.created` starts it, output
 * items, content parts and text / argument / reasoning deltas build it, and the terminal event
 * (`response.completed`, `response.incomplete` or `response.failed`) replaces it with the server's final
 * `response`. Unlike the SDK it never throws: unknown event types are ignored (the API adds some monthly), events
 * that do not fit the snapshot are skipped and counted, an `error` event is recorded, and a stream cut short
 * still gives the partial snapshot (`complete: false`).
 *
 * @since 0.1.0
 */
import type * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import type * as Fold from "../Fold.js"
import { isIndex, isRecord, type Json, someNonEmpty } from "../internal/json.js"
import type * as Sse from "../Sse.js"
import * as TokenUsage from "../TokenUsage.js"
import { GenAiOperations } from "../tracing/Attributes.js"
import * as Api from "./Api.js"
import * as Parameters from "./internal/requestParameters.js"
import * as streamError from "./internal/streamError.js"
import { Response } from "./OpenAiResponsesSchema.js"

/**
 * The event the fold reads and the response it gives (the Schemas and their types; the other wire Schemas are
 * in `OpenAiResponsesSchema`).
 *
 * @since 0.1.0
 * @category schemas
 */
export { Response, StreamEvent } from "./OpenAiResponsesSchema.js"

// ---------------------------------------------------------------------------------------------------------------
// Fold state
// ---------------------------------------------------------------------------------------------------------------

/**
 * The fold's state: mutable, private to one run. O(output): one snapshot, never the events.
 *
 * @since 0.1.0
 * @category models
 */
export interface State extends Api.JsonEventState {
  /** The response so far; undefined until a lifecycle event (`response.created`, …) carried one. */
  snapshot: Json | undefined
  /** A terminal event arrived. */
  complete: boolean
}

const isResponse = Schema.is(Response)

/** An event handler: false when the event does not fit (missing item or field), which counts as skipped. */
type Handler = (snapshot: Json, event: Json) => boolean

/** Puts `value` at `index` (replacing, or appending at the end); pushes when the index is absent or too large. */
const place = (list: Array<unknown>, index: unknown, value: unknown): void => {
  if (isIndex(index) && index <= list.length) list[index] = value
  else list.push(value)
}

const listOf = (owner: Json, field: string): Array<unknown> => {
  const list = owner[field]
  if (Array.isArray(list)) return list
  const fresh: Array<unknown> = []
  owner[field] = fresh
  return fresh
}

/** The output item an event points at: undefined when missing, null when it is of another type (ignored). */
const itemAt = (snapshot: Json, event: Json, type: string | undefined): Json | null | undefined => {
  const output = snapshot["output"]
  const index = event["output_index"]
  if (!Array.isArray(output) || !isIndex(index)) return undefined
  const item: unknown = output[index]
  if (!isRecord(item)) return undefined
  return type === undefined || item["type"] === type ? item : null
}

/** A string field of an output item: `delta` appended, or replaced by the `.done` event's full value. */
const itemText = (type: string, field: string, from: string): Handler => (snapshot, event) => {
  const value = event[from]
  const item = itemAt(snapshot, event, type)
  if (typeof value !== "string" || item === undefined) return false
  if (item !== null) item[field] = from === "delta" ? (typeof item[field] === "string" ? item[field] : "") + value : value
  return true
}

/** A string field of a part (`content[content_index]`, `summary[summary_index]`) of an output item. */
const partText = (
  itemType: string,
  list: string,
  indexField: string,
  partType: string | undefined,
  field: string,
  from: string
): Handler =>
(snapshot, event) => {
  const value = event[from]
  const item = itemAt(snapshot, event, itemType)
  if (typeof value !== "string" || item === undefined) return false
  if (item === null) return true
  const parts = item[list]
  const index = event[indexField]
  const part: unknown = Array.isArray(parts) && isIndex(index) ? parts[index] : undefined
  if (!isRecord(part) || (partType !== undefined && part["type"] !== partType)) return false
  part[field] = from === "delta" ? (typeof part[field] === "string" ? part[field] : "") + value : value
  return true
}

/** `content_part.added` / `.done`: reasoning text parts go to reasoning items, every other part to messages. */
const contentPart: Handler = (snapshot, event) => {
  const part = event["part"]
  const item = itemAt(snapshot, event, undefined)
  if (!isRecord(part) || !isRecord(item)) return false
  const reasoningText = part["type"] === "reasoning_text"
  if (item["type"] === (reasoningText ? "reasoning" : "message")) place(listOf(item, "content"), event["content_index"], part)
  return true
}

const outputItem: Handler = (snapshot, event) => {
  const item = event["item"]
  if (!isRecord(item)) return false
  place(listOf(snapshot, "output"), event["output_index"], item)
  return true
}

const summaryPart: Handler = (snapshot, event) => {
  const part = event["part"]
  const item = itemAt(snapshot, event, "reasoning")
  if (!isRecord(part) || item === undefined) return false
  if (item !== null) place(listOf(item, "summary"), event["summary_index"], part)
  return true
}

const annotation: Handler = (snapshot, event) => {
  const item = itemAt(snapshot, event, "message")
  if (!isRecord(event["annotation"]) || item === undefined) return false
  if (item === null) return true
  const parts = item["content"]
  const index = event["content_index"]
  const part: unknown = Array.isArray(parts) && isIndex(index) ? parts[index] : undefined
  if (!isRecord(part) || part["type"] !== "output_text") return false
  place(listOf(part, "annotations"), event["annotation_index"], event["annotation"])
  return true
}

const handlers = new Map<string, Handler>([
  ["response.output_item.added", outputItem],
  ["response.output_item.done", outputItem],
  ["response.content_part.added", contentPart],
  ["response.content_part.done", contentPart],
  ["response.output_text.delta", partText("message", "content", "content_index", "output_text", "text", "delta")],
  ["response.output_text.done", partText("message", "content", "content_index", "output_text", "text", "text")],
  ["response.output_text.annotation.added", annotation],
  ["response.refusal.delta", partText("message", "content", "content_index", "refusal", "refusal", "delta")],
  ["response.refusal.done", partText("message", "content", "content_index", "refusal", "refusal", "refusal")],
  ["response.reasoning_text.delta", partText("reasoning", "content", "content_index", "reasoning_text", "text", "delta")],
  ["response.reasoning_text.done", partText("reasoning", "content", "content_index", "reasoning_text", "text", "text")],
  ["response.reasoning_summary_part.added", summaryPart],
  ["response.reasoning_summary_part.done", summaryPart],
  ["response.reasoning_summary_text.delta", partText("reasoning", "summary", "summary_index", undefined, "text", "delta")],
  ["response.reasoning_summary_text.done", partText("reasoning", "summary", "summary_index", undefined, "text", "text")],
  ["response.function_call_arguments.delta", itemText("function_call", "arguments", "delta")],
  ["response.function_call_arguments.done", itemText("function_call", "arguments", "arguments")],
  ["response.custom_tool_call_input.delta", itemText("custom_tool_call", "input", "delta")],
  ["response.custom_tool_call_input.done", itemText("custom_tool_call", "input", "input")],
  ["response.mcp_call_arguments.delta", itemText("mcp_call", "arguments", "delta")],
  ["response.mcp_call_arguments.done", itemText("mcp_call", "arguments", "arguments")],
  ["response.code_interpreter_call_code.delta", itemText("code_interpreter_call", "code", "delta")],
  ["response.code_interpreter_call_code.done", itemText("code_interpreter_call", "code", "code")]
])

/** `response.<tool>_call.<status>` (web search, file search, code interpreter, image generation, MCP, …). */
const toolStatus = /^response\.([a-z_]+_call)\.(in_progress|searching|interpreting|generating|completed|failed)$/

const terminal = new Set(["response.completed", "response.incomplete", "response.failed"])
const lifecycle = new Set(["response.created", "response.queued", "response.in_progress", ...terminal])

const makeState = (): State => ({ snapshot: undefined, complete: false, skipped: 0, ended: false, error: undefined })

const acceptPayload = (state: State, payload: unknown): void => {
  if (!acceptEvent(state, payload)) state.skipped++
}

/** Applies one event; false when it is not an event or does not fit the snapshot. */
const acceptEvent = (state: State, event: unknown): boolean => {
  if (!isRecord(event)) return false
  const type = event["type"]
  const error = event["error"]
  if (type === "error" || (isRecord(error) && type === undefined)) {
    // Current shape: `{"type":"error","error":{…}}`; the 2025 shape put `code` and `message` on the event.
    state.error ??= streamError.fromOpenAi(isRecord(error) ? error : { code: event["code"], message: event["message"] })
    return true
  }
  if (typeof type !== "string") return false
  if (lifecycle.has(type)) {
    const response = event["response"]
    if (!isResponse(response)) return false
    // Parsed from this event's own JSON: nothing else holds it, so no clone (unlike the SDK's structuredClone).
    state.snapshot = response as Json
    if (terminal.has(type)) state.complete = true
    return true
  }
  const snapshot = state.snapshot
  const handler = handlers.get(type)
  if (handler !== undefined) return snapshot === undefined || handler(snapshot, event)
  const status = toolStatus.exec(type)
  if (status !== null && snapshot !== undefined) {
    const item = itemAt(snapshot, event, status[1])
    if (item === undefined) return false
    if (item !== null) item["status"] = status[2]
  }
  return true
}

// ---------------------------------------------------------------------------------------------------------------
// Result and public API
// ---------------------------------------------------------------------------------------------------------------

/** What an error-only stream folds into: no response object ever arrived. */
const failedWithoutResponse = (): Response => ({ id: "", object: "response", status: "failed", output: [] })

const snapshotOf = (state: State): Response => (state.snapshot as Response | undefined) ?? failedWithoutResponse()

/**
 * Normalised usage (`input_tokens` with cached tokens, `output_tokens` with reasoning tokens).
 *
 * @since 0.1.0
 * @category accessors
 */
export const usage = (response: Response): TokenUsage.TokenUsage => TokenUsage.fromOpenAiResponses(response.usage)

const toolCallTypes = new Set(["function_call", "custom_tool_call"])

/**
 * Finish reasons in the Chat Completions vocabulary: `completed` → `tool_calls` when the output holds a function
 * (or custom tool) call for the caller to run, else `stop`; `incomplete` → `incomplete_details.reason`
 * (`max_output_tokens`, `content_filter`) or `length`; `failed` → `error`; `cancelled` → `cancelled`; none while
 * the response is still `queued` / `in_progress`.
 *
 * @since 0.1.0
 * @category accessors
 */
export const finishReasons = (response: Response): ReadonlyArray<string> => {
  switch (response.status) {
    case "completed":
      return [response.output.some((item) => toolCallTypes.has(item.type)) ? "tool_calls" : "stop"]
    case "incomplete":
      return [response.incomplete_details?.reason ?? "length"]
    case "failed":
      return ["error"]
    case "cancelled":
      return ["cancelled"]
    default:
      return []
  }
}

/**
 * The request's parameters as GenAI attributes (`max_output_tokens`, `temperature`, `top_p`, `text.format` as
 * the output type, `service_tier`).
 *
 * @since 0.2.0
 * @category accessors
 */
export const requestAttributes = (body: unknown): Api.SpanAttributes => {
  const b = Parameters.fields(body)
  const text = b["text"]
  return Parameters.toAttributes({
    maxTokens: b["max_output_tokens"],
    temperature: b["temperature"],
    topP: b["top_p"],
    outputType: Parameters.openAiFormatType(typeof text === "object" && text !== null ? (text as Record<string, unknown>)["format"] : undefined),
    serviceTier: b["service_tier"]
  })
}

const responses = Api.make<Response, State>({
  provider: "openai",
  operation: GenAiOperations.Chat,
  messageFormat: "openai",
  initial: makeState,
  accept: acceptPayload,
  hasResponse: (state) => state.snapshot !== undefined,
  response: snapshotOf,
  complete: (state) => state.complete,
  aggregateWhen: (state) => state.complete && state.snapshot !== undefined,
  decodeResponse: Schema.decodeUnknownOption(Response),
  usage,
  finishReasons,
  responseId: (response) => someNonEmpty(response.id),
  responseModel: (response) => someNonEmpty(response.model),
  requestAttributes,
  responseAttributes: Parameters.openAiResponseAttributes
})

/**
 * The fold over SSE events. `done` gives the snapshot even without a terminal event (`complete: false`), so an
 * interrupted call is still traced with what arrived. The response is the fold's own snapshot (not a copy): read
 * it once the stream is over.
 *
 * @since 0.1.0
 * @category folding
 */
export const fold: Fold.Fold<Sse.Event, State, Api.Aggregate<Response>> = responses.fold

/**
 * Folds raw body chunks (SSE bytes, any split) into the final `response`: the terminal event's. None when no
 * terminal event arrived (use {@link fold} for the partial snapshot).
 *
 * @since 0.1.0
 * @category folding
 */
export const aggregate: (chunks: Iterable<Uint8Array>) => Option.Option<Response> = responses.aggregate

/**
 * Everything tracing needs to know about the Responses API.
 *
 * @since 0.1.0
 * @category api
 */
export const api: Api.Api<Response, State> = responses.api
