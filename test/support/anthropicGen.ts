/**
 * Generators of valid Anthropic Messages streams for property tests and benchmarks.
 *
 * Each random stream comes with the `message` it must fold into, computed here from the generator's own inputs
 * (the text pieces joined, the tool input value the `partial_json` fragments were cut from, the usage counters
 * merged as the API reports them), never by the fold under test.
 */
import { FastCheck } from "effect"
import { argumentsArbitrary, textArbitrary } from "./openaiGen.js"

type Json = Record<string, unknown>

export type AnthropicBlockSpec =
  | { readonly kind: "text"; readonly pieces: Array<string>; readonly citations: Array<Json> }
  | {
    readonly kind: "tool_use" | "server_tool_use"
    readonly id: string
    readonly name: string
    readonly args: { readonly value: Json; readonly pieces: Array<string> }
  }
  | { readonly kind: "thinking"; readonly pieces: Array<string>; readonly signature: string | null }
  | { readonly kind: "redacted_thinking"; readonly data: string }
  | { readonly kind: "web_search_tool_result"; readonly toolUseId: string; readonly content: Array<Json> }

export interface AnthropicUsageSpec {
  readonly input_tokens: number
  readonly output_tokens: number
  readonly cache_read_input_tokens?: number
  readonly cache_creation_input_tokens?: number
}

export interface AnthropicSpec {
  readonly id: string
  readonly model: string
  readonly blocks: Array<AnthropicBlockSpec>
  readonly startUsage: AnthropicUsageSpec
  /** `message_delta`'s usage (cumulative totals); null: the stream is cut before `message_delta`. */
  readonly delta: { readonly stopReason: string; readonly stopSequence: string | null; readonly usage: Json } | null
  /** `message_stop` arrives (only when `delta` did). */
  readonly stop: boolean
  /** Where `ping` events go (event positions, modulo the event count). */
  readonly pings: Array<number>
  /** `event:` lines before each `data:` line (the API sends them; some proxies drop them). */
  readonly named: boolean
  readonly crlf: boolean
}

const citationArbitrary: FastCheck.Arbitrary<Json> = FastCheck.record({
  type: FastCheck.constant("web_search_result_location"),
  cited_text: textArbitrary(20),
  url: FastCheck.constantFrom("https://example.com/a", "https://example.org/b?q=1"),
  title: textArbitrary(10),
  encrypted_index: FastCheck.stringMatching(/^[A-Za-z0-9+/]{4,16}$/)
})

const blockArbitrary: FastCheck.Arbitrary<AnthropicBlockSpec> = FastCheck.oneof(
  FastCheck.record({
    kind: FastCheck.constant("text" as const),
    pieces: FastCheck.array(textArbitrary(), { maxLength: 8 }),
    citations: FastCheck.oneof(FastCheck.constant([]), FastCheck.array(citationArbitrary, { maxLength: 3 }))
  }),
  FastCheck.record({
    kind: FastCheck.constantFrom("tool_use" as const, "server_tool_use" as const),
    id: FastCheck.stringMatching(/^toolu_[A-Za-z0-9]{1,12}$/),
    name: FastCheck.stringMatching(/^[a-z_]{1,12}$/),
    args: argumentsArbitrary
  }),
  FastCheck.record({
    kind: FastCheck.constant("thinking" as const),
    pieces: FastCheck.array(textArbitrary(), { maxLength: 6 }),
    signature: FastCheck.option(FastCheck.stringMatching(/^[A-Za-z0-9+/=]{8,40}$/), { nil: null })
  }),
  FastCheck.record({
    kind: FastCheck.constant("redacted_thinking" as const),
    data: FastCheck.stringMatching(/^[A-Za-z0-9+/=]{8,60}$/)
  }),
  FastCheck.record({
    kind: FastCheck.constant("web_search_tool_result" as const),
    toolUseId: FastCheck.stringMatching(/^srvtoolu_[A-Za-z0-9]{1,10}$/),
    content: FastCheck.array(
      FastCheck.record({
        type: FastCheck.constant("web_search_result"),
        title: textArbitrary(10),
        url: FastCheck.constant("https://example.com/r"),
        encrypted_content: FastCheck.stringMatching(/^[A-Za-z0-9]{4,12}$/),
        page_age: FastCheck.option(FastCheck.constant("2 days ago"), { nil: null })
      }),
      { maxLength: 3 }
    )
  })
)

const usageArbitrary: FastCheck.Arbitrary<AnthropicUsageSpec> = FastCheck.record(
  {
    input_tokens: FastCheck.nat(100_000),
    output_tokens: FastCheck.nat(5),
    cache_read_input_tokens: FastCheck.nat(100_000),
    cache_creation_input_tokens: FastCheck.nat(100_000)
  },
  { requiredKeys: ["input_tokens", "output_tokens"] }
)

