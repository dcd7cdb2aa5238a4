/**
 * The pure SSE parser: a synchronous state machine over UTF-8 bytes, no Effect in it.
 *
 * It scans bytes, not text. CR, LF and ':' are ASCII and never occur inside a UTF-8 multi-byte sequence, so
 * splitting lines and fields on bytes and decoding only the field values gives exactly what decoding the whole
 * stream first would (WHATWG decode is prefix-free at ASCII bytes; invalid or truncated sequences become U+FFFD
 * either way). Field names are compared as bytes and never decoded.
 *
 * @internal
 */
import type { Event } from "../Sse.js"

/** @internal */
export interface Overflow {
  readonly kind: "line" | "event"
  readonly size: number
  readonly limit: number
}

/** @internal */
export interface Options {
  readonly maxBufferSize: number
  readonly dispatchIncompleteAtEnd: boolean
}

/** @internal */
export interface Parser {
  /** Feeds one chunk; returns the events it completed. After an overflow, `overflow` is set and input is ignored. */
  readonly feed: (chunk: Uint8Array) => Array<Event>
  /** Ends the stream; returns the last event when `dispatchIncompleteAtEnd` asks for it. */
  readonly end: () => Array<Event>
  /**
   * Set once a line, or the data of one event, grew past `maxBufferSize` bytes. Both bounds are checked the same
   * way whatever the chunking, so the verdict never depends on how the bytes were split; memory stays below two
   * limits (one pending line plus one pending event).
   */
  readonly overflow: () => Overflow | undefined
  /** The last event ID string of the stream (what a reconnect would send). */
  readonly lastEventId: () => string
  /** The reconnection time set by the last valid `retry` field, if any. */
  readonly reconnectionTime: () => number | undefined
}

import * as Bytes from "./bytes.js"
import * as Utf8 from "./utf8.js"

const LF = 10
const CR = 13
const COLON = 58
const SPACE = 32
const BOM = [0xef, 0xbb, 0xbf] as const

/** @internal */
export const defaultMaxBufferSize = 16 * 1024 * 1024

const EMPTY = new Uint8Array(0)

/**
 * Events are built by this constructor, not an object literal: V8 pretenures an allocation site (allocates its
 * objects straight in old space) once early objects from it survive a minor GC, e.g. a consumer holding thousands
 * of events at startup. A literal's site inside the parser would then stay pretenured for the process's life and
 * every later event would cost a major GC's work (decode fell to a quarter of its speed, GC at ~46 % of CPU).
 */
class ParsedEvent implements Event {
  constructor(
    readonly event: string,
    readonly data: string,
    readonly id: string,
    readonly retry: number | undefined
  ) {}
}

/** The first size of the buffer that joins a line split across chunks; it doubles as needed (bounded by the limit). */
const initialJoinSize = 1024

/** Where a field's value starts: after the colon and one optional space. */
const valueStart = (buf: Uint8Array, colon: number, end: number): number =>
  colon + 1 < end && buf[colon + 1] === SPACE ? colon + 2 : colon + 1

/** True when bytes [start, end) spell the ASCII `name`. */
const nameIs = (buf: Uint8Array, start: number, end: number, name: string): boolean => {
  if (end - start !== name.length) return false
  for (let i = 0; i < name.length; i++) if (buf[start + i] !== name.charCodeAt(i)) return false
  return true
}

/**
 * The parser is a class, its steps prototype methods shared by every instance, not closures made per parser: each
 * new set of closures is a new call target, so optimized code calling `scan`, `onLine` or `onJoinedLine` was thrown
 * away ("wrong call target" deopt) for every parser made, i.e. per request in a gateway, and the JIT warmed up again.
 * All fields are set in the constructor, in one order, so every instance has the same shape.
 */
export class SseParser implements Parser {
  private readonly limit: number
  private readonly dispatchIncompleteAtEnd: boolean

  // Stream state.
  private bomPending = true
  private head: Uint8Array = EMPTY // the first bytes, held until we know whether they start with a BOM
  private skipLf = false // the previous chunk ended with CR: a leading LF completes that CRLF
  // A line split across chunks, copied (the caller may reuse its buffer once feed returns) into one buffer that
  // is reused for every such line: no allocation per split line.
  private join: Uint8Array = EMPTY
  private fragmentBytes = 0
  private lastEventIdBuffer = ""
  private lastId = ""
  private reconnection: number | undefined = undefined
  private overflowed: Overflow | undefined = undefined

