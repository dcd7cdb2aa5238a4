/**
 * Folds: a stream reduced to one result by a pure, synchronous state machine.
 *
 * A `Fold` is data (`initial`, `step`, `done`); `run` folds a whole stream, `tap` folds it on the way through
 * without touching its elements and hands the (possibly partial) result to a finaliser on every exit — which is
 * how spans get their output even when the client disconnects halfway.
 *
 * @since 0.1.0
 */
import * as Cause from "effect/Cause"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as FiberId from "effect/FiberId"
import { dual } from "effect/Function"
import * as Option from "effect/Option"
import * as Sink from "effect/Sink"
import * as Stream from "effect/Stream"
import * as Observe from "./internal/observe.js"

/**
 * `initial()` makes a fresh state per run; `step` may mutate and return it (state never escapes a run);
 * `done` reads the result. State must stay O(output): never a list of the inputs.
 *
 * @since 0.1.0
 * @category models
 */
export interface Fold<in In, in out S, out Out> {
  readonly initial: () => S
  readonly step: (state: S, input: In) => S
  readonly done: (state: S) => Option.Option<Out>
}

/**
 * @since 0.1.0
 * @category constructors
 */
export const make = <In, S, Out>(fold: Fold<In, S, Out>): Fold<In, S, Out> => fold

/**
 * Maps the result of a fold.
 *
 * @since 0.1.0
 * @category combinators
 */
export const map: {
  <Out, Out2>(f: (out: Out) => Out2): <In, S>(self: Fold<In, S, Out>) => Fold<In, S, Out2>
  <In, S, Out, Out2>(self: Fold<In, S, Out>, f: (out: Out) => Out2): Fold<In, S, Out2>
} = dual(2, <In, S, Out, Out2>(self: Fold<In, S, Out>, f: (out: Out) => Out2): Fold<In, S, Out2> => ({
  initial: self.initial,
  step: self.step,
  done: (state) => Option.map(self.done(state), f)
}))

/**
 * Runs a fold over an iterable, synchronously.
 *
 * @since 0.1.0
 * @category running
 */
export const runIterable: {
  <In>(inputs: Iterable<In>): <S, Out>(self: Fold<In, S, Out>) => Option.Option<Out>
  <In, S, Out>(self: Fold<In, S, Out>, inputs: Iterable<In>): Option.Option<Out>
} = dual(2, <In, S, Out>(self: Fold<In, S, Out>, inputs: Iterable<In>): Option.Option<Out> => {
  let state = self.initial()
  for (const input of inputs) state = self.step(state, input)
  return self.done(state)
})

const stepChunk = <In, S>(fold: Fold<In, S, unknown>, state: S, chunk: Iterable<In>): S => {
  for (const input of chunk) state = fold.step(state, input)
  return state
}

/**
 * Runs a fold over a stream, one synchronous loop per chunk (no Effect per element).
 *
 * @since 0.1.0
 * @category running
 */
export const run: {
  <In, S, Out>(fold: Fold<In, S, Out>): <E, R>(self: Stream.Stream<In, E, R>) => Effect.Effect<Option.Option<Out>, E, R>
  <In, E, R, S, Out>(self: Stream.Stream<In, E, R>, fold: Fold<In, S, Out>): Effect.Effect<Option.Option<Out>, E, R>
} = dual(
  2,
  <In, E, R, S, Out>(self: Stream.Stream<In, E, R>, fold: Fold<In, S, Out>): Effect.Effect<Option.Option<Out>, E, R> =>
    Effect.suspend(() =>
      Stream.run(self, Sink.foldLeftChunks(fold.initial(), (state: S, chunk) => stepChunk(fold, state, chunk)))
    ).pipe(Effect.map(fold.done))
)

/**
 * The fold itself threw (a bug in a fold, never bad input: provider folds skip and count bad events). Folding
 * stopped at that element; the stream went on unaffected.
 *
 * @since 0.1.0
 * @category errors
 */
export class FoldError extends Data.TaggedError("FoldError")<{ readonly cause: unknown }> {
  override get message(): string {
    return `fold failed: ${this.cause instanceof Error ? this.cause.message : String(this.cause)}`
  }
}

/**
 * What {@link tap} hands its finaliser.
 *
 * @since 0.1.0
 * @category models
 */
export interface Completion<Out, E> {
  /** The fold over every element that went through; partial when the stream did not complete. */
  readonly result: Option.Option<Out>
  /**
   * Success only when the upstream completed. Failure with its cause. Interruption when the fiber was interrupted
   * or the consumer stopped pulling early (`take`, a closed client): Effect reports that as success, `tap` does not.
   */
  readonly exit: Exit.Exit<void, E>
  /** Set when the fold threw; `result` then covers the elements before that. */
  readonly error: Option.Option<FoldError>
}

/**
 * Folds a stream on the way through: elements are re-emitted unchanged (same chunks), the fold runs per chunk, and
 * `onDone` receives the result and the exit when the stream ends — on success, failure and interruption. A fold
 * that throws never affects the stream: see {@link Completion}.
 *
 * @since 0.1.0
 * @category combinators
 */
export const tap: {
  <In, S, Out, E, R2>(
    fold: Fold<In, S, Out>,
    onDone: (completion: Completion<Out, E>) => Effect.Effect<void, never, R2>
  ): <R>(self: Stream.Stream<In, E, R>) => Stream.Stream<In, E, R | R2>
  <In, E, R, S, Out, R2>(
    self: Stream.Stream<In, E, R>,
    fold: Fold<In, S, Out>,
    onDone: (completion: Completion<Out, E>) => Effect.Effect<void, never, R2>
  ): Stream.Stream<In, E, R | R2>
} = dual(3, <In, E, R, S, Out, R2>(
  self: Stream.Stream<In, E, R>,
  fold: Fold<In, S, Out>,
  onDone: (completion: Completion<Out, E>) => Effect.Effect<void, never, R2>
): Stream.Stream<In, E, R | R2> =>
  Stream.suspend(() => {
    const runner = makeRunner(fold)
    let completed = false
    const observed = Observe.observe(self, () => ({
      chunk: runner.feed,
      end: () => {
        completed = true
      }
    }))
    return Stream.ensuringWith(observed, (exit) =>
      Effect.fiberIdWith((fiberId) =>
        onDone({ result: runner.result(), exit: normaliseExit(exit, completed, fiberId), error: runner.error() })
      ))
  }))

/** One run of a fold that never throws: the first exception stops folding and is kept as a `FoldError`. */
const makeRunner = <In, S, Out>(fold: Fold<In, S, Out>) => {
  let error: Option.Option<FoldError> = Option.none()
  let state: S | undefined
  const attempt = <A>(f: () => A): A | undefined => {
    try {
      return f()
    } catch (cause) {
      error = Option.some(new FoldError({ cause }))
      return undefined
    }
  }
  state = attempt(fold.initial)
  return {
    feed: (chunk: Iterable<In>): void => {
      if (Option.isSome(error)) return
      try {
        for (const input of chunk) state = fold.step(state!, input)
      } catch (cause) {
        error = Option.some(new FoldError({ cause }))
      }
    },
    result: (): Option.Option<Out> =>
      state === undefined ? Option.none() : attempt(() => fold.done(state!)) ?? Option.none(),
    error: () => error
  }
}

const normaliseExit = <E>(exit: Exit.Exit<unknown, E>, completed: boolean, fiberId: FiberId.FiberId) =>
  Exit.isFailure(exit)
    ? Exit.failCause(exit.cause)
    : completed
    ? Exit.void
    : Exit.failCause(Cause.interrupt(fiberId))