/** `message_delta` usage: the cumulative counters the API repeats there (any subset), and server tool use. */
const deltaUsageArbitrary: FastCheck.Arbitrary<Json> = FastCheck.record(
  {
    output_tokens: FastCheck.nat(50_000),
    input_tokens: FastCheck.nat(100_000),
    cache_read_input_tokens: FastCheck.nat(100_000),
    cache_creation_input_tokens: FastCheck.nat(100_000),
    server_tool_use: FastCheck.record({ web_search_requests: FastCheck.nat(5) })
  },
  { requiredKeys: ["output_tokens"] }
)

export const anthropicSpecArbitrary: FastCheck.Arbitrary<AnthropicSpec> = FastCheck.record({
  id: FastCheck.stringMatching(/^msg_[A-Za-z0-9]{1,16}$/),
  model: FastCheck.constantFrom("claude-sonnet-5-5", "claude-opus-4-1", "claude-3-5-haiku-latest"),
  blocks: FastCheck.array(blockArbitrary, { maxLength: 5 }),
  startUsage: usageArbitrary,
  delta: FastCheck.option(
    FastCheck.record({
      stopReason: FastCheck.constantFrom("end_turn", "tool_use", "max_tokens", "stop_sequence", "pause_turn", "refusal"),
      stopSequence: FastCheck.option(FastCheck.constantFrom("###", "\n\nHuman:"), { nil: null }),
      usage: deltaUsageArbitrary
    }),
    { nil: null, freq: 5 }
  ),
  stop: FastCheck.boolean(),
  pings: FastCheck.array(FastCheck.nat(), { maxLength: 3 }),
  named: FastCheck.boolean(),
  crlf: FastCheck.boolean()
})

const blockStart = (block: AnthropicBlockSpec): Json => {
  switch (block.kind) {
    case "text":
      // The API starts cited text blocks with `citations: []`, others without the key.
      return block.citations.length === 0 ? { type: "text", text: "" } : { type: "text", text: "", citations: [] }
    case "tool_use":
    case "server_tool_use":
      return { type: block.kind, id: block.id, name: block.name, input: {} }
    case "thinking":
      return { type: "thinking", thinking: "", signature: "" }
    case "redacted_thinking":
      return { type: "redacted_thinking", data: block.data }
    case "web_search_tool_result":
      return { type: "web_search_tool_result", tool_use_id: block.toolUseId, content: block.content }
  }
}

const blockDeltas = (block: AnthropicBlockSpec): Array<Json> => {
  switch (block.kind) {
    case "text":
      return [
        ...block.pieces.map((text) => ({ type: "text_delta", text })),
        ...block.citations.map((citation) => ({ type: "citations_delta", citation }))
      ]
    case "tool_use":
    case "server_tool_use":
      // The API opens with an empty fragment; the value's JSON then comes in pieces cut anywhere.
      return [{ type: "input_json_delta", partial_json: "" }, ...block.args.pieces.map((partial_json) => ({ type: "input_json_delta", partial_json }))]
    case "thinking":
      return [
        ...block.pieces.map((thinking) => ({ type: "thinking_delta", thinking })),
        ...(block.signature === null ? [] : [{ type: "signature_delta", signature: block.signature }])
      ]
    default:
      return []
  }
}

/** The stream events (JSON payloads) of a spec, in order, pings included. */
export const anthropicEvents = (spec: AnthropicSpec): Array<Json> => {
  const events: Array<Json> = [{
    type: "message_start",
    message: {
      id: spec.id,
      type: "message",
      role: "assistant",
      model: spec.model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: spec.startUsage
    }
  }]
  spec.blocks.forEach((block, index) => {
    events.push({ type: "content_block_start", index, content_block: blockStart(block) })
    for (const delta of blockDeltas(block)) events.push({ type: "content_block_delta", index, delta })
    events.push({ type: "content_block_stop", index })
  })
  if (spec.delta !== null) {
    events.push({
      type: "message_delta",
      delta: { stop_reason: spec.delta.stopReason, stop_sequence: spec.delta.stopSequence },
      usage: spec.delta.usage
    })
    if (spec.stop) events.push({ type: "message_stop" })
  }
  for (const at of spec.pings) events.splice(1 + (at % events.length), 0, { type: "ping" })
  return events
}

/** One event on the wire. */
export const anthropicSseEvent = (payload: Json, named: boolean, crlf = false): string => {
  const eol = crlf ? "\r\n" : "\n"
  return `${named ? `event: ${String(payload["type"])}${eol}` : ""}data: ${JSON.stringify(payload)}${eol}${eol}`
}

/** The SSE body of a spec. */
export const anthropicSse = (spec: AnthropicSpec): string =>
  anthropicEvents(spec).map((e) => anthropicSseEvent(e, spec.named, spec.crlf)).join("")

const expectedBlock = (block: AnthropicBlockSpec): Json => {
  switch (block.kind) {
    case "text":
      return block.citations.length === 0
        ? { type: "text", text: block.pieces.join("") }
        : { type: "text", text: block.pieces.join(""), citations: block.citations }
    case "tool_use":
    case "server_tool_use":
      return { type: block.kind, id: block.id, name: block.name, input: block.args.value }
    case "thinking":
      return { type: "thinking", thinking: block.pieces.join(""), signature: block.signature ?? "" }
    case "redacted_thinking":
      return { type: "redacted_thinking", data: block.data }
    case "web_search_tool_result":
      return { type: "web_search_tool_result", tool_use_id: block.toolUseId, content: block.content }
  }
}

