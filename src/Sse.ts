/**
 * Server-sent events: the WHATWG `text/event-stream` rules, exact for any split of the bytes into chunks.
 *
 * `bytes.pipe(Sse.decode())` turns an HTTP body into events. The work is done per chunk by a pure byte-level
 * state machine ({@link makeParser}); the Stream layer only moves arrays of events, never one Effect per event.
 *
 * @since 0.1.0
 */
import type * as Cause from "effect/Cause"
import * as Channel from "effect/Channel"
import * as Chunk from "effect/Chunk"
import * as Data from "effect/Data"
import { dual } from "effect/Function"
import * as Predicate from "effect/Predicate"
import * as Stream from "effect/Stream"
import type * as Fold from "./Fold.js"
import * as internal from "./internal/sseParser.js"

/**
 * One dispatched event. `event` is `"message"` when the block set no type; `id` is the last event ID in force
 * (`""` when none; it persists across events); `retry` is the last valid `retry` of the event's own block.
 *
 * @since 0.1.0
 * @category models
 */
export interface Event {
  readonly event: string
  readonly data: string
  readonly id: string
  readonly retry: number | undefined
}

/**
 * A line, or the data of one event, grew past `maxBufferSize` bytes: the stream fails instead of buffering
 * without bound. The events before the oversized one were already emitted.
 *
 * @since 0.1.0
 * @category errors
 */
export class SseError extends Data.TaggedError("SseError")<{
  readonly reason: "LineTooLong" | "EventTooLarge"
  readonly size: number
  readonly limit: number
}> {
  override get message(): string {
    const what = this.reason === "LineTooLong" ? "line" : "event data"
    return `SSE ${what} of at least ${this.size} bytes exceeds maxBufferSize of ${this.limit} bytes`
  }
}

/**
 * @since 0.1.0
 * @category models
 */
export interface DecodeOptions {
  /** Bound on one pending line and on one pending event's data, in bytes. Default 16 MiB. */
  readonly maxBufferSize?: number | undefined
  /**
   * Dispatch an unterminated last event at end of stream. The spec (default `false`) discards it; provider
   * folds use `true` because proxies drop the final blank line and the last event carries the usage.
   */
  readonly dispatchIncompleteAtEnd?: boolean | undefined
}

/**
 * The pure, synchronous parser behind {@link decode}: `feed` bytes, get the events they complete.
 *
 * @since 0.1.0
 * @category models
 */
export interface Parser extends internal.Parser {}

/**
 * Creates a pure parser (no Effect inside): for synchronous folds, benchmarks and custom adapters.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeParser = (options?: DecodeOptions): Parser =>
  internal.make({
    maxBufferSize: options?.maxBufferSize ?? internal.defaultMaxBufferSize,
    dispatchIncompleteAtEnd: options?.dispatchIncompleteAtEnd ?? false
  })

const overflowError = (overflow: internal.Overflow): SseError =>
  new SseError({
    reason: overflow.kind === "line" ? "LineTooLong" : "EventTooLarge",
    size: overflow.size,
    limit: overflow.limit
  })

const emit = <E>(
  events: Array<Event>,
  next: Channel.Channel<Chunk.Chunk<Event>, Chunk.Chunk<Uint8Array>, SseError | E, E, unknown, unknown>
) => events.length === 0 ? next : Channel.zipRight(Channel.write(Chunk.unsafeFromArray(events)), next)

/**
 * The decoder as a `Channel` from byte chunks to event chunks, one parser per run.
 *
 * @since 0.1.0
 * @category constructors
 */
