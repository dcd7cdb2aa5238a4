/**
 * OpenAI folds, bytes → final response: ours against the official SDK accumulator (`openai` 6.49.0
 * `chat.completions.stream().finalChatCompletion()` and `responses.stream().finalResponse()`) on the same bytes,
 * in this process, fed through a custom `fetch` that returns a `ReadableStream` of 16 KiB chunks (no network).
 * Prints nothing: returns the measurements for `bench/folds.bench.ts` to print.
 */
import { Effect, Option, Stream } from "effect"
import OpenAI from "openai"
import type * as FoldT from "../../src/Fold.js"
import type * as OpenAiChatT from "../../src/providers/OpenAiChat.js"
import type * as OpenAiResponsesT from "../../src/providers/OpenAiResponses.js"
import type * as SseT from "../../src/Sse.js"
import { chatBenchStream, responsesBenchStream } from "../../test/support/openaiGen.js"
import { chunked, compare, type Measurement, type Variant } from "../support.js"
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

/**
 * Measures both APIs on `mib` MiB streams (at least 16 MiB is the reference size), `runs` runs each, interleaved.
 */
export const bench = async (options: { readonly mib: number; readonly runs: number }): Promise<ReadonlyArray<Measurement>> => {
  const target = options.mib * 1024 * 1024
  const chat = chatBenchStream(target)
  const responses = responsesBenchStream(target)
  const chatChunks = chunked(chat, chunkSize)
  const responsesChunks = chunked(responses, chunkSize)
  const noSample = () => {}

  const sdkChat = (sample: () => void) =>
    client(chatChunks, sample).chat.completions.stream({ model: "gpt-5", messages: [] }).finalChatCompletion()
  const sdkResponses = (sample: () => void) =>
    client(responsesChunks, sample).responses.stream({ model: "gpt-5", input: "bench" }).finalResponse()

  // Measure only what agrees: same text as the SDK, or the bench is void.
  check("chat", chatText(Option.getOrThrow(OpenAiChat.aggregate(chatChunks))), chatText(await sdkChat(noSample)))
  check(
    "responses",
    responsesText(Option.getOrThrow(OpenAiResponses.aggregate(responsesChunks))),
    responsesText(await sdkResponses(noSample))
  )

  const chatVariants: ReadonlyArray<Variant> = [
    { name: "openai-chat: ours aggregate(chunks)", run: (sample) => OpenAiChat.aggregate(sampled(chatChunks, sample)) },
    { name: "openai-chat: ours Stream (Sse.decode + Fold.run)", run: (sample) => viaStream(OpenAiChat.fold, chatChunks, sample) },
    { name: "openai-chat: SDK finalChatCompletion()", run: sdkChat }
  ]
  const responsesVariants: ReadonlyArray<Variant> = [
    {
      name: "openai-responses: ours aggregate(chunks)",
      run: (sample) => OpenAiResponses.aggregate(sampled(responsesChunks, sample))
    },
    {
      name: "openai-responses: ours Stream (Sse.decode + Fold.run)",
      run: (sample) => viaStream(OpenAiResponses.fold, responsesChunks, sample)
    },
    { name: "openai-responses: SDK finalResponse()", run: sdkResponses }
  ]
  return [
    ...(await compare(chat.length, options.runs, chatVariants)),
    ...(await compare(responses.length, options.runs, responsesVariants))
  ]
}
