/**
 * Anthropic and Gemini folds, bytes → final response, against the official SDKs on the same bytes in this process,
 * fed through a custom `fetch` that returns a `ReadableStream` of 16 KiB chunks (no network):
 * - Anthropic: `@anthropic-ai/sdk` 1.12.0 `messages.stream().finalMessage()` (its accumulator);
 * - Gemini: no SDK accumulator exists, so `@google/genai` 2.32.0 `models.generateContentStream()` consumed to the
 *   end (its SSE split, JSON parse and response conversion of every chunk) is the peer.
 * Defines the variants and the agreement checks; `bench/folds.bench.ts` checks and times them, each run in a fresh
 * process.
 */
import Anthropic from "@anthropic-ai/sdk"
import { GoogleGenAI } from "@google/genai"
import { Effect, Option, Stream } from "effect"
import type * as FoldT from "../../src/Fold.js"
import type * as AnthropicMessagesT from "../../src/providers/AnthropicMessages.js"
import type * as GeminiGenerateContentT from "../../src/providers/GeminiGenerateContent.js"
import type * as SseT from "../../src/Sse.js"
import { anthropicBenchStream } from "../../test/support/anthropicGen.js"
import { geminiBenchStream } from "../../test/support/geminiGen.js"
import { chunked } from "../support.js"
import type { Group } from "./group.js"
import { compiled } from "../support.js"

// The compiled package (dist/), as users run it: `npm run bench` builds it first.
const Fold = await compiled<typeof FoldT>("Fold.js")
const AnthropicMessages = await compiled<typeof AnthropicMessagesT>("providers/AnthropicMessages.js")
const GeminiGenerateContent = await compiled<typeof GeminiGenerateContentT>("providers/GeminiGenerateContent.js")
const Sse = await compiled<typeof SseT>("Sse.js")

const chunkSize = 16 * 1024

/** The chunks, calling `sample` (heap) every 64 of them. */
const sampled = function*(chunks: ReadonlyArray<Uint8Array>, sample: () => void): Generator<Uint8Array> {
  for (let i = 0; i < chunks.length; i++) {
    if ((i & 63) === 0) sample()
    yield chunks[i]!
  }
}

/** A `fetch` whose every response is these chunks as an SSE body. */
const fetchChunks = (chunks: ReadonlyArray<Uint8Array>, sample: () => void) => async (): Promise<Response> => {
  let i = 0
  const body = new ReadableStream<Uint8Array>({
    pull: (controller) => {
      if ((i & 63) === 0) sample()
      if (i < chunks.length) controller.enqueue(chunks[i++]!)
      else controller.close()
    }
  })
  return new Response(body, { headers: { "content-type": "text/event-stream" } })
}

/** The same bytes through the Effect layer: `Sse.decode` and `Fold.run` over a `Stream`. */
const viaStream = <R, S>(fold: FoldT.Fold<SseT.Event, S, R>, chunks: ReadonlyArray<Uint8Array>, sample: () => void) =>
  Effect.runPromise(
    Stream.fromIterable(sampled(chunks, sample)).pipe(Sse.decode({ dispatchIncompleteAtEnd: true }), Fold.run(fold))
  )

const sdkAnthropic = (chunks: ReadonlyArray<Uint8Array>, sample: () => void) =>
  new Anthropic({ apiKey: "bench", baseURL: "http://127.0.0.1:1", maxRetries: 0, fetch: fetchChunks(chunks, sample) })
    .messages.stream({ model: "claude-opus-4-5", max_tokens: 64_000, messages: [{ role: "user", content: "bench" }] })
    .finalMessage()

/** Every chunk the SDK yields, consumed to the end; returns the count and the answer text (to check agreement). */
const sdkGemini = async (chunks: ReadonlyArray<Uint8Array>, sample: () => void) => {
  const ai = new GoogleGenAI({ apiKey: "bench", httpOptions: { baseUrl: "http://127.0.0.1:1", fetch: fetchChunks(chunks, sample) } })
  let count = 0
  let text = ""
  for await (const chunk of await ai.models.generateContentStream({ model: "gemini-2.5-pro", contents: "bench" })) {
    count++
    for (const part of chunk.candidates?.[0]?.content?.parts ?? []) if (part.text !== undefined && part.thought !== true) text += part.text
  }
  return { count, text }
}

/** JSON with sorted keys: equality that ignores key order. */
const canonical = (value: unknown): string =>
  JSON.stringify(value, (_, v: unknown) =>
    typeof v === "object" && v !== null && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v)

const check = (label: string, ours: unknown, sdk: unknown): void => {
  if (canonical(ours) !== canonical(sdk)) throw new Error(`${label}: our aggregate differs from the SDK's`)
}

const geminiText = (response: GeminiGenerateContentT.GenerateContentResponse) =>
  (response.candidates?.[0]?.content?.parts ?? []).flatMap((p) => (typeof p.text === "string" && p.thought !== true ? [p.text] : [])).join("")

const anthropic = (mib: number): Group => {
  const bytes = anthropicBenchStream(mib * 1024 * 1024)
  const chunks = chunked(bytes, chunkSize)
  return {
    bytes: bytes.length,
    // Measure only what agrees with the SDK, or the bench is void.
    check: async () => {
      const ours = Option.getOrThrow(AnthropicMessages.aggregate(chunks))
      const sdkMessage = await sdkAnthropic(chunks, () => {})
      check("anthropic content", ours.content, sdkMessage.content)
      check("anthropic usage", ours.usage, sdkMessage.usage)
    },
    variants: [
      { name: "anthropic: ours aggregate(chunks)", run: (sample) => AnthropicMessages.aggregate(sampled(chunks, sample)) },
      { name: "anthropic: ours Stream (Sse.decode + Fold.run)", run: (sample) => viaStream(AnthropicMessages.fold, chunks, sample) },
      { name: "anthropic: SDK messages.stream().finalMessage()", run: (sample) => sdkAnthropic(chunks, sample) }
    ]
  }
}

const gemini = (mib: number): Group => {
  const bytes = geminiBenchStream(mib * 1024 * 1024)
  const chunks = chunked(bytes, chunkSize)
  return {
    bytes: bytes.length,
    check: async () => {
      const ours = Option.getOrThrow(GeminiGenerateContent.aggregate(chunks))
      const sdkChunks = await sdkGemini(chunks, () => {})
      check("gemini text", geminiText(ours), sdkChunks.text)
      const events = new TextDecoder().decode(bytes).split("\r\n\r\n").filter((e) => e !== "").length
      check("gemini chunk count", events, sdkChunks.count)
    },
    variants: [
      { name: "gemini: ours aggregate(chunks)", run: (sample) => GeminiGenerateContent.aggregate(sampled(chunks, sample)) },
      { name: "gemini: ours Stream (Sse.decode + Fold.run)", run: (sample) => viaStream(GeminiGenerateContent.fold, chunks, sample) },
      { name: "gemini: @google/genai generateContentStream() drained", run: (sample) => sdkGemini(chunks, sample) }
    ]
  }
}

/** Both APIs, each built on demand on a `mib` MiB stream (at least 16 MiB is the reference size). */
export const groups: Record<string, (mib: number) => Group> = { anthropic, gemini }