  // Block (pending event) state.
  private data = ""
  private hasData = false
  private dataBytes = 0
  private type = ""
  private retry: number | undefined = undefined

  // One output buffer for the parser's life (see ParsedEvent: a fresh array per feed is an allocation site too);
  // drain hands out a copy.
  private readonly out: Array<Event> = []

  constructor(options: Options) {
    this.limit = options.maxBufferSize
    this.dispatchIncompleteAtEnd = options.dispatchIncompleteAtEnd
  }

  feed(chunk: Uint8Array): Array<Event> {
    if (this.overflowed !== undefined) return []
    const bytes = this.bomPending ? this.stripBom(chunk, false) : chunk
    if (bytes !== undefined) this.scan(Utf8.view(bytes))
    return this.drain()
  }

  end(): Array<Event> {
    if (this.overflowed !== undefined) return []
    if (this.bomPending) {
      const bytes = this.stripBom(EMPTY, true)
      if (bytes !== undefined) this.scan(Utf8.view(bytes))
    }
    if (this.dispatchIncompleteAtEnd && this.overflowed === undefined) {
      if (this.fragmentBytes > 0) this.onJoinedLine(EMPTY)
      if (this.overflowed === undefined) this.dispatch()
    }
    this.join = EMPTY
    this.fragmentBytes = 0
    return this.drain()
  }

  overflow(): Overflow | undefined {
    return this.overflowed
  }

  lastEventId(): string {
    return this.lastId
  }

  reconnectionTime(): number | undefined {
    return this.reconnection
  }

  private dispatch(): void {
    this.lastId = this.lastEventIdBuffer
    if (this.hasData) {
      this.out.push(new ParsedEvent(this.type === "" ? "message" : this.type, this.data, this.lastId, this.retry))
    }
    this.data = ""
    this.hasData = false
    this.dataBytes = 0
    this.type = ""
    this.retry = undefined
  }

  private fail(kind: Overflow["kind"], size: number): void {
    this.overflowed = { kind, size, limit: this.limit }
  }

  private onData(buf: Uint8Array, start: number, end: number): void {
    this.dataBytes += (this.hasData ? 1 : 0) + end - start
    if (this.dataBytes > this.limit) return this.fail("event", this.dataBytes)
    const value = start === end ? "" : Utf8.decodeRange(buf, start, end)
    if (this.hasData) {
      this.data = this.data + "\n" + value
    } else {
      this.data = value
      this.hasData = true
    }
  }

  private onRetry(buf: Uint8Array, start: number, end: number): void {
    if (start === end) return
    let n = 0
    for (let i = start; i < end; i++) {
      const d = buf[i]! - 48
      if (d < 0 || d > 9) return
      n = n * 10 + d
    }
    this.retry = n
    this.reconnection = n
  }

  private onId(buf: Uint8Array, start: number, end: number): void {
    for (let i = start; i < end; i++) if (buf[i] === 0) return
    this.lastEventIdBuffer = start === end ? "" : Utf8.decodeRange(buf, start, end)
  }

  private onLine(buf: Uint8Array, start: number, end: number): void {
    if (start === end) return this.dispatch()
    if (end - start > this.limit) return this.fail("line", end - start)
    const b0 = buf[start]
    if (b0 === COLON) return
    // Fast path: "data:" is nearly every line of an LLM stream.
    if (
      b0 === 100 && end - start >= 5 && buf[start + 1] === 97 && buf[start + 2] === 116 &&
      buf[start + 3] === 97 && buf[start + 4] === COLON
    ) {
      return this.onData(buf, valueStart(buf, start + 4, end), end)
    }
    let colon = start
    while (colon < end && buf[colon] !== COLON) colon++
    const vs = colon === end ? end : valueStart(buf, colon, end)
    if (nameIs(buf, start, colon, "data")) this.onData(buf, vs, end)
    else if (nameIs(buf, start, colon, "event")) this.type = vs === end ? "" : Utf8.decodeRange(buf, vs, end)
    else if (nameIs(buf, start, colon, "id")) this.onId(buf, vs, end)
    else if (nameIs(buf, start, colon, "retry")) this.onRetry(buf, vs, end)
  }

