/**
 * Conformance of the OpenAI folds on recorded streams: `test/fixtures/openai-*` (always) and
 * `../shared/fixtures/openai-*` (when present), with the official SDK (`openai` 6.49.0) as the oracle.
 *
 * Per file: (1) ≥ 200 random re-chunkings give an identical aggregate; (2) the aggregate equals the SDK's
 * `finalChatCompletion()` / `finalResponse()` on the fields the SDK defines — where the SDK throws, the stream is
 * repaired step by step (an unknown event type removed, an error payload removed, a finish chunk appended, …),
 * our documented behaviour for that step is asserted, and the SDK's result on the repaired stream is the oracle;
 * (3) key fields (text, tool calls with parsed arguments, finish reasons, usage, status) equal a naive reading
 * of the raw events. For Responses, the partial snapshot (terminal event removed, and `.done` events removed too)
 * is compared with the SDK's, which checks the delta accumulation itself.
 */
import { describe, expect, it } from "@effect/vitest"
import { Option } from "effect"
import OpenAI from "openai"
import { fileURLToPath } from "node:url"
import { aggregateBytes, type Api } from "../../src/providers/Api.js"
import * as OpenAiChat from "../../src/providers/OpenAiChat.js"
import * as OpenAiResponses from "../../src/providers/OpenAiResponses.js"
import { randomChunking, readSseFiles, utf8, withSharedFixtures } from "../support/chunking.js"

type Json = Record<string, unknown>

const isRecord = (u: unknown): u is Json => typeof u === "object" && u !== null && !Array.isArray(u)

// ---------------------------------------------------------------------------------------------------------------
// SSE blocks (oracle-side handling of the raw text: these files are LF-framed)
// ---------------------------------------------------------------------------------------------------------------

interface Block {
  readonly text: string
  readonly data: string
  readonly payload: unknown
}

const toBlocks = (bytes: Uint8Array): Array<Block> =>
  new TextDecoder().decode(bytes).split("\n\n").filter((b) => b.trim() !== "").map((text) => {
    const data = text.split("\n").filter((l) => l.startsWith("data:")).map((l) => l.slice(5).replace(/^ /, "")).join("\n")
    let payload: unknown = undefined
    try {
      payload = JSON.parse(data)
    } catch {
      // not JSON: payload stays undefined
    }
    return { text, data, payload }
  })

const toBody = (blocks: ReadonlyArray<Block>): Uint8Array => utf8(blocks.map((b) => b.text + "\n\n").join(""))

const typeOf = (b: Block): unknown => isRecord(b.payload) ? b.payload["type"] : undefined

// ---------------------------------------------------------------------------------------------------------------
// The SDK as oracle
// ---------------------------------------------------------------------------------------------------------------

const client = (body: Uint8Array) =>
  new OpenAI({
    apiKey: "test",
    baseURL: "http://127.0.0.1:1",
    maxRetries: 0,
    logLevel: "off",
    fetch: async () => new Response(body, { headers: { "content-type": "text/event-stream" } })
  })

type Sdk = (body: Uint8Array) => Promise<unknown>

const sdkChat: Sdk = (body) => client(body).chat.completions.stream({ model: "m", messages: [] }).finalChatCompletion()
const sdkResponses: Sdk = (body) => client(body).responses.stream({ model: "m", input: "x" }).finalResponse()

/** One step that turns a stream the SDK rejects into one it accepts; `kind` says which documented behaviour applies. */
interface Repair {
  readonly kind: "unknown-event" | "error-payload" | "missing-finish" | "not-a-chunk"
  readonly sdkMessage: string
  readonly removed: number
}