export const channel = <E = never>(
  options?: DecodeOptions
): Channel.Channel<Chunk.Chunk<Event>, Chunk.Chunk<Uint8Array>, SseError | E, E, unknown, unknown> =>
  Channel.suspend(() => {
    const parser = makeParser(options)
    // One output chunk per byte array, even when a stream chunk holds many of them (`Stream.fromIterable` puts
    // thousands in one): the events in flight stay bounded by what one byte array completes.
    const feed = (input: Chunk.Chunk<Uint8Array>, index: number): Channel.Channel<
      Chunk.Chunk<Event>,
      Chunk.Chunk<Uint8Array>,
      SseError | E,
      E,
      unknown,
      unknown
    > => {
      if (index === input.length) return loop
      const events = parser.feed(Chunk.unsafeGet(input, index))
      const overflow = parser.overflow()
      if (overflow !== undefined) return emit<E>(events, Channel.fail(overflowError(overflow)))
      return index + 1 === input.length ? emit<E>(events, loop) : emit<E>(events, Channel.suspend(() => feed(input, index + 1)))
    }
    const loop: Channel.Channel<Chunk.Chunk<Event>, Chunk.Chunk<Uint8Array>, SseError | E, E, unknown, unknown> =
      Channel.readWithCause({
        onInput: (input: Chunk.Chunk<Uint8Array>) => feed(input, 0),
        onFailure: (cause: Cause.Cause<E>) => Channel.failCause(cause),
        onDone: () => emit<E>(parser.end(), Channel.void)
      })
    return loop
  })

/**
 * Decodes a byte stream into server-sent events: UTF-8 (one BOM stripped, invalid bytes → U+FFFD), lines ending
 * in CR, LF or CRLF (also when split across chunks), fields per the WHATWG rules.
 *
 * @example
 * ```ts
 * import { Stream } from "effect"
 * import { Sse } from "effect-llm-trace"
 *
 * const events = Stream.make(new TextEncoder().encode("data: hi\n\n")).pipe(Sse.decode())
 * ```
 *
 * @since 0.1.0
 * @category combinators
 */
export const decode: {
  (options?: DecodeOptions): <E, R>(self: Stream.Stream<Uint8Array, E, R>) => Stream.Stream<Event, E | SseError, R>
  <E, R>(self: Stream.Stream<Uint8Array, E, R>, options?: DecodeOptions): Stream.Stream<Event, E | SseError, R>
} = dual(
  (args) => Predicate.hasProperty(args[0], Stream.StreamTypeId),
  <E, R>(self: Stream.Stream<Uint8Array, E, R>, options?: DecodeOptions): Stream.Stream<Event, E | SseError, R> =>
    Stream.pipeThroughChannel(self, channel<E>(options))
)

const lineBreak = /\r\n|\r|\n/

/**
 * The wire form of one event, ending with the blank line that dispatches it. `data` containing line breaks becomes
 * several `data:` lines; the `event` line is left out for `"message"`, the `id` line for `""`.
 *
 * Stateless: an event whose `id` is `""` writes no `id` line, so after an event with an id it would inherit that
 * id on the wire. A producer that resets ids writes `id:` itself.
 *
 * @since 0.1.0
 * @category encoding
 */
export const encode = (event: Event): string => {
  let out = event.event === "message" ? "" : `event: ${event.event}\n`
  if (event.id !== "") out += `id: ${event.id}\n`
  if (event.retry !== undefined) out += `retry: ${event.retry}\n`
  for (const line of event.data.split(lineBreak)) out += `data: ${line}\n`
  return out + "\n"
}

/**
 * The state of {@link foldBytes}: the parser and the inner fold's state.
 *
 * @since 0.1.0
 * @category models
 */
export interface FoldBytesState<S> {
  readonly parser: Parser
  inner: S
}

/**
 * Lifts a fold over events to a fold over raw body chunks, decoding inside the fold: how a gateway folds the
 * bytes it forwards untouched. Bytes after an overflow (see {@link SseError}) are ignored.
 *
 * @since 0.1.0
 * @category folding
 */
export const foldBytes = <S, Out>(
  fold: Fold.Fold<Event, S, Out>,
  options?: DecodeOptions
): Fold.Fold<Uint8Array, FoldBytesState<S>, Out> => ({
  initial: () => ({ parser: makeParser(options), inner: fold.initial() }),
  step: (state, bytes) => {
    for (const event of state.parser.feed(bytes)) state.inner = fold.step(state.inner, event)
    return state
  },
  done: (state) => {
    for (const event of state.parser.end()) state.inner = fold.step(state.inner, event)
    return fold.done(state.inner)
  }
})
