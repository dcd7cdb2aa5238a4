/**
 * Token usage for OpenAI chat streams that did not ask for it.
 *
 * OpenAI streams report usage only with `stream_options.include_usage`. When a traced request lacks it, the
 * gateway asks upstream for usage ({@link request}) and removes what that changed from the client's stream
 * ({@link strip}): the final `choices: []` usage chunk, and the `"usage":null` member the API then adds to every
 * other chunk. Everything else passes byte for byte; an event is held only until its blank line arrives, which is
 * when the client's own SSE parser could first use it.
 *
 * @since 0.1.0
 */
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import { concat } from "../internal/bytes.js"
import { asRecord } from "../internal/json.js"


/**
 * The request to send upstream when usage must be injected, or None when the client already asked for it.
 *
 * @since 0.1.0
 * @category request
 */
export const request = (body: Record<string, unknown>): Option.Option<Record<string, unknown>> => {
  const options = asRecord(body["stream_options"])
  if (options?.["include_usage"] === true) return Option.none()
  return Option.some({ ...body, stream_options: { ...options, include_usage: true } })
}

const LF = 10
const CR = 13
const encoder = new TextEncoder()
const decoder = new TextDecoder()
const usageMarker = encoder.encode("\"usage\":")

const contains = (haystack: Uint8Array, needle: Uint8Array): boolean => {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer
    return true
  }
  return false
}

/** True for the chunk include_usage added: `"choices": []` with a usage object. */
const isUsageChunk = (text: string): boolean => {
  const data = text.replace(/^data: ?/m, "").trim()
  try {
    const chunk = asRecord(JSON.parse(data))
    const choices = chunk?.["choices"]
    return Array.isArray(choices) && choices.length === 0 && asRecord(chunk?.["usage"]) !== undefined
  } catch {
    return false
  }
}

/**
 * One SSE event block as the client must see it: unchanged, without its `"usage":null` member, or dropped.
 * `"usage":null` cannot occur inside a JSON string (quotes are escaped there), so the textual cut is exact.
 */
const rewrite = (block: Uint8Array): Uint8Array | undefined => {
  if (!contains(block, usageMarker)) return block
  const text = decoder.decode(block)
  if (isUsageChunk(text)) return undefined
  const cut = text.replace(/,"usage":null(?=[,}])|"usage":null,/g, "")
  return cut === text ? block : encoder.encode(cut)
}

/**
 * Splits bytes into event blocks, each ending with its blank line (a line end right after a line end: CR, LF or
 * CRLF, also across chunks); the tail waits for more bytes. A block whose blank line ends with a CR is closed only
 * when the next byte shows whether an LF completes that CRLF (the LF then belongs to the block).
 */
const makeFramer = () => {
  let pending: Array<Uint8Array> = []
  let lineEmpty = true
  let afterCr = false
  let closing = false
  return {
    feed: (bytes: Uint8Array): Array<Uint8Array> => {
      const blocks: Array<Uint8Array> = []
      let start = 0
      const close = (end: number) => {
        pending.push(bytes.subarray(start, end))
        blocks.push(concat(pending))
        pending = []
        start = end
      }
      for (let i = 0; i < bytes.length; i++) {
        const b = bytes[i]
        if (closing) {
          closing = false
          if (b === LF) {
            afterCr = false
            close(i + 1)
            continue
          }
          close(i)
        }
        if (b === LF && afterCr) {
          // The LF of a CRLF: its line end was counted at the CR.
          afterCr = false
          continue
        }
        afterCr = b === CR
        if (b !== LF && b !== CR) lineEmpty = false
        else if (!lineEmpty) lineEmpty = true
        else if (b === LF) close(i + 1)
        else closing = true
      }
      if (start < bytes.length) pending.push(bytes.slice(start))
      return blocks
    },
    end: (): Array<Uint8Array> => (pending.length === 0 ? [] : [concat(pending)])
  }
}

/**
 * A stripper: feed the upstream's bytes, get what the client must see (whole event blocks, rewritten by
 * {@link strip}'s rule), then the held tail at the end. Synchronous, for any byte pipeline.
 *
 * @since 0.2.0
 * @category response
 */
export interface Stripper {
  readonly feed: (bytes: Uint8Array) => Array<Uint8Array>
  readonly end: () => Array<Uint8Array>
}

/**
 * A fresh {@link Stripper}.
 *
 * @since 0.2.0
 * @category response
 */
export const makeStripper = (): Stripper => {
  const framer = makeFramer()
  const keep = (blocks: Array<Uint8Array>) => {
    const out: Array<Uint8Array> = []
    for (const block of blocks) {
      const kept = rewrite(block)
      if (kept !== undefined) out.push(kept)
    }
    return out
  }
  return { feed: (bytes) => keep(framer.feed(bytes)), end: () => keep(framer.end()) }
}

/**
 * Removes what {@link request} added from an OpenAI chat event stream.
 *
 * @since 0.1.0
 * @category response
 */
export const strip = <E, R>(body: Stream.Stream<Uint8Array, E, R>): Stream.Stream<Uint8Array, E, R> =>
  Stream.suspend(() => {
    const stripper = makeStripper()
    return body.pipe(
      Stream.mapConcat(stripper.feed),
      Stream.concat(Stream.suspend(() => Stream.fromIterable(stripper.end())))
    )
  })
