/**
 * Generators of valid Gemini `streamGenerateContent?alt=sse` streams for property tests and benchmarks.
 *
 * A spec lists, per candidate, the parts the complete response has (text, thought text with its signature,
 * function calls, sent whole as the Gemini API does or as Vertex `partialArgs` fragments); the stream cuts text
 * into pieces, interleaves the candidates and packs the pieces into chunks. The expected response is the spec's
 * parts, from the spec alone, never from the fold under test.
 */
import { FastCheck } from "effect"
import { benchTexts } from "./anthropicGen.js"
import { splitText, textArbitrary } from "./openaiGen.js"

type Json = Record<string, unknown>

export type GeminiItemSpec =
  | {
    readonly kind: "text"
    readonly thought: boolean
    readonly pieces: Array<string>
    /** The signature and the piece (modulo the count) whose part carries it. */
    readonly signature: { readonly value: string; readonly at: number } | null
  }
  | {
    readonly kind: "call"
    readonly name: string
    readonly args: Json
    readonly signature: string | null
    /** Vertex `streamFunctionCallArguments`: the args come as `partialArgs` fragments. */
    readonly streamed: { readonly cuts: Array<number>; readonly terminal: boolean } | null
  }

export interface GeminiCandidateSpec {
  readonly items: Array<GeminiItemSpec>
  readonly finish: string | null
}

export interface GeminiSpec {
  readonly responseId: string
  readonly modelVersion: string
  readonly candidates: Array<GeminiCandidateSpec>
  /** Candidates carry `index` (always when there are several). */
  readonly withIndex: boolean
  /** How the slots of the candidates interleave, and where chunks are cut between slots. */
  readonly picks: Array<number>
  readonly packs: Array<boolean>
  /** usageMetadata on every chunk (running totals), only at the end (a usage-only chunk), or never. */
  readonly usage: "every" | "last" | "none"
  readonly crlf: boolean
}

const leafArbitrary: FastCheck.Arbitrary<unknown> = FastCheck.oneof(
  textArbitrary(10),
  FastCheck.integer({ min: -1000, max: 1000 }),
  FastCheck.double({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 }).filter((d) => !Object.is(d, -0)),
  FastCheck.boolean(),
  FastCheck.constant(null)
)

const keyArbitrary = FastCheck.stringMatching(/^[a-z][a-z_]{0,7}$/)

/** Function call arguments: nested objects and arrays, never empty containers (they have no leaf to stream). */
const argsArbitrary: FastCheck.Arbitrary<Json> = FastCheck.letrec<{ value: unknown; object: Json }>((tie) => ({
  value: FastCheck.oneof(
    { depthSize: "small", withCrossShrink: true },
    leafArbitrary,
    tie("object"),
    FastCheck.array(tie("value"), { minLength: 1, maxLength: 3 })
  ),
  object: FastCheck.dictionary(keyArbitrary, tie("value"), { minKeys: 1, maxKeys: 3 })
})).object

const itemArbitrary: FastCheck.Arbitrary<GeminiItemSpec> = FastCheck.oneof(
  FastCheck.record({
    kind: FastCheck.constant("text" as const),
    thought: FastCheck.boolean(),
    pieces: FastCheck.array(textArbitrary(), { minLength: 1, maxLength: 6 }),
    signature: FastCheck.option(
      FastCheck.record({ value: FastCheck.stringMatching(/^[A-Za-z0-9+/=]{8,32}$/), at: FastCheck.nat() }),
      { nil: null }
    )
  }),
  FastCheck.record({
    kind: FastCheck.constant("call" as const),
    name: FastCheck.stringMatching(/^[a-z_]{1,12}$/),
    args: argsArbitrary,
    signature: FastCheck.option(FastCheck.stringMatching(/^[A-Za-z0-9+/=]{8,32}$/), { nil: null }),
    streamed: FastCheck.option(
      FastCheck.record({ cuts: FastCheck.array(FastCheck.nat(), { maxLength: 4 }), terminal: FastCheck.boolean() }),
      { nil: null }
    )
  })
)

/**
 * Adjacent text items of the same kind are one part in a complete response: a spec keeps them as one item (the
 * first's signature wins), so that every item is exactly one expected part.
 */
const normalise = (items: ReadonlyArray<GeminiItemSpec>): Array<GeminiItemSpec> => {
  const out: Array<GeminiItemSpec> = []
  for (const item of items) {
    const last = out.at(-1)
    if (item.kind === "text" && last?.kind === "text" && last.thought === item.thought) {
      out[out.length - 1] = { ...last, pieces: [...last.pieces, ...item.pieces] }
    } else {
      out.push(item)
    }
  }
  return out
}

const candidateArbitrary: FastCheck.Arbitrary<GeminiCandidateSpec> = FastCheck.record({
  items: FastCheck.array(itemArbitrary, { minLength: 1, maxLength: 5 }).map(normalise),
  finish: FastCheck.constantFrom("STOP", "MAX_TOKENS", "SAFETY", null)
})

