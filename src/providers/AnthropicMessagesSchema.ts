/**
 * Anthropic Messages wire formats: the stream events, content blocks and deltas, and the `message` a stream folds
 * into (see `AnthropicMessages` for the fold). Every struct keeps the fields it does not name: Anthropic adds
 * block types, delta types and usage counters monthly.
 *
 * @since 0.2.0
 */
import * as Schema from "effect/Schema"
import { open, optionalNullable } from "../internal/json.js"

const NullableString = optionalNullable(Schema.String)
const NullableNumber = optionalNullable(Schema.Number)

/**
 * Token counts. `input_tokens` excludes cache reads and writes; `message_delta` repeats the cumulative totals.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Usage = open({
  input_tokens: NullableNumber,
  output_tokens: NullableNumber,
  cache_creation_input_tokens: NullableNumber,
  cache_read_input_tokens: NullableNumber
})

/**
 * @since 0.1.0
 * @category models
 */
export type Usage = typeof Usage.Type

/**
 * Any content block: its `type` and every other field as sent (see the specific block schemas below).
 *
 * @since 0.1.0
 * @category schemas
 */
export const ContentBlock = open({ type: Schema.String })

/**
 * @since 0.1.0
 * @category models
 */
export type ContentBlock = typeof ContentBlock.Type

/**
 * @since 0.1.0
 * @category schemas
 */
export const TextBlock = open({
  type: Schema.Literal("text"),
  text: Schema.String,
  citations: optionalNullable(Schema.Array(Schema.Unknown))
})

/**
 * A client tool call (`tool_use`), or a server-side one (`server_tool_use`, `mcp_tool_use`).
 *
 * @since 0.1.0
 * @category schemas
 */
export const ToolUseBlock = open({
  type: Schema.Literal("tool_use", "server_tool_use", "mcp_tool_use"),
  id: Schema.String,
  name: Schema.String,
  input: Schema.Unknown
})

/**
 * @since 0.1.0
 * @category schemas
 */
export const ThinkingBlock = open({
  type: Schema.Literal("thinking"),
  thinking: Schema.String,
  signature: Schema.optional(Schema.String)
})

/**
 * @since 0.1.0
 * @category schemas
 */
export const RedactedThinkingBlock = open({ type: Schema.Literal("redacted_thinking"), data: Schema.String })

/**
 * The result of a server tool (`web_search_tool_result`, `mcp_tool_result`, …): arrives whole in
 * `content_block_start`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ToolResultBlock = open({
  type: Schema.String,
  tool_use_id: Schema.String,
  content: Schema.Unknown
})

/**
 * A `message`: the non-streaming response, and what a stream folds into.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Message = open({
  id: Schema.String,
  type: Schema.Literal("message"),
  role: Schema.String,
  model: Schema.String,
  content: Schema.Array(ContentBlock),
  stop_reason: NullableString,
  stop_sequence: NullableString,
  usage: Usage
})

/**
 * @since 0.1.0
 * @category models
 */
export type Message = typeof Message.Type

/**
 * The response type of this API (alias of {@link Message}).
 *
 * @since 0.1.0
 * @category models
 */
export type Response = Message

/**
 * @since 0.1.0
 * @category schemas
 */
export const TextDelta = open({ type: Schema.Literal("text_delta"), text: Schema.String })

/**
 * A fragment of a tool call's JSON input; the fragments joined are the input.
 *
 * @since 0.1.0
 * @category schemas
 */
export const InputJsonDelta = open({ type: Schema.Literal("input_json_delta"), partial_json: Schema.String })

/**
 * @since 0.1.0
 * @category schemas
 */
export const ThinkingDelta = open({ type: Schema.Literal("thinking_delta"), thinking: Schema.String })

/**
 * The thinking block's signature (replaces, not appends).
 *
 * @since 0.1.0
 * @category schemas
 */
export const SignatureDelta = open({ type: Schema.Literal("signature_delta"), signature: Schema.String })

/**
 * One citation, pushed to the text block's `citations`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const CitationsDelta = open({ type: Schema.Literal("citations_delta"), citation: Schema.Unknown })

/**
 * The compaction block's final `content` (assigned, not appended).
 *
 * @since 0.1.0
 * @category schemas
 */
export const CompactionDelta = open({ type: Schema.Literal("compaction_delta"), content: Schema.NullOr(Schema.String) })

/**
 * Any delta: its `type` and fields as sent. Unknown types are ignored by the fold.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Delta = open({ type: Schema.String })

/**
 * @since 0.1.0
 * @category schemas
 */
export const MessageStartEvent = open({
  type: Schema.Literal("message_start"),
  message: open({
    id: Schema.String,
    model: Schema.String,
    type: Schema.optional(Schema.String),
    role: Schema.optional(Schema.String),
    content: Schema.optional(Schema.Array(ContentBlock)),
    usage: Schema.optional(Usage)
  })
})

/**
 * @since 0.1.0
 * @category schemas
 */
export const ContentBlockStartEvent = open({
  type: Schema.Literal("content_block_start"),
  index: Schema.Number,
  content_block: ContentBlock
})

/**
 * @since 0.1.0
 * @category schemas
 */
export const ContentBlockDeltaEvent = open({
  type: Schema.Literal("content_block_delta"),
  index: Schema.Number,
  delta: Delta
})

/**
 * @since 0.1.0
 * @category schemas
 */
export const ContentBlockStopEvent = open({ type: Schema.Literal("content_block_stop"), index: Schema.Number })

/**
 * The stop fields and the cumulative usage (beta adds `context_management` beside `delta`).
 *
 * @since 0.1.0
 * @category schemas
 */
export const MessageDeltaEvent = open({
  type: Schema.Literal("message_delta"),
  delta: open({ stop_reason: NullableString, stop_sequence: NullableString }),
  usage: Schema.optional(Usage)
})

/**
 * @since 0.1.0
 * @category schemas
 */
export const MessageStopEvent = open({ type: Schema.Literal("message_stop") })

/**
 * @since 0.1.0
 * @category schemas
 */
export const PingEvent = open({ type: Schema.Literal("ping") })

/**
 * An error inside a 200 stream (`event: error`), e.g. `overloaded_error`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ErrorEvent = open({
  type: Schema.Literal("error"),
  error: open({ type: Schema.String, message: Schema.String })
})

/**
 * One stream event (the data of one SSE event).
 *
 * @since 0.1.0
 * @category schemas
 */
export const StreamEvent = Schema.Union(
  MessageStartEvent,
  ContentBlockStartEvent,
  ContentBlockDeltaEvent,
  ContentBlockStopEvent,
  MessageDeltaEvent,
  MessageStopEvent,
  PingEvent,
  ErrorEvent
)

/**
 * @since 0.1.0
 * @category models
 */
export type StreamEvent = typeof StreamEvent.Type
