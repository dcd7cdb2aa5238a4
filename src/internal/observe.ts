/**
 * Watching a Stream pass by: every chunk is handed to `chunk` (unchanged, same chunks) as it is emitted, and
 * `end` is called when the upstream completed. When `end` is not called the stream failed (its exit says how) or
 * was stopped from downstream (an interruption, `take`, a closed client — which Effect reports as success): the
 * observer's owner tells these apart in its finaliser. The chunk hook runs inside the emitting map, so what it
 * sees is exactly what the consumer received, whenever the consumer stops. No Effect per element: the stream
 * completion idiom of `Fold.tap` and the provider spans.
 *
 * @internal
 */
import type * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"

/** @internal */
export interface Observer<A> {
  readonly chunk: (chunk: Chunk.Chunk<A>) => void
  readonly end: () => void
}

/** `make` runs once per run of the stream. @internal */
export const observe = <A, E, R>(self: Stream.Stream<A, E, R>, make: () => Observer<A>): Stream.Stream<A, E, R> =>
  Stream.suspend(() => {
    const observer = make()
    return self.pipe(
      Stream.mapChunks((chunk) => {
        observer.chunk(chunk)
        return chunk
      }),
      Stream.onEnd(Effect.sync(observer.end))
    )
  })
