/**
 * Gemini `streamGenerateContent?alt=sse` (Gemini API and Vertex AI): the fold from `GenerateContentResponse`
 * chunks to the `GenerateContentResponse` the same request would have returned without streaming.
 *
 * No official accumulator exists (`@google/genai` yields the chunks), so the rules are ours: candidates by
 * `index` (position when absent); parts in arrival order, adjacent text parts merged only when their `thought`
 * flag matches; function calls kept in place; `finishReason` last non-null (else `null`); other candidate fields
 * and top-level fields last value wins; `usageMetadata` last seen (a running total, never summed). Vertex
 * `streamFunctionCallArguments` fragments (`functionCall.partialArgs` with `jsonPath`, `willContinue`) are
 * assembled into one `functionCall` with complete `args`, as the non-streaming response carries it. The wire
 * Schemas are in `GeminiGenerateContentSchema`.
 *
 * @since 0.1.0
 */
import type * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import type * as Fold from "../Fold.js"
import { isIndex, isRecord, type Json, nonEmpty, someNonEmpty } from "../internal/json.js"
import type * as Sse from "../Sse.js"
import * as TokenUsage from "../TokenUsage.js"
import { GenAiOperations, GenAiOutputTypes } from "../tracing/Attributes.js"
import * as Api from "./Api.js"
import { type Candidate, GenerateContentResponse } from "./GeminiGenerateContentSchema.js"
import { parseJsonPath, setAt } from "./internal/jsonPath.js"
import * as Parameters from "./internal/requestParameters.js"
import * as streamError from "./internal/streamError.js"

/**
 * The chunk the fold reads and the response it gives (the Schemas and their types; parts, candidates and usage
 * are in `GeminiGenerateContentSchema`).
 *
 * @since 0.1.0
 * @category schemas
 */
export { GenerateContentResponse, GenerateContentResponseChunk, type Response } from "./GeminiGenerateContentSchema.js"

// ---------------------------------------------------------------------------------------------------------------
// Fold state
// ---------------------------------------------------------------------------------------------------------------

/** A streamed function call being assembled from `partialArgs` fragments. */
interface OpenCall {
  /** The part in the candidate's list; its `functionCall` is `call`. */
  readonly part: Json
  readonly call: Json
  readonly args: Json
  /** The `jsonPath` whose string value goes on in the next fragment. */
  continuing: string | undefined
}

interface CandidateState {
  readonly index: number
  /** The candidate carried its own `index` (kept in the result only then). */
  hasIndex: boolean
  /** Fields other than content, index and finishReason (safetyRatings, citationMetadata, …): last value wins. */
  readonly extra: Json
  /** Content fields other than role and parts; undefined until a content arrived. */
  content: Json | undefined
  role: string | undefined
  /** The parts so far; the last may still grow (text merge, open call). */
  readonly parts: Array<Json>
  finishReason: string | undefined
  open: OpenCall | undefined
}

/**
 * The fold's state: mutable, private to one run. O(output): the merged parts per candidate, never the chunks.
 *
 * @since 0.1.0
 * @category models
 */
export interface State extends Api.JsonEventState {
  /** Top-level fields (usageMetadata, modelVersion, responseId, …): last value wins. */
  readonly top: Json
  readonly candidates: Map<number, CandidateState>
}

const makeState = (): State => ({ top: {}, candidates: new Map(), skipped: 0, ended: false, error: undefined })

/** Top-level fields that make a JSON object a chunk. */
const chunkKeys = ["candidates", "usageMetadata", "promptFeedback", "modelVersion", "responseId"] as const

const acceptPayload = (state: State, payload: unknown): void => {
  if (!isRecord(payload)) {
    state.skipped++
    return
  }
  if (payload["error"] != null) {
    state.error ??= streamError.fromGoogle(payload["error"])
    return
  }
  const candidates = payload["candidates"]
  if ((candidates !== undefined && !Array.isArray(candidates)) || !chunkKeys.some((key) => key in payload)) {
    state.skipped++
    return
  }
  for (const key in payload) {
    const value = payload[key]
    if (key === "candidates" || key === "error" || key === "__proto__") continue
    // A running total: the last one seen is the call's usage; a null never erases it.
    if (key === "usageMetadata" && !isRecord(value)) continue
    state.top[key] = value
  }
  if (Array.isArray(candidates)) {
    for (let i = 0; i < candidates.length; i++) {
      const candidate: unknown = candidates[i]
      if (isRecord(candidate)) stepCandidate(state, candidate, i)
    }
  }
}

const newCandidate = (index: number): CandidateState => ({
  index,
  hasIndex: false,
  extra: {},
  content: undefined,
  role: undefined,
  parts: [],
  finishReason: undefined,
  open: undefined
})