  /** Appends `bytes` to the pending fragment; the caller has checked the total against the limit. */
  private appendFragment(bytes: Uint8Array): void {
    const needed = this.fragmentBytes + bytes.length
    if (needed > this.join.length) {
      let size = Math.max(initialJoinSize, this.join.length * 2)
      while (size < needed) size *= 2
      const grown = Utf8.view(new Uint8Array(size))
      grown.set(this.join.subarray(0, this.fragmentBytes))
      this.join = grown
    }
    this.join.set(bytes, this.fragmentBytes)
    this.fragmentBytes = needed
  }

  /** Completes the pending fragment with `last` and parses it as one line. */
  private onJoinedLine(last: Uint8Array): void {
    const total = this.fragmentBytes + last.length
    if (total > this.limit) return this.fail("line", total)
    this.appendFragment(last)
    this.fragmentBytes = 0
    this.onLine(this.join, 0, total)
  }

  /** Lets go of a join buffer grown for an unusually long line. */
  private releaseJoin(): void {
    if (this.join.length > 64 * initialJoinSize) this.join = EMPTY
  }

  /** Removes one leading BOM; returns the bytes to parse, or undefined while too few bytes have arrived to know. */
  private stripBom(chunk: Uint8Array, final: boolean): Uint8Array | undefined {
    const bytes = this.head.length === 0 ? chunk : Bytes.concat([this.head, chunk])
    let i = 0
    while (i < bytes.length && i < 3 && bytes[i] === BOM[i]) i++
    if (i === bytes.length && i < 3 && !final) {
      this.head = bytes
      return undefined
    }
    this.bomPending = false
    this.head = EMPTY
    return i === 3 ? bytes.subarray(3) : bytes
  }

  private scan(chunk: Uint8Array): void {
    const len = chunk.length
    let pos = 0
    if (this.skipLf) {
      this.skipLf = false
      if (len > 0 && chunk[0] === LF) pos = 1
    }
    // Cached next positions of LF and CR: each is searched for at most once per occurrence.
    let nextLf = -2
    let nextCr = -2
    while (pos < len) {
      if (nextLf !== -1 && nextLf < pos) nextLf = chunk.indexOf(LF, pos)
      if (nextCr !== -1 && nextCr < pos) nextCr = chunk.indexOf(CR, pos)
      const eol = nextCr === -1 ? nextLf : nextLf === -1 ? nextCr : nextLf < nextCr ? nextLf : nextCr
      if (eol === -1) break
      if (this.fragmentBytes > 0) {
        this.onJoinedLine(chunk.subarray(pos, eol))
        this.releaseJoin()
      } else {
        this.onLine(chunk, pos, eol)
      }
      if (this.overflowed !== undefined) return
      pos = eol + 1
      if (chunk[eol] === CR) {
        if (pos === len) this.skipLf = true
        else if (chunk[pos] === LF) pos++
      }
    }
    if (pos < len) {
      const size = this.fragmentBytes + len - pos
      if (size > this.limit) return this.fail("line", size)
      this.appendFragment(chunk.subarray(pos))
    }
  }

  private drain(): Array<Event> {
    const events = this.out.slice()
    this.out.length = 0
    return events
  }
}

/**
 * The parser behind a plain object of arrow functions, as before the class: `Parser` declares its members as
 * function properties, so a caller may pass `parser.feed` around detached (`chunks.flatMap(parser.feed)`), which a
 * prototype method would break (`this` undefined). These five closures are thin: they don't deopt the shared
 * methods, and measured the same as returning the instance.
 *
 * @internal
 */
export const make = (options: Options): Parser => {
  const parser = new SseParser(options)
  return {
    feed: (chunk) => parser.feed(chunk),
    end: () => parser.end(),
    overflow: () => parser.overflow(),
    lastEventId: () => parser.lastEventId(),
    reconnectionTime: () => parser.reconnectionTime()
  }
}