export const geminiSpecArbitrary: FastCheck.Arbitrary<GeminiSpec> = FastCheck.record({
  responseId: FastCheck.stringMatching(/^[A-Za-z0-9_-]{8,24}$/),
  modelVersion: FastCheck.constantFrom("gemini-2.5-flash", "gemini-2.5-pro", "gemini-3-pro-preview"),
  candidates: FastCheck.array(candidateArbitrary, { minLength: 1, maxLength: 3 }),
  withIndex: FastCheck.boolean(),
  picks: FastCheck.array(FastCheck.nat(), { maxLength: 32 }),
  packs: FastCheck.array(FastCheck.boolean(), { maxLength: 32 }),
  usage: FastCheck.constantFrom("every" as const, "last" as const, "none" as const),
  crlf: FastCheck.boolean()
})

// ---------------------------------------------------------------------------------------------------------------
// The stream
// ---------------------------------------------------------------------------------------------------------------

/** The JSONPath of a key path: `.name` for plain keys, `[n]` for array positions. */
const jsonPath = (path: ReadonlyArray<string | number>): string =>
  "$" + path.map((s) => (typeof s === "number" ? `[${s}]` : `.${s}`)).join("")

/** The leaves of an args value, depth first in key order (the order a model writes them). */
const leaves = (value: unknown, path: Array<string | number> = []): Array<readonly [Array<string | number>, unknown]> => {
  if (Array.isArray(value)) return value.flatMap((v, i) => leaves(v, [...path, i]))
  if (typeof value === "object" && value !== null) {
    return Object.entries(value).flatMap(([k, v]) => leaves(v, [...path, k]))
  }
  return [[path, value]]
}

/** The `partialArgs` of one leaf: a string in pieces (`willContinue` on all but the last), others whole. */
const leafFragments = (path: Array<string | number>, value: unknown, cuts: ReadonlyArray<number>): Array<Json> => {
  const at = jsonPath(path)
  if (typeof value === "string") {
    const pieces = value === "" ? [""] : splitText(value, cuts)
    // As Vertex does: the text, then an empty fragment that ends the value.
    return [...pieces.map((stringValue) => ({ jsonPath: at, stringValue, willContinue: true })), { jsonPath: at, stringValue: "" }]
  }
  if (typeof value === "number") return [{ jsonPath: at, numberValue: value }]
  if (typeof value === "boolean") return [{ jsonPath: at, boolValue: value }]
  return [{ jsonPath: at, nullValue: "NULL_VALUE" }]
}

/** The parts one item is streamed as, each sent in its own slot. */
const itemParts = (item: GeminiItemSpec): Array<Json> => {
  if (item.kind === "text") {
    const at = item.signature === null ? -1 : item.signature.at % item.pieces.length
    return item.pieces.map((text, i) => ({
      text,
      ...(item.thought ? { thought: true } : {}),
      ...(i === at && item.signature !== null ? { thoughtSignature: item.signature.value } : {})
    }))
  }
  const signature = item.signature === null ? {} : { thoughtSignature: item.signature }
  if (item.streamed === null) return [{ functionCall: { name: item.name, args: item.args }, ...signature }]
  const fragments = leaves(item.args).flatMap(([path, value]) => leafFragments(path, value, item.streamed!.cuts))
  const parts: Array<Json> = [{ functionCall: { name: item.name, willContinue: true }, ...signature }]
  fragments.forEach((fragment, i) => {
    const last = i === fragments.length - 1 && !item.streamed!.terminal
    // Without a terminal part, the last fragment's call has no `willContinue`: that ends the call.
    parts.push({ functionCall: last ? { partialArgs: [fragment] } : { partialArgs: [fragment], willContinue: true } })
  })
  if (item.streamed.terminal || fragments.length === 0) parts.push({ functionCall: {} })
  return parts
}

interface Slot {
  readonly candidate: number
  readonly part: Json
  readonly last: boolean
}

/** Merges the candidates' slot lists, keeping each list's order, choosing the next list by `picks`. */
const interleave = (lists: ReadonlyArray<ReadonlyArray<Slot>>, picks: ReadonlyArray<number>): Array<Slot> => {
  const queues = lists.map((l) => [...l]).filter((l) => l.length > 0)
  const out: Array<Slot> = []
  let k = 0
  while (queues.length > 0) {
    const i = (picks.length === 0 ? 0 : picks[k++ % picks.length]!) % queues.length
    out.push(queues[i]!.shift()!)
    if (queues[i]!.length === 0) queues.splice(i, 1)
  }
  return out
}

/** Running usage: prompt fixed, candidates growing with the chunks. */
const usageAt = (chunk: number): Json => ({
  promptTokenCount: 17,
  candidatesTokenCount: 3 * chunk + 1,
  totalTokenCount: 17 + 3 * chunk + 1,
  promptTokensDetails: [{ modality: "TEXT", tokenCount: 17 }]
})

