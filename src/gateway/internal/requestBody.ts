/**
 * Reading a request body as a JSON object, bounded: never more than `maxBytes` buffered (a larger body is
 * refused while it arrives, from `content-length` when it is declared), never one string of an unbounded body,
 * and JSON nested deeper than a bound refused before parsing (deep nesting makes later serialisers recurse).
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import type { IncomingMessage } from "node:http"

/** @internal */
export type Body =
  | { readonly _tag: "Ok"; readonly value: Record<string, unknown> }
  | { readonly _tag: "TooLarge"; readonly limit: number }
  | { readonly _tag: "Invalid"; readonly message: string }

/** JSON nesting beyond this is refused (400). @internal */
export const maxDepth = 512

const OPEN_BRACE = 123
const OPEN_BRACKET = 91
const CLOSE_BRACE = 125
const CLOSE_BRACKET = 93
const QUOTE = 34
const BACKSLASH = 92

/** True when the JSON text nests objects/arrays deeper than `max` (strings are skipped). @internal */
export const nestsDeeperThan = (bytes: Uint8Array, max: number): boolean => {
  let depth = 0
  let inString = false
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!
    if (inString) {
      if (b === BACKSLASH) i++
      else if (b === QUOTE) inString = false
    } else if (b === QUOTE) {
      inString = true
    } else if (b === OPEN_BRACE || b === OPEN_BRACKET) {
      if (++depth > max) return true
    } else if (b === CLOSE_BRACE || b === CLOSE_BRACKET) {
      depth--
    }
  }
  return false
}

/** Decodes a complete body. @internal */
export const decode = (bytes: Uint8Array): Body => {
  if (nestsDeeperThan(bytes, maxDepth)) return { _tag: "Invalid", message: `the request body nests deeper than ${maxDepth} levels` }
  let value: unknown
  try {
    value = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8"))
  } catch {
    return { _tag: "Invalid", message: "the request body is not valid JSON" }
  }
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? { _tag: "Ok", value: value as Record<string, unknown> }
    : { _tag: "Invalid", message: "the request body must be a JSON object" }
}

/**
 * Reads and decodes the body of a Node request within `maxBytes`, counting bytes; stops reading at the limit.
 *
 * @internal
 */
export const read = (message: IncomingMessage, maxBytes: number): Effect.Effect<Body> =>
  Effect.async<Body>((resume) => {
    const declared = Number(message.headers["content-length"])
    if (Number.isFinite(declared) && declared > maxBytes) {
      message.pause()
      return resume(Effect.succeed({ _tag: "TooLarge", limit: maxBytes }))
    }
    const parts: Array<Buffer> = []
    let size = 0
    const cleanup = () => {
      message.off("data", onData)
      message.off("end", onEnd)
      message.off("error", onError)
    }
    const onData = (chunk: Buffer) => {
      size += chunk.length
      if (size <= maxBytes) return void parts.push(chunk)
      cleanup()
      parts.length = 0
      message.pause()
      resume(Effect.succeed({ _tag: "TooLarge", limit: maxBytes }))
    }
    const onEnd = () => {
      cleanup()
      resume(Effect.succeed(decode(Buffer.concat(parts, size))))
    }
    const onError = () => {
      cleanup()
      resume(Effect.succeed({ _tag: "Invalid", message: "the request body could not be read" }))
    }
    message.on("data", onData)
    message.on("end", onEnd)
    message.on("error", onError)
    return Effect.sync(cleanup)
  })
