/**
 * The echo provider's newer dialects, pure: a legacy completions stream folds (by the library's own fold) into
 * exactly the JSON reply of the same turn; embeddings give one deterministic vector per input, base64 decoding to
 * the float reply; a request of the wrong shape is a native 400.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, FastCheck, Option } from "effect"
import * as Echo from "../../src/gateway/Echo.js"
import * as Scripts from "../../src/gateway/internal/echoScripts.js"
import * as OpenAiCompletions from "../../src/providers/OpenAiCompletions.js"

const words = FastCheck.array(FastCheck.stringMatching(/^[a-z]{1,6}$/), { minLength: 0, maxLength: 8 }).map((w) => w.join(" "))

const turnOf = (text: string, body: unknown): Scripts.Turn => ({
  id: "cmpl-echo0001",
  created: 1700000000,
  model: "echo",
  text,
  pieces: Echo.splitWords(text),
  inputTokens: Echo.countTokens(text),
  outputTokens: Echo.countTokens(text),
  body
})

const bytesOf = (script: Scripts.Script) => [...script.head, ...script.words, ...script.tail].map((s) => new TextEncoder().encode(s))

describe("Echo: legacy completions", () => {
  it.prop("the stream (with include_usage) folds into the JSON reply of the same turn", [words], ([text]) => {
    const turn = turnOf(text, { prompt: text, stream: true, stream_options: { include_usage: true } })
    const folded = OpenAiCompletions.aggregate(bytesOf(Scripts.script("openai.completions", turn)))
    expect(folded).toEqual(Option.some(Scripts.json("openai.completions", turn)))
  })

  it("without include_usage the stream carries no usage at all", () => {
    const turn = turnOf("a b", { prompt: "a b", stream: true })
    const text = [...Scripts.script("openai.completions", turn).words, ...Scripts.script("openai.completions", turn).tail].join("")
    expect(text).not.toContain("usage")
  })
})

describe("Echo: embeddings", () => {
  const reply = (dialect: "openai.embeddings" | "gemini.embedContent", body: unknown) =>
    Effect.runSync(Echo.respond(dialect, { body, stream: false, model: "echo" }))
  const parse = (r: Echo.Reply) => JSON.parse(r.pieces.join("")) as Record<string, unknown>

  it("one vector per input, the same text giving the same vector; base64 decodes to the float reply", () => {
    const floats = parse(reply("openai.embeddings", { input: ["x y", "z", "x y"], dimensions: 5, encoding_format: "float" })) as {
      data: Array<{ embedding: Array<number> }>
      usage: unknown
    }
    expect(floats.data.map((d) => d.embedding.length)).toEqual([5, 5, 5])
    expect(floats.data[0]!.embedding).toEqual(floats.data[2]!.embedding)
    expect(floats.data[0]!.embedding).not.toEqual(floats.data[1]!.embedding)
    expect(floats.usage).toEqual({ prompt_tokens: 5, total_tokens: 5 })
    const encoded = parse(reply("openai.embeddings", { input: ["x y", "z", "x y"], dimensions: 5, encoding_format: "base64" })) as {
      data: Array<{ embedding: string }>
    }
    const decoded = encoded.data.map((d) => Array.from(new Float32Array(new Uint8Array(Buffer.from(d.embedding, "base64")).buffer)))
    expect(decoded).toEqual(floats.data.map((d) => d.embedding))
  })

  it("a request of the wrong shape is a native 400", () => {
    expect(reply("openai.embeddings", { input: 3 }).status).toBe(400)
    const gemini = reply("gemini.embedContent", { content: "x" })
    expect([gemini.status, (parse(gemini)["error"] as { status: string }).status]).toEqual([400, "INVALID_ARGUMENT"])
  })
})
