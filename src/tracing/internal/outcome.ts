/**
 * How a traced call ended, and how that becomes a span status. Effect's OpenTelemetry bridge sets the status from
 * the `Exit` a span is ended with (an interruption becomes OK with a label), so spans are ended with an exit
 * chosen here: cancellation and provider errors become failures, and `error.type` is always set on errors.
 *
 * @internal
 */
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import type * as Tracer from "effect/Tracer"
import * as Attributes from "../Attributes.js"

/** The client went away, the consumer stopped pulling, or a timeout interrupted the call. @internal */
export class Cancelled extends Data.TaggedError("Cancelled")<{}> {
  override get message(): string {
    return "cancelled: the caller stopped consuming the response (disconnect, early stop or timeout)"
  }
}

/** An error the provider reported inside a successful HTTP response (e.g. Anthropic `event: error`). @internal */
export class ProviderReportedError extends Data.TaggedError("ProviderReportedError")<{
  readonly errorType: string
  readonly reason: string
}> {
  override get message(): string {
    return `${this.errorType}: ${this.reason}`
  }
}

/** @internal */
export type Outcome =
  | { readonly _tag: "Ok" }
  | { readonly _tag: "Cancelled" }
  | { readonly _tag: "Failed"; readonly errorType: string; readonly cause: Cause.Cause<unknown> }

/** @internal */
export const ok: Outcome = { _tag: "Ok" }

/** @internal */
export const cancelled: Outcome = { _tag: "Cancelled" }

/** @internal */
export const failed = (errorType: string, cause: Cause.Cause<unknown>): Outcome => ({ _tag: "Failed", errorType, cause })

/**
 * The `error.type` of a failure: the error's own `errorType` (e.g. an HTTP status code), else its `_tag`, else its
 * class name, else `_OTHER` (the semconv fallback).
 *
 * @internal
 */
export const errorTypeOf = (error: unknown): string => {
  if (typeof error === "object" && error !== null) {
    const own = (error as { readonly errorType?: unknown }).errorType
    if (typeof own === "string" && own !== "") return own
    const tag = (error as { readonly _tag?: unknown })._tag
    if (typeof tag === "string" && tag !== "") return tag
    const name = (error as { readonly name?: unknown }).name
    if (typeof name === "string" && name !== "" && name !== "Error") return name
  }
  return "_OTHER"
}

/** @internal */
export const fromExit = (exit: Exit.Exit<unknown, unknown>): Outcome => {
  if (Exit.isSuccess(exit)) return ok
  // Any interruption is the caller going away, even when the server then failed writing to it.
  if (Cause.isInterrupted(exit.cause)) return cancelled
  const error = Option.getOrUndefined(Cause.failureOption(exit.cause))
  return failed(error === undefined ? "_OTHER" : errorTypeOf(error), exit.cause)
}

/** The exit to end a span with, so that the bridge sets ERROR for every outcome but `Ok`. @internal */
export const toExit = (outcome: Outcome): Exit.Exit<void, unknown> => {
  switch (outcome._tag) {
    case "Ok":
      return Exit.void
    case "Cancelled":
      return Exit.fail(new Cancelled())
    case "Failed":
      return Exit.failCause(outcome.cause)
  }
}

/** Sets `error.type` and ends the span at the clock's now; returns the end time. Never throws. @internal */
export const endSync = (span: Tracer.Span, outcome: Outcome, clock: Clock.Clock): bigint => {
  const now = clock.unsafeCurrentTimeNanos()
  if (outcome._tag === "Cancelled") span.attribute(Attributes.ErrorType, Attributes.ErrorTypeCancelled)
  if (outcome._tag === "Failed") span.attribute(Attributes.ErrorType, outcome.errorType)
  span.end(now, toExit(outcome))
  return now
}

/** Runs a tracing side effect; a failure or defect in it is logged and swallowed, never reaching the user. @internal */
export const guard = <R>(what: string, effect: Effect.Effect<void, unknown, R>): Effect.Effect<void, never, R> =>
  effect.pipe(
    Effect.catchAllCause((cause) =>
      Cause.isInterruptedOnly(cause) ? Effect.void : Effect.logWarning(`effect-llm-trace: ${what} failed`, cause)
    )
  )
