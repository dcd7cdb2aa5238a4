/**
 * What `Api.make` builds, for every provider API at once: fold states are plain data (no functions, no ties to
 * anything outside the state), and `aggregate(chunks)` agrees with `Api.aggregateBytes`.
 */
import { describe, expect, it } from "@effect/vitest"
import { FastCheck, Option } from "effect"
import { fileURLToPath } from "node:url"
import * as Fold from "../../src/Fold.js"
import * as AnthropicMessages from "../../src/providers/AnthropicMessages.js"
import * as Api from "../../src/providers/Api.js"
import * as GeminiGenerateContent from "../../src/providers/GeminiGenerateContent.js"
import * as OpenAiChat from "../../src/providers/OpenAiChat.js"
import * as OpenAiCompletions from "../../src/providers/OpenAiCompletions.js"
import * as OpenAiResponses from "../../src/providers/OpenAiResponses.js"
import * as Sse from "../../src/Sse.js"
import { readSseFiles } from "../support/chunking.js"

interface Case {
  readonly folder: string
  readonly api: Api.Api<unknown, unknown>
  readonly aggregate: (chunks: Iterable<Uint8Array>) => Option.Option<unknown>
}

// Each API's own response and state types are forgotten here: the tests only compare values.
const cases: ReadonlyArray<Case> = [
  { folder: "openai-chat", api: OpenAiChat.api as Api.Api<unknown, unknown>, aggregate: OpenAiChat.aggregate },
  { folder: "openai-completions", api: OpenAiCompletions.api as Api.Api<unknown, unknown>, aggregate: OpenAiCompletions.aggregate },
  { folder: "openai-responses", api: OpenAiResponses.api as Api.Api<unknown, unknown>, aggregate: OpenAiResponses.aggregate },
  { folder: "anthropic", api: AnthropicMessages.api as Api.Api<unknown, unknown>, aggregate: AnthropicMessages.aggregate },
  { folder: "gemini", api: GeminiGenerateContent.api as Api.Api<unknown, unknown>, aggregate: GeminiGenerateContent.aggregate }
]

const collect: Fold.Fold<Sse.Event, Array<Sse.Event>, Array<Sse.Event>> = Fold.make({
  initial: (): Array<Sse.Event> => [],
  step: (events, event) => {
    events.push(event)
    return events
  },
  done: Option.some
})

/** A fixture's events, decoded as the folds decode them. */
const eventsOf = (bytes: Uint8Array): ReadonlyArray<Sse.Event> =>
  Option.getOrThrow(Fold.runIterable(Sse.foldBytes(collect, { dispatchIncompleteAtEnd: true }), [bytes]))

const steps = <S>(fold: Fold.Fold<Sse.Event, S, unknown>, state: S, events: ReadonlyArray<Sse.Event>): S => {
  for (const event of events) state = fold.step(state, event)
  return state
}

for (const { aggregate, api, folder } of cases) {
  const fixtures = readSseFiles(fileURLToPath(new URL(`../fixtures/${folder}`, import.meta.url)))
    .map(([name, bytes]) => ({ name, bytes, events: eventsOf(bytes) }))

  describe(`Api.make: ${folder}`, () => {
    it.prop(
      "a state cloned mid-stream (structuredClone: plain data only) folds on to the same result as the original",
      [FastCheck.nat(fixtures.length - 1), FastCheck.double({ min: 0, max: 1, noNaN: true })],
      ([which, at]) => {
        const { events } = fixtures[which]!
        const cut = Math.floor(at * events.length)
        const state = steps(api.fold, api.fold.initial(), events.slice(0, cut))
        const copy = structuredClone(state)
        const whole = api.fold.done(steps(api.fold, api.fold.initial(), events))
        expect(api.fold.done(steps(api.fold, copy, events.slice(cut)))).toEqual(whole)
        expect(api.fold.done(steps(api.fold, state, events.slice(cut)))).toEqual(whole)
      },
      { fastCheck: { numRuns: 200 } }
    )

    it("aggregate(chunks) is the response of Api.aggregateBytes whenever it gives one", () => {
      for (const { bytes, name } of fixtures) {
        const bare = aggregate([bytes])
        const full = Api.aggregateBytes(api, [bytes])
        if (Option.isSome(bare)) {
          expect([name, Option.map(full, (a) => a.response)]).toEqual([name, bare])
        } else if (Option.isSome(full)) {
          // No response for `aggregate`, yet an aggregate: an error-only stream, or (Responses) no terminal event.
          const why = folder === "openai-responses" ? !full.value.complete : Option.isSome(full.value.error)
          expect([name, why]).toEqual([name, true])
        }
      }
    })
  })
}
