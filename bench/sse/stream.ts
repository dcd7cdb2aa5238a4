/**
 * The SSE benchmarks' input: a deterministic OpenAI-chat-like stream.
 */
import { concat } from "../../src/internal/bytes.js"

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
