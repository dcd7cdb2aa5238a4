import { assert, describe, expect, it } from "@effect/vitest"
import { Chunk, Effect, Exit, Fiber, Option, Ref, Stream } from "effect"
import * as Fold from "../src/Fold.js"

const sum = Fold.make<number, { total: number }, number>({
  initial: () => ({ total: 0 }),
  step: (s, n) => {
    s.total += n
    return s
  },
  done: (s) => Option.some(s.total)
})

type Seen = { readonly result: Option.Option<number>; readonly exit: Exit.Exit<void, unknown>; readonly error: boolean }

const recorder = Effect.gen(function*() {
  const seen = yield* Ref.make<ReadonlyArray<Seen>>([])
  const onDone = (c: Fold.Completion<number, unknown>) =>
    Ref.update(seen, (xs) => [...xs, { result: c.result, exit: c.exit, error: Option.isSome(c.error) }])
  return { seen, onDone }
})

describe("Fold", () => {
  it("runIterable and map", () => {
    expect(Fold.runIterable(sum, [1, 2, 3])).toEqual(Option.some(6))
    expect(Fold.runIterable(Fold.map(sum, (n) => n * 10), [1, 2])).toEqual(Option.some(30))
  })

  it.effect("run folds a stream per chunk, with a fresh state per run", () =>
    Effect.gen(function*() {
      const stream = Stream.range(1, 100).pipe(Stream.rechunk(7))
      expect(yield* Fold.run(stream, sum)).toEqual(Option.some(5050))
      expect(yield* Fold.run(stream, sum)).toEqual(Option.some(5050))
    }))

  it.effect("tap re-emits the same chunks and reports success with the full result", () =>
    Effect.gen(function*() {
      const { seen, onDone } = yield* recorder
      const out = yield* Stream.range(1, 10).pipe(Stream.rechunk(3), Fold.tap(sum, onDone), Stream.chunks, Stream.runCollect)
      expect(Chunk.toArray(out).map(Chunk.toArray)).toEqual([[1, 2, 3], [4, 5, 6], [7, 8, 9], [10]])
      const [c] = yield* Ref.get(seen)
      expect(c?.result).toEqual(Option.some(55))
      expect(c !== undefined && Exit.isSuccess(c.exit)).toBe(true)
    }))

  it.effect("tap reports a failure with its cause and the partial result", () =>
    Effect.gen(function*() {
      const { seen, onDone } = yield* recorder
      const failing = Stream.concat(Stream.make(1, 2), Stream.fail("boom"))
      const exit = yield* failing.pipe(Fold.tap(sum, onDone), Stream.runDrain, Effect.exit)
      expect(Exit.isFailure(exit)).toBe(true)
      const [c] = yield* Ref.get(seen)
      expect(c?.result).toEqual(Option.some(3))
      assert(c !== undefined && Exit.isFailure(c.exit))
      expect(Exit.isInterrupted(c.exit)).toBe(false)
    }))

  it.effect("a consumer that stops early is reported as an interruption, not a success", () =>
    Effect.gen(function*() {
      const { seen, onDone } = yield* recorder
      yield* Stream.iterate(1, (n) => n + 1).pipe(Fold.tap(sum, onDone), Stream.take(4), Stream.runDrain)
      const [c] = yield* Ref.get(seen)
      assert(c !== undefined)
      expect(Exit.isInterrupted(c.exit)).toBe(true)
      expect(Option.getOrThrow(c.result)).toBeGreaterThanOrEqual(10)
    }))

  it.live("an interrupted consumer fiber is reported as an interruption with the partial result", () =>
    Effect.gen(function*() {
      const { seen, onDone } = yield* recorder
      const fiber = yield* Stream.concat(Stream.make(5, 6), Stream.never).pipe(
        Fold.tap(sum, onDone),
        Stream.runDrain,
        Effect.fork
      )
      yield* Effect.sleep("10 millis")
      yield* Fiber.interrupt(fiber)
      const [c] = yield* Ref.get(seen)
      assert(c !== undefined)
      expect(Exit.isInterrupted(c.exit)).toBe(true)
      expect(c.result).toEqual(Option.some(11))
    }))

  it.effect("a fold that throws never affects the stream; the error is reported", () =>
    Effect.gen(function*() {
      const { seen, onDone } = yield* recorder
      const throwing = Fold.make<number, { total: number }, number>({
        ...sum,
        step: (s, n) => {
          if (n === 3) throw new Error("bad element")
          s.total += n
          return s
        }
      })
      const out = yield* Stream.range(1, 5).pipe(Fold.tap(throwing, onDone), Stream.runCollect)
      expect(Chunk.toArray(out)).toEqual([1, 2, 3, 4, 5])
      const [c] = yield* Ref.get(seen)
      expect(c?.error).toBe(true)
      expect(c?.result).toEqual(Option.some(3))
      expect(c !== undefined && Exit.isSuccess(c.exit)).toBe(true)
    }))
})