/** The chunks (JSON payloads) of a spec. */
export const geminiChunks = (spec: GeminiSpec): Array<Json> => {
  const withIndex = spec.withIndex || spec.candidates.length > 1
  const lists = spec.candidates.map((candidate, c) => {
    const parts = candidate.items.flatMap(itemParts)
    return parts.map((part, i): Slot => ({ candidate: c, part, last: i === parts.length - 1 }))
  })
  const slots = interleave(lists, spec.picks)
  // Consecutive slots go into one chunk while `packs` says so.
  const groups: Array<Array<Slot>> = []
  slots.forEach((slot, i) => {
    if (groups.length === 0 || !(spec.packs[i % Math.max(1, spec.packs.length)] ?? false)) groups.push([])
    groups.at(-1)!.push(slot)
  })
  const chunks = groups.map((group, g): Json => {
    const entries = new Map<number, Json>()
    for (const slot of group) {
      let entry = entries.get(slot.candidate)
      if (entry === undefined) {
        entry = { content: { parts: [], role: "model" }, ...(withIndex ? { index: slot.candidate } : {}) }
        entries.set(slot.candidate, entry)
      }
      ;((entry["content"] as Json)["parts"] as Array<Json>).push(slot.part)
      const finish = spec.candidates[slot.candidate]!.finish
      if (slot.last && finish !== null) entry["finishReason"] = finish
    }
    return {
      candidates: [...entries.values()],
      ...(spec.usage === "every" ? { usageMetadata: usageAt(g) } : {}),
      modelVersion: spec.modelVersion,
      responseId: spec.responseId
    }
  })
  if (spec.usage === "last") chunks.push({ usageMetadata: usageAt(chunks.length), modelVersion: spec.modelVersion, responseId: spec.responseId })
  return chunks
}

export const geminiSseEvent = (payload: Json, crlf = false): string => {
  const eol = crlf ? "\r\n" : "\n"
  return `data: ${JSON.stringify(payload)}${eol}${eol}`
}

/** The SSE body of a spec. */
export const geminiSse = (spec: GeminiSpec): string => geminiChunks(spec).map((c) => geminiSseEvent(c, spec.crlf)).join("")

const expectedPart = (item: GeminiItemSpec): Json => {
  if (item.kind === "text") {
    return {
      text: item.pieces.join(""),
      ...(item.thought ? { thought: true } : {}),
      ...(item.signature === null ? {} : { thoughtSignature: item.signature.value })
    }
  }
  return { functionCall: { name: item.name, args: item.args }, ...(item.signature === null ? {} : { thoughtSignature: item.signature }) }
}

/** The `GenerateContentResponse` a spec's stream must fold into, from the spec alone. */
export const expectedGemini = (spec: GeminiSpec): Json => {
  const withIndex = spec.withIndex || spec.candidates.length > 1
  const chunkCount = geminiChunks(spec).length
  return {
    candidates: spec.candidates.map((candidate, c) => ({
      ...(withIndex ? { index: c } : {}),
      content: { parts: candidate.items.map(expectedPart), role: "model" },
      finishReason: candidate.finish
    })),
    modelVersion: spec.modelVersion,
    responseId: spec.responseId,
    ...(spec.usage === "none" ? {} : { usageMetadata: usageAt(chunkCount - 1) })
  }
}

/** Every candidate got a finish reason. */
export const expectedGeminiComplete = (spec: GeminiSpec): boolean => spec.candidates.every((c) => c.finish !== null)

// ---------------------------------------------------------------------------------------------------------------
// Benchmark stream
// ---------------------------------------------------------------------------------------------------------------

/**
 * A realistic gemini-2.5 stream of at least `targetBytes`, CRLF-framed as the API sends it: thought chunks (a tenth
 * of the bytes), then answer chunks with a signature on the first, each with a running usageMetadata, and a last
 * chunk with a function call and finishReason STOP.
 */
export const geminiBenchStream = (targetBytes: number): Uint8Array => {
  const parts: Array<string> = []
  let size = 0
  let n = 0
  const push = (candidate: Json) => {
    const text = geminiSseEvent({
      candidates: [{ ...candidate, index: 0 }],
      usageMetadata: { promptTokenCount: 34, candidatesTokenCount: n, totalTokenCount: 34 + n, promptTokensDetails: [{ modality: "TEXT", tokenCount: 34 }], thoughtsTokenCount: 787 },
      modelVersion: "gemini-2.5-pro",
      responseId: "beHBaJfEMIi-qtsP3769-Q8"
    }, true)
    n++
    parts.push(text)
    size += text.length
  }
  const texts = benchTexts(17)
  while (size < targetBytes / 10) push({ content: { parts: [{ text: texts.next().value, thought: true }], role: "model" } })
  push({ content: { parts: [{ text: texts.next().value, thoughtSignature: "CiIB0e2Kb6Syj1a961EfbWv4W5C8RgAA" }], role: "model" } })
  while (size < targetBytes) push({ content: { parts: [{ text: texts.next().value }], role: "model" } })
  push({
    content: { parts: [{ functionCall: { name: "record", args: { done: true, count: n } } }], role: "model" },
    finishReason: "STOP"
  })
  return new TextEncoder().encode(parts.join(""))
}