const repair = (message: string, blocks: ReadonlyArray<Block>): { repair: Repair; blocks: Array<Block> } | undefined => {
  const remove = (kind: Repair["kind"], drop: (b: Block) => boolean) => {
    const kept = blocks.filter((b) => !drop(b))
    return kept.length === blocks.length
      ? undefined
      : { repair: { kind, sdkMessage: message, removed: blocks.length - kept.length }, blocks: kept }
  }
  const unknown = /Unhandled response stream event: \{"type":"([^"]+)"/.exec(message)
  if (unknown !== null) return remove("unknown-event", (b) => typeOf(b) === unknown[1])
  const finish = /missing finish_reason for choice (\d+)/.exec(message)
  if (finish !== null) {
    const data = JSON.stringify({ choices: [{ index: Number(finish[1]), delta: {}, finish_reason: "stop" }] })
    const done = blocks.findIndex((b) => b.data === "[DONE]")
    const at = done === -1 ? blocks.length : done
    return {
      repair: { kind: "missing-finish", sdkMessage: message, removed: 0 },
      blocks: [...blocks.slice(0, at), { text: `data: ${data}`, data, payload: JSON.parse(data) }, ...blocks.slice(at)]
    }
  }
  if (/JSON|not iterable/.test(message)) {
    return remove("not-a-chunk", (b) =>
      b.data !== "" && b.data !== "[DONE]" &&
      (!isRecord(b.payload) || (b.payload["error"] == null && !Array.isArray(b.payload["choices"]))))
  }
  return remove("error-payload", (b) => isRecord(b.payload) && (b.payload["error"] != null && b.payload["type"] === undefined || typeOf(b) === "error"))
}

/** The SDK's result after the repairs it needed (at most a few), and those repairs. */
const oracle = async (sdk: Sdk, blocks: ReadonlyArray<Block>) => {
  const repairs: Array<Repair> = []
  let current = [...blocks]
  for (let attempt = 0; attempt < 8; attempt++) {
    try {
      return { response: await sdk(toBody(current)), repairs }
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e)
      const next = repair(message, current)
      if (next === undefined) throw e
      repairs.push(next.repair)
      current = next.blocks
    }
  }
  throw new Error("the SDK still rejects the stream after 8 repairs")
}

const sdkOnly = new Set(["parsed", "parsed_arguments", "output_parsed"])

/**
 * The SDK result without its own additions, as plain JSON. `output_text` is the SDK's convenience, recomputed
 * from the output as deltas arrive; we keep a server's own `output_text` field (OpenRouter sends one) as sent, so
 * it is compared only where the server's final response set it.
 */
const normalise = (value: unknown, ours: Json): Json => {
  const out = JSON.parse(JSON.stringify(value, (k, v) => (sdkOnly.has(k) ? undefined : v))) as Json
  if (!("output_text" in ours)) delete out["output_text"]
  return out
}

const withoutOutputText = (json: Json): Json => ({ ...json, output_text: undefined })