/** The `message` a spec's stream must fold into, from the spec alone. */
export const expectedAnthropic = (spec: AnthropicSpec): Json => ({
  id: spec.id,
  type: "message",
  role: "assistant",
  model: spec.model,
  content: spec.blocks.map(expectedBlock),
  stop_reason: spec.delta?.stopReason ?? null,
  stop_sequence: spec.delta?.stopSequence ?? null,
  // Counters of message_delta overwrite those of message_start (cumulative totals, never added).
  usage: { ...spec.startUsage, ...(spec.delta?.usage ?? {}) }
})

/** `message_stop` arrived. */
export const expectedAnthropicComplete = (spec: AnthropicSpec): boolean => spec.delta !== null && spec.stop

// ---------------------------------------------------------------------------------------------------------------
// Benchmark stream
// ---------------------------------------------------------------------------------------------------------------

const words = ["the", "stream", "of", "tokens", "folds", "into", "one", "message", "quickly", "and", "exactly"]
const multiByte = ["é", "你好", "🎉", "Ω", "ß"]

/** A deterministic xorshift generator. */
export const pseudoRandom = (seed: number) => {
  let s = seed >>> 0 || 1
  return (): number => {
    s ^= s << 13
    s ^= s >>> 17
    s ^= s << 5
    return s >>> 0
  }
}

/** Endless short deltas of words, some multi-byte. */
export const benchTexts = function*(seed: number): Generator<string> {
  const next = pseudoRandom(seed)
  for (;;) {
    let text = next() % 10 === 0 ? multiByte[next() % multiByte.length]! : ""
    const n = 1 + (next() % 4)
    for (let i = 0; i < n; i++) text += " " + words[next() % words.length]
    yield text
  }
}

/**
 * A realistic Claude stream of at least `targetBytes`: message_start, a thinking block (a tenth of the bytes) with
 * its signature, a text block of short deltas with pings now and then, a tool_use block whose input streams in
 * fragments, message_delta with usage and message_stop — with `event:` lines, as the API sends it.
 */
export const anthropicBenchStream = (targetBytes: number): Uint8Array => {
  const parts: Array<string> = []
  let size = 0
  const push = (payload: Json) => {
    const text = anthropicSseEvent(payload, true)
    parts.push(text)
    size += text.length
  }
  push({
    type: "message_start",
    message: {
      model: "claude-sonnet-5-5",
      id: "msg_01BenchmarkStream0123456",
      type: "message",
      role: "assistant",
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: { input_tokens: 1234, cache_creation_input_tokens: 0, cache_read_input_tokens: 4096, output_tokens: 1, service_tier: "standard" }
    }
  })
  const texts = benchTexts(13)
  push({ type: "content_block_start", index: 0, content_block: { type: "thinking", thinking: "", signature: "" } })
  while (size < targetBytes / 10) push({ type: "content_block_delta", index: 0, delta: { type: "thinking_delta", thinking: texts.next().value } })
  push({ type: "content_block_delta", index: 0, delta: { type: "signature_delta", signature: "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds" } })
  push({ type: "content_block_stop", index: 0 })
  push({ type: "content_block_start", index: 1, content_block: { type: "text", text: "" } })
  let n = 0
  while (size < (targetBytes * 9) / 10) {
    if (++n % 500 === 0) push({ type: "ping" })
    push({ type: "content_block_delta", index: 1, delta: { type: "text_delta", text: texts.next().value } })
  }
  push({ type: "content_block_stop", index: 1 })
  push({ type: "content_block_start", index: 2, content_block: { type: "tool_use", id: "toolu_01Bench", name: "record", input: {} } })
  const input: Array<string> = []
  while (size < targetBytes) {
    const piece = texts.next().value
    input.push(piece)
    push({ type: "content_block_delta", index: 2, delta: { type: "input_json_delta", partial_json: JSON.stringify(piece) + "," } })
  }
  // The fragments above list strings; open and close the array around them.
  parts.splice(parts.length - input.length, 0, anthropicSseEvent({ type: "content_block_delta", index: 2, delta: { type: "input_json_delta", partial_json: "{\"items\":[" } }, true))
  parts.push(anthropicSseEvent({ type: "content_block_delta", index: 2, delta: { type: "input_json_delta", partial_json: "\"end\"]}" } }, true))
  parts.push(anthropicSseEvent({ type: "content_block_stop", index: 2 }, true))
  parts.push(anthropicSseEvent({
    type: "message_delta",
    delta: { stop_reason: "tool_use", stop_sequence: null },
    usage: { input_tokens: 1234, cache_creation_input_tokens: 0, cache_read_input_tokens: 4096, output_tokens: parts.length }
  }, true))
  parts.push(anthropicSseEvent({ type: "message_stop" }, true))
  return new TextEncoder().encode(parts.join(""))
}