const stepCandidate = (state: State, raw: Json, position: number): void => {
  const index = isIndex(raw["index"]) ? raw["index"] : position
  let candidate = state.candidates.get(index)
  if (candidate === undefined) state.candidates.set(index, candidate = newCandidate(index))
  for (const key in raw) {
    switch (key) {
      case "content": {
        const content = raw[key]
        if (isRecord(content)) stepContent(candidate, content)
        break
      }
      case "finishReason": {
        const reason = raw[key]
        if (nonEmpty(reason)) candidate.finishReason = reason
        break
      }
      case "index":
        candidate.hasIndex ||= isIndex(raw[key])
        break
      case "__proto__":
        break
      default:
        candidate.extra[key] = raw[key]
    }
  }
}

const stepContent = (candidate: CandidateState, content: Json): void => {
  const target = candidate.content ??= {}
  for (const key in content) {
    const value = content[key]
    if (key === "role") {
      if (nonEmpty(value)) candidate.role = value
    } else if (key === "parts") {
      if (Array.isArray(value)) {
        for (const part of value) if (isRecord(part)) stepPart(candidate, part)
      }
    } else if (key !== "__proto__") {
      target[key] = value
    }
  }
}

/** A part that is only text: `text`, `thought`, `thoughtSignature` and nothing else (never merged otherwise). */
const isPlainText = (part: Json): boolean => {
  if (typeof part["text"] !== "string") return false
  for (const key in part) if (key !== "text" && key !== "thought" && key !== "thoughtSignature") return false
  return true
}

const stepPart = (candidate: CandidateState, part: Json): void => {
  const call = part["functionCall"]
  if (candidate.open !== undefined) {
    if (isRecord(call) && !nonEmpty(call["name"])) {
      continueCall(candidate, candidate.open, part, call)
      return
    }
    // Anything else ends the streamed call, even without its terminal fragment.
    candidate.open = undefined
  }
  if (isRecord(call) && (call["willContinue"] === true || Array.isArray(call["partialArgs"]))) {
    openCall(candidate, part, call)
    return
  }
  const parts = candidate.parts
  const last = parts.length === 0 ? undefined : parts[parts.length - 1]!
  if (
    last !== undefined && isPlainText(last) && isPlainText(part) && (last["thought"] === true) === (part["thought"] === true) &&
    !(last["thoughtSignature"] !== undefined && part["thoughtSignature"] !== undefined)
  ) {
    // Adjacent text of the same kind is one part; a signature arriving on a later fragment is kept on it.
    last["text"] = (last["text"] as string) + (part["text"] as string)
    if (part["thoughtSignature"] !== undefined) last["thoughtSignature"] = part["thoughtSignature"]
    return
  }
  parts.push(part)
}

// ---------------------------------------------------------------------------------------------------------------
// Vertex streamed function call arguments
// ---------------------------------------------------------------------------------------------------------------

/** Starts an assembled call: the opening part with `args` instead of fragments. */
const openCall = (candidate: CandidateState, part: Json, call: Json): void => {
  const args: Json = isRecord(call["args"]) ? { ...call["args"] } : {}
  const assembled: Json = {}
  for (const key in call) if (key !== "willContinue" && key !== "partialArgs" && key !== "__proto__") assembled[key] = call[key]
  assembled["args"] = args
  const target: Json = { ...part, functionCall: assembled }
  candidate.parts.push(target)
  const state: OpenCall = { part: target, call: assembled, args, continuing: undefined }
  applyPartialArgs(state, call["partialArgs"])
  candidate.open = call["willContinue"] === true ? state : undefined
}

/** A fragment of the open call: its arguments applied, its other fields kept; closes unless `willContinue`. */
const continueCall = (candidate: CandidateState, open: OpenCall, part: Json, call: Json): void => {
  for (const key in part) if (key !== "functionCall" && key !== "__proto__") open.part[key] = part[key]
  for (const key in call) {
    if (key !== "willContinue" && key !== "partialArgs" && key !== "args" && key !== "__proto__") open.call[key] = call[key]
  }
  if (isRecord(call["args"])) Object.assign(open.args, call["args"])
  applyPartialArgs(open, call["partialArgs"])
  if (call["willContinue"] !== true) candidate.open = undefined
}

