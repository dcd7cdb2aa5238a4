/**
 * The SQLite file trace store.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import type * as TraceStore from "../TraceStore.js"

/** @internal */
export interface Options extends TraceStore.Options {
  readonly path: string
}

/** @internal */
export const make = (_options: Options): Effect.Effect<TraceStore.TraceStore["Type"], TraceStore.TraceStoreError, Scope.Scope> =>
  Effect.dieMessage("not yet")
