/**
 * SSE decoding throughput: 64 MiB of OpenAI-chat-like events in 16 KiB chunks, against raw TextDecoder (the
 * ceiling) and eventsource-parser (the peer), all in this process.
 */
import { Chunk, Effect, Option, Stream } from "effect"
import { createParser } from "eventsource-parser"
import * as Sse from "../src/Sse.js"
import { concat } from "../src/internal/bytes.js"
import { chunked, compare, printTable, ratio } from "./support.js"

const asciiWords = ["hello", "world", "stream", "token", "the", "model", "answer", "is", "data", "json", "event", "of"]
// Real recorded streams carry raw UTF-8 on 1–3% of lines (see ../shared/fixtures); one event in ten here does.
const multiByteWords = ["café", "naïve", "你好", "世界", "🎉", "👍🏽", "Ωμέγα"]

/** A deterministic OpenAI-chat-like stream of `targetBytes` bytes: 200–400 byte `data:` events. */
export const syntheticChatStream = (targetBytes: number): Uint8Array => {
  const encoder = new TextEncoder()
  const parts: Array<Uint8Array> = []
  let total = 0
  let seed = 42
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff
    return seed % n
  }
  for (let i = 0; total < targetBytes; i++) {
    let text = rand(10) === 0 ? multiByteWords[rand(multiByteWords.length)] + " " : ""
    const want = 60 + rand(200)
    while (text.length < want) text += asciiWords[rand(asciiWords.length)] + " "
    const chunk = {
      id: "chatcmpl-9xYz",
      object: "chat.completion.chunk",
      created: 1730000000,
      model: "gpt-4o-mini",
      choices: [{ index: 0, delta: { content: text }, logprobs: null, finish_reason: null }]
    }
    const bytes = encoder.encode(`data: ${JSON.stringify(chunk)}\n\n`)
    parts.push(bytes)
    total += bytes.length
  }
  return concat(parts)
}

export const run = async (options: { readonly mib: number; readonly runs: number }) => {
  const bytes = syntheticChatStream(options.mib * 1024 * 1024)
  const chunks = chunked(bytes, 16 * 1024)
  const size = bytes.length

  const [ceiling, peer, pure, effect, effectPerChunk] = await compare(size, options.runs, [
    {
      name: "raw TextDecoder (ceiling)",
      run: (sample) => {
        const decoder = new TextDecoder()
        let chars = 0
        for (let i = 0; i < chunks.length; i++) {
          chars += decoder.decode(chunks[i], { stream: true }).length
          if ((i & 63) === 0) sample()
        }
        return chars + decoder.decode().length
      }
    },
    {
      name: "eventsource-parser 3 + TextDecoder (peer)",
      run: (sample) => {
        const decoder = new TextDecoder()
        let events = 0
        const parser = createParser({ onEvent: () => events++ })
        for (let i = 0; i < chunks.length; i++) {
          parser.feed(decoder.decode(chunks[i], { stream: true }))
          if ((i & 63) === 0) sample()
        }
        parser.feed(decoder.decode())
        return events
      }
    },
    {
      name: "Sse.makeParser (pure, ours)",
      run: (sample) => {
        const parser = Sse.makeParser()
        let events = 0
        for (let i = 0; i < chunks.length; i++) {
          events += parser.feed(chunks[i]!).length
          if ((i & 63) === 0) sample()
        }
        return events + parser.end().length
      }
    },
    {
      name: "Sse.decode, Stream.fromIterable(chunks) source (ours)",
      run: (sample) =>
        Effect.runPromise(
          Stream.fromIterable(chunks).pipe(Sse.decode(), Stream.runCount, Effect.tap(() => sample()))
        )
    },
    {
      // One Uint8Array per stream element as an HTTP body delivers them: the source alone costs ~5 µs per element
      // here (Stream.unfoldChunk), paid by this variant and by no other row.
      name: "Sse.decode, one Stream chunk per 16 KiB (ours)",
      run: (sample) =>
        Effect.runPromise(
          Stream.unfoldChunk(0, (i) => {
            if ((i & 63) === 0) sample()
            return i < chunks.length ? Option.some([Chunk.of(chunks[i]!), i + 1] as const) : Option.none()
          }).pipe(Sse.decode(), Stream.runCount)
        )
    }
  ])

  printTable(`SSE decode: ${(size / 1048576).toFixed(0)} MiB, 16 KiB chunks, node ${process.version}`, [
    ceiling!,
    peer!,
    pure!,
    effect!,
    effectPerChunk!
  ])
  console.log(ratio("pure / peer", pure!, peer!, 1.25))
  console.log(ratio("pure / ceiling", pure!, ceiling!, 0.6))
  console.log(ratio("Sse.decode (Effect, fromIterable) / peer", effect!, peer!, 0.9))
  console.log(ratio("Sse.decode (Effect, one chunk per 16 KiB) / peer", effectPerChunk!, peer!, 0.9))
  console.log(ratio("Sse.decode (Effect, fromIterable) / ceiling", effect!, ceiling!))
}