/** Our documented behaviour at each step where the SDK throws. */
const checkRepair = (r: Repair, result: Aggregate): void => {
  switch (r.kind) {
    case "unknown-event":
      // ignored, never failing: nothing to see in the aggregate
      expect(result.skipped).toBe(0)
      break
    case "error-payload":
      expect(Option.map(result.error, (e) => r.sdkMessage.includes(e.message))).toEqual(Option.some(true))
      break
    case "missing-finish":
      expect(result.complete).toBe(false)
      break
    case "not-a-chunk":
      expect(result.skipped).toBeGreaterThanOrEqual(r.removed)
      break
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Naive readings of the raw events (key fields)
// ---------------------------------------------------------------------------------------------------------------

interface Aggregate {
  readonly response: Json
  readonly complete: boolean
  readonly skipped: number
  readonly error: Option.Option<{ readonly type: string; readonly message: string }>
}

const chatKeyFields = (blocks: ReadonlyArray<Block>) => {
  const choices = new Map<number, { text: string; finish: string | undefined; tools: Map<number, { name: string; args: string }> }>()
  let usage: unknown = undefined
  for (const { data, payload } of blocks) {
    if (data === "[DONE]") break
    if (!isRecord(payload) || !Array.isArray(payload["choices"])) continue
    if (payload["usage"] != null) usage = payload["usage"]
    for (const c of payload["choices"] as Array<Json>) {
      const index = c["index"] as number
      const entry = choices.get(index) ?? { text: "", finish: undefined, tools: new Map() }
      choices.set(index, entry)
      const delta = (c["delta"] ?? {}) as Json
      if (typeof delta["content"] === "string") entry.text += delta["content"]
      if (typeof c["finish_reason"] === "string") entry.finish = c["finish_reason"]
      for (const t of (delta["tool_calls"] ?? []) as Array<Json>) {
        const tool = entry.tools.get(t["index"] as number) ?? { name: "", args: "" }
        entry.tools.set(t["index"] as number, tool)
        const fn = (t["function"] ?? {}) as Json
        if (typeof fn["name"] === "string" && fn["name"] !== "") tool.name = fn["name"]
        if (typeof fn["arguments"] === "string") tool.args += fn["arguments"]
      }
    }
  }
  return { choices, usage }
}

const checkChatKeys = (blocks: ReadonlyArray<Block>, result: Aggregate) => {
  const response = result.response as unknown as OpenAiChat.ChatCompletion
  const naive = chatKeyFields(blocks)
  expect(response.choices.map((c) => c.index)).toEqual([...naive.choices.keys()].sort((a, b) => a - b))
  for (const choice of response.choices) {
    const expected = naive.choices.get(choice.index)!
    expect(choice.message.content).toBe(expected.text === "" ? null : expected.text)
    expect(choice.finish_reason).toBe(expected.finish ?? "stop")
    const tools = [...expected.tools.entries()].sort(([a], [b]) => a - b).map(([, t]) => t)
    expect((choice.message.tool_calls ?? []).map((t) => [t.function.name, JSON.parse(t.function.arguments)])).toEqual(
      tools.map((t) => [t.name, JSON.parse(t.args)])
    )
  }
  expect(result.complete).toBe([...naive.choices.values()].every((c) => c.finish !== undefined) && naive.choices.size > 0)
  expect(OpenAiChat.api.finishReasons(response)).toEqual(response.choices.map((c) => c.finish_reason))
  if (naive.usage !== undefined) {
    expect(response.usage).toEqual(naive.usage)
    expect(OpenAiChat.usage(response).totalTokens).toBe((naive.usage as Json)["total_tokens"])
  }
}

const terminalTypes = new Set(["response.completed", "response.incomplete", "response.failed"])

const checkResponsesKeys = (blocks: ReadonlyArray<Block>, result: Aggregate) => {
  const response = result.response as unknown as OpenAiResponses.Response
  const terminal = blocks.filter((b) => terminalTypes.has(typeOf(b) as string)).at(-1)?.payload as Json | undefined
  const final = terminal?.["response"] as Json | undefined
  expect(result.complete).toBe(final !== undefined)
  expect(response.status).toBe(final?.["status"] ?? "in_progress")
  expect(response.usage ?? null).toEqual(final?.["usage"] ?? null)
  const joined = new Map<string, string>()
  for (const { payload } of blocks) {
    const type = isRecord(payload) ? payload["type"] : undefined
    if (type === "response.output_text.delta" || type === "response.function_call_arguments.delta") {
      const p = payload as Json
      const key = `${type}:${p["item_id"]}:${p["content_index"] ?? 0}`
      joined.set(key, (joined.get(key) ?? "") + (p["delta"] as string))
    }
  }
  for (const item of response.output) {
    if (item.type === "message") {
      for (const [i, part] of (item["content"] as Array<Json>).entries()) {
        const text = joined.get(`response.output_text.delta:${item.id}:${i}`)
        if (part["type"] === "output_text" && text !== undefined) expect(part["text"]).toBe(text)
      }
    }
    if (item.type === "function_call") {
      const args = joined.get(`response.function_call_arguments.delta:${item.id}:0`)
      if (args !== undefined) expect(item["arguments"]).toBe(args)
      if (final !== undefined) expect(typeof JSON.parse(item["arguments"] as string)).toBe("object")
    }
  }
  const reasons = OpenAiResponses.api.finishReasons(response)
  expect(reasons.length).toBe(final === undefined ? 0 : 1)
  if (response.output.some((i) => i.type === "function_call") && response.status === "completed") {
    expect(reasons).toEqual(["tool_calls"])
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Suites
// ---------------------------------------------------------------------------------------------------------------

/** Files on which the SDK throws (INDEX.md's "SDK" column, and our own fixtures made to exercise these cases). */
const sdkRejects: Record<string, RegExp> = {
  "openai-chat/truncated-no-finish.sse": /missing finish_reason/,
  "openai-chat/error-payload.sse": /server had an error/,
  "openai-chat/bad-input.sse": /JSON/,
  "openai-responses/failed-insufficient-quota.sse": /exceeded your current quota/,
  "openai-responses/apply-patch-newer-events.sse": /Unhandled response stream event/,
  "openai-responses/failed.sse": /server had an error/,
  "openai-responses/unknown-events.sse": /Unhandled response stream event/
}

const rechunkings = 200

interface Flavour {
  readonly folder: "openai-chat" | "openai-responses"
  readonly api: Api<any, any>
  readonly sdk: Sdk
  readonly checkKeys: (blocks: ReadonlyArray<Block>, result: Aggregate) => void
}

const flavours: ReadonlyArray<Flavour> = [
  { folder: "openai-chat", api: OpenAiChat.api, sdk: sdkChat, checkKeys: checkChatKeys },
  { folder: "openai-responses", api: OpenAiResponses.api, sdk: sdkResponses, checkKeys: checkResponsesKeys }
]

const ours = (api: Api<any, any>, chunks: Iterable<Uint8Array>): Aggregate =>
  Option.getOrThrow(aggregateBytes(api, chunks)) as Aggregate

const conformance = (root: string | undefined) => {
  for (const flavour of flavours) {
    const files = root === undefined ? [] : readSseFiles(`${root}/${flavour.folder}`)
    describe(flavour.folder, () => {
      it("has fixtures", () => {
        expect(files.length).toBeGreaterThan(5)
      })

      for (const [name, bytes] of files) {
        const blocks = toBlocks(bytes)
        const rejects = sdkRejects[`${flavour.folder}/${name}`]

        it(`${name}: ${rechunkings} random re-chunkings give an identical aggregate`, () => {
          const whole = aggregateBytes(flavour.api, [bytes])
          expect(Option.isSome(whole)).toBe(true)
          for (let seed = 1; seed <= rechunkings; seed++) {
            const chunks = randomChunking(bytes, seed * 7919, 1 + (seed * 37) % 700)
            expect(aggregateBytes(flavour.api, chunks)).toEqual(whole)
          }
        })

        it(`${name}: key fields equal a naive reading of the raw events`, () => {
          flavour.checkKeys(blocks, ours(flavour.api, [bytes]))
        })

        it(`${name}: equals the SDK's final result${rejects === undefined ? "" : " (SDK throws: repaired)"}`, async () => {
          const result = ours(flavour.api, [bytes])
          const { repairs, response } = await oracle(flavour.sdk, blocks)
          expect(repairs.length > 0).toBe(rejects !== undefined)
          if (rejects !== undefined) expect(repairs[0]?.sdkMessage).toMatch(rejects)
          for (const r of repairs) checkRepair(r, result)
          const expected = normalise(response, result.response)
          // Documented difference: usage is taken from whichever chunk carries it; the SDK lets a later
          // `usage: null` erase it.
          if (flavour.folder === "openai-chat") {
            const usage = chatKeyFields(blocks).usage
            if (usage !== undefined) expected["usage"] = usage
          }
          expect(result.response).toEqual(expected)
        })

        if (flavour.folder === "openai-responses") {
          const partials: ReadonlyArray<readonly [string, (b: Block) => boolean]> = [
            ["without the terminal event", (b) => terminalTypes.has(typeOf(b) as string)],
            ["without the terminal and `.done` events", (b) =>
              terminalTypes.has(typeOf(b) as string) || /^response\..*\.done$/.test(String(typeOf(b)))]
          ]
          for (const [label, drop] of partials) {
            it(`${name}: ${label}, the partial snapshot equals the SDK's`, async () => {
              const kept = blocks.filter((b) => !drop(b))
              const result = ours(flavour.api, [toBody(kept)])
              expect(result.complete).toBe(false)
              const { repairs, response } = await oracle(flavour.sdk, kept)
              for (const r of repairs) checkRepair(r, result)
              expect(withoutOutputText(result.response)).toEqual(withoutOutputText(normalise(response, result.response)))
            })
          }
        }
      }
    })
  }
}

describe("OpenAI conformance: own fixtures (test/fixtures)", () => {
  conformance(fileURLToPath(new URL("../fixtures", import.meta.url)))
})

withSharedFixtures("OpenAI conformance", (dir) => {
  describe("OpenAI conformance: ../shared/fixtures", () => {
    conformance(dir)
  })
})
