/**
 * OpenAI folds, bytes → final response: ours against the official SDK accumulator (`openai` 6.49.0
 * `chat.completions.stream().finalChatCompletion()` and `responses.stream().finalResponse()`) on the same bytes,
 * fed through a custom `fetch` that returns a `ReadableStream` of 16 KiB chunks (no network). Defines the variants
 * and the agreement check; `bench/folds.bench.ts` checks and times them, each run in a fresh process.
 */
import { Effect, Option, Stream } from "effect"
import OpenAI from "openai"
import type * as FoldT from "../../src/Fold.js"
import type * as OpenAiChatT from "../../src/providers/OpenAiChat.js"
import type * as OpenAiResponsesT from "../../src/providers/OpenAiResponses.js"
import type * as SseT from "../../src/Sse.js"
import { chatBenchStream, responsesBenchStream } from "../../test/support/openaiGen.js"
import { chunked } from "../support.js"
import type { Group } from "./group.js"
import { compiled } from "../support.js"

// The compiled package (dist/), as users run it: `npm run bench` builds it first.
const Fold = await compiled<typeof FoldT>("Fold.js")
const OpenAiChat = await compiled<typeof OpenAiChatT>("providers/OpenAiChat.js")
const OpenAiResponses = await compiled<typeof OpenAiResponsesT>("providers/OpenAiResponses.js")
const Sse = await compiled<typeof SseT>("Sse.js")

const chunkSize = 16 * 1024

/** The chunks, calling `sample` (heap) every 64 of them. */
const sampled = function*(chunks: ReadonlyArray<Uint8Array>, sample: () => void): Generator<Uint8Array> {
  for (let i = 0; i < chunks.length; i++) {
    if ((i & 63) === 0) sample()
    yield chunks[i]!
  }
}

/** An SDK client whose every request gets these chunks as an SSE body. */
const client = (chunks: ReadonlyArray<Uint8Array>, sample: () => void) =>
  new OpenAI({
    apiKey: "bench",
    baseURL: "http://127.0.0.1:1",
    maxRetries: 0,
    fetch: async () => {
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
  })

/** The same bytes through the Effect layer: `Sse.decode` and `Fold.run` over a `Stream`. */
const viaStream = <R, S>(fold: FoldT.Fold<SseT.Event, S, R>, chunks: ReadonlyArray<Uint8Array>, sample: () => void) =>
  Effect.runPromise(
    Stream.fromIterable(sampled(chunks, sample)).pipe(Sse.decode({ dispatchIncompleteAtEnd: true }), Fold.run(fold))
  )

const check = (label: string, ours: unknown, sdk: unknown): void => {
  if (JSON.stringify(ours) !== JSON.stringify(sdk)) throw new Error(`${label}: our aggregate differs from the SDK's`)
}

const chatText = (c: { readonly choices: ReadonlyArray<{ readonly message: { readonly content: string | null } }> }) =>
  c.choices[0]?.message.content

/** The message text (the SDK adds `parsed: null` to parts, so whole objects are not compared). */
const responsesText = (r: { readonly output: ReadonlyArray<unknown> }) =>
  (r.output as ReadonlyArray<{ readonly content?: ReadonlyArray<{ readonly text?: string }> }>)
    .flatMap((item) => item.content ?? []).map((part) => part.text ?? "").join("")

const chat = (mib: number): Group => {
  const bytes = chatBenchStream(mib * 1024 * 1024)
  const chunks = chunked(bytes, chunkSize)
  const sdk = (sample: () => void) =>
    client(chunks, sample).chat.completions.stream({ model: "gpt-5", messages: [] }).finalChatCompletion()
  return {
    bytes: bytes.length,
    // Measure only what agrees: same text as the SDK, or the bench is void.
    check: async () => check("chat", chatText(Option.getOrThrow(OpenAiChat.aggregate(chunks))), chatText(await sdk(() => {}))),
    variants: [
      { name: "openai-chat: ours aggregate(chunks)", run: (sample) => OpenAiChat.aggregate(sampled(chunks, sample)) },
      { name: "openai-chat: ours Stream (Sse.decode + Fold.run)", run: (sample) => viaStream(OpenAiChat.fold, chunks, sample) },
      { name: "openai-chat: SDK finalChatCompletion()", run: sdk }
    ]
  }
}

const responses = (mib: number): Group => {
  const bytes = responsesBenchStream(mib * 1024 * 1024)
  const chunks = chunked(bytes, chunkSize)
  const sdk = (sample: () => void) =>
    client(chunks, sample).responses.stream({ model: "gpt-5", input: "bench" }).finalResponse()
  return {
    bytes: bytes.length,
    check: async () =>
      check("responses", responsesText(Option.getOrThrow(OpenAiResponses.aggregate(chunks))), responsesText(await sdk(() => {}))),
    variants: [
      { name: "openai-responses: ours aggregate(chunks)", run: (sample) => OpenAiResponses.aggregate(sampled(chunks, sample)) },
      { name: "openai-responses: ours Stream (Sse.decode + Fold.run)", run: (sample) => viaStream(OpenAiResponses.fold, chunks, sample) },
      { name: "openai-responses: SDK finalResponse()", run: sdk }
    ]
  }
}

/** Both APIs, each built on demand on a `mib` MiB stream (at least 16 MiB is the reference size). */
export const groups: Record<string, (mib: number) => Group> = { "openai-chat": chat, "openai-responses": responses }
