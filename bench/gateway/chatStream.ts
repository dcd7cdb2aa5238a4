/**
 * The benchmark's OpenAI chat stream: deterministic bytes for a given number of content chunks, so the client can
 * check every byte it received against what the upstream sent. Honours `include_usage` the way the API does.
 */
const TEXT = ["The ", "quick ", "brown ", "fox ", "jumps ", "over ", "the ", "lazy ", "dog — ", "naïve ", "café ", "日本語 ", "🙂 "]

const event = (fields: object): string =>
  `data: ${
    JSON.stringify({ id: "chatcmpl-bench", object: "chat.completion.chunk", created: 1700000000, model: "gpt-bench", ...fields })
  }\n\n`

const delta = (content: string, usage: boolean, finish: string | null = null) =>
  event({
    choices: [{ index: 0, delta: content === "" ? {} : { content }, logprobs: null, finish_reason: finish }],
    ...(usage ? { usage: null } : {})
  })

/** The whole stream for `chunks` content chunks (a role chunk, the content, a finish chunk, usage, `[DONE]`). */
export const chatStream = (chunks: number, includeUsage: boolean): Buffer => {
  const parts: Array<string> = [event({
    choices: [{ index: 0, delta: { role: "assistant", content: "" }, logprobs: null, finish_reason: null }],
    ...(includeUsage ? { usage: null } : {})
  })]
  for (let i = 0; i < chunks; i++) parts.push(delta(TEXT[i % TEXT.length]!, includeUsage))
  parts.push(delta("", includeUsage, "stop"))
  if (includeUsage) {
    parts.push(event({ choices: [], usage: { prompt_tokens: 12, completion_tokens: chunks, total_tokens: chunks + 12 } }))
  }
  parts.push("data: [DONE]\n\n")
  return Buffer.from(parts.join(""))
}

/** The chunk count for a stream of about `bytes` bytes. */
export const chunksFor = (bytes: number): number => Math.max(1, Math.round(bytes / delta(TEXT[0]!, true).length))