const applyPartialArgs = (open: OpenCall, fragments: unknown): void => {
  if (!Array.isArray(fragments)) return
  for (const fragment of fragments) {
    if (!isRecord(fragment) || typeof fragment["jsonPath"] !== "string") continue
    const jsonPath = fragment["jsonPath"]
    const path = parseJsonPath(jsonPath)
    if (path === undefined) continue
    const append = open.continuing === jsonPath
    open.continuing = fragment["willContinue"] === true ? jsonPath : undefined
    if (typeof fragment["stringValue"] === "string") {
      setAt(open.args, path, fragment["stringValue"], append)
    } else if (typeof fragment["numberValue"] === "number") {
      setAt(open.args, path, fragment["numberValue"], false)
    } else if (typeof fragment["boolValue"] === "boolean") {
      setAt(open.args, path, fragment["boolValue"], false)
    } else if ("nullValue" in fragment) {
      setAt(open.args, path, null, false)
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Result
// ---------------------------------------------------------------------------------------------------------------

const byIndex = (a: CandidateState, b: CandidateState) => a.index - b.index

/** A fresh copy of the parts that may still change (the last text part, the open call). */
const copyParts = (candidate: CandidateState): Array<Json> =>
  candidate.parts.map((part) =>
    candidate.open !== undefined && part === candidate.open.part
      ? { ...part, functionCall: { ...candidate.open.call, args: structuredClone(candidate.open.args) } }
      : { ...part }
  )

const toCandidate = (candidate: CandidateState): Candidate => {
  const out: Json = { ...candidate.extra }
  if (candidate.hasIndex) out["index"] = candidate.index
  if (candidate.content !== undefined) {
    const content: Json = { ...candidate.content, parts: copyParts(candidate) }
    if (candidate.role !== undefined) content["role"] = candidate.role
    out["content"] = content
  }
  out["finishReason"] = candidate.finishReason ?? null
  return out as Candidate
}

const toResponse = (state: State): GenerateContentResponse => ({
  ...state.top,
  candidates: Array.from(state.candidates.values()).sort(byIndex).map(toCandidate)
})

const hasResponse = (state: State): boolean => state.candidates.size > 0 || isRecord(state.top["usageMetadata"])

/** Every candidate finished; or no candidate at all because the prompt was blocked. */
const isComplete = (state: State): boolean => {
  if (state.candidates.size === 0) {
    const feedback = state.top["promptFeedback"]
    return isRecord(feedback) && nonEmpty(feedback["blockReason"])
  }
  for (const candidate of state.candidates.values()) if (candidate.finishReason === undefined) return false
  return true
}

// ---------------------------------------------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------------------------------------------

/**
 * Normalised usage (tool-use prompt tokens are input, thoughts are output).
 *
 * @since 0.1.0
 * @category accessors
 */
export const usage = (response: GenerateContentResponse): TokenUsage.TokenUsage =>
  TokenUsage.fromGemini(response.usageMetadata)

/** `IMAGE` / `AUDIO` among the response modalities, else the response MIME type. */
const outputType = (config: Record<string, unknown>): string | undefined => {
  const modalities = config["responseModalities"]
  if (Array.isArray(modalities)) {
    if (modalities.includes("IMAGE")) return GenAiOutputTypes.Image
    if (modalities.includes("AUDIO")) return GenAiOutputTypes.Speech
  }
  const mime = config["responseMimeType"]
  return mime === "application/json" ? GenAiOutputTypes.Json
    : typeof mime === "string" && mime.startsWith("text/") ? GenAiOutputTypes.Text
    : undefined
}

/**
 * The request's `generationConfig` as GenAI attributes (`maxOutputTokens`, `temperature`, `topP`, `topK`,
 * `seed`, `stopSequences`, penalties, `candidateCount`; `responseModalities` / `responseMimeType` as the output
 * type).
 *
 * @since 0.2.0
 * @category accessors
 */
export const requestAttributes = (body: unknown): Api.SpanAttributes => {
  const config = Parameters.fields(Parameters.fields(body)["generationConfig"])
  return Parameters.toAttributes({
    maxTokens: config["maxOutputTokens"],
    temperature: config["temperature"],
    topP: config["topP"],
    topK: config["topK"],
    seed: config["seed"],
    stopSequences: config["stopSequences"],
    frequencyPenalty: config["frequencyPenalty"],
    presencePenalty: config["presencePenalty"],
    choiceCount: config["candidateCount"],
    outputType: outputType(config)
  })
}

const generateContent = Api.make<GenerateContentResponse, State>({
  provider: "gcp.gemini",
  operation: GenAiOperations.GenerateContent,
  messageFormat: "gemini",
  initial: makeState,
  accept: acceptPayload,
  hasResponse,
  response: toResponse,
  complete: isComplete,
  decodeResponse: Schema.decodeUnknownOption(GenerateContentResponse),
  usage,
  finishReasons: (response) =>
    (response.candidates ?? []).flatMap((c) => nonEmpty(c.finishReason) ? [c.finishReason] : []),
  responseId: (response) => someNonEmpty(response.responseId),
  responseModel: (response) => someNonEmpty(response.modelVersion),
  requestAttributes
})

/**
 * The fold over SSE events: data that is not JSON, or JSON that is not a chunk, is skipped and counted; an
 * `{"error": …}` payload is recorded. `complete` is true when every candidate got a finish reason (or the prompt
 * was blocked). Without candidates and usage the result is None, unless an error arrived.
 *
 * @since 0.1.0
 * @category folding
 */
export const fold: Fold.Fold<Sse.Event, State, Api.Aggregate<GenerateContentResponse>> = generateContent.fold

/**
 * Folds raw body chunks (SSE bytes, any split) into a `GenerateContentResponse`; None when no candidate and no
 * usage arrived.
 *
 * @since 0.1.0
 * @category folding
 */
export const aggregate: (chunks: Iterable<Uint8Array>) => Option.Option<GenerateContentResponse> = generateContent.aggregate

/**
 * Everything tracing needs to know about `generateContent` / `streamGenerateContent`.
 *
 * @since 0.1.0
 * @category api
 */
export const api: Api.Api<GenerateContentResponse, State> = generateContent.api
