/**
 * Synchronous finalisers on the current scope, for the per-request hot path.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import type * as Exit from "effect/Exit"
import * as Scope from "effect/Scope"

/**
 * Adds `f` to the current scope, to run with the scope's exit. Unlike `Effect.addFinalizer`, which diffs and
 * patches the fiber's FiberRefs twice per finaliser so that the finaliser sees the acquiring fiber's refs (a
 * measurable share of a gateway request's CPU), this reads no FiberRef: `f` must not need any.
 *
 * @internal
 */
export const addSync = (f: (exit: Exit.Exit<unknown, unknown>) => void): Effect.Effect<void, never, Scope.Scope> =>
  Effect.flatMap(Effect.scope, (scope) => Scope.addFinalizerExit(scope, (exit) => Effect.sync(() => f(exit))))

/**
 * `Effect.acquireRelease` with a synchronous release registered by {@link addSync}.
 *
 * @internal
 */
export const acquireReleaseSync = <A, E, R>(
  acquire: Effect.Effect<A, E, R>,
  release: (a: A) => void
): Effect.Effect<A, E, R | Scope.Scope> =>
  Effect.uninterruptible(Effect.tap(acquire, (a) => addSync(() => release(a))))
