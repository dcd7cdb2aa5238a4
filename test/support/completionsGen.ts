/**
 * A generator of OpenAI legacy Completions streams: `n` choices whose text arrives in pieces, interleaved as the
 * API interleaves them (`n` > 1, `best_of`), with optional logprobs, `include_usage` (`"usage":null` on every
 * chunk, then a `choices: []` usage chunk) and `system_fingerprint`; and the `text_completion` the same request
 * returns without streaming, which the fold must rebuild.
 */
import { FastCheck } from "effect"

export interface ChoiceSpec {
  readonly pieces: ReadonlyArray<string>
  readonly finishReason: "stop" | "length"
  readonly logprobs: boolean
}

export interface Spec {
  readonly choices: ReadonlyArray<ChoiceSpec>
  readonly includeUsage: boolean
  readonly fingerprint: string | undefined
  /** Order in which the choices' pieces are sent: indices into `choices`, each used as often as it has pieces. */
  readonly order: ReadonlyArray<number>
}

const top = { id: "cmpl-gen", created: 1700000000, model: "gpt-3.5-turbo-instruct" }

const tokenLogprobs = (piece: string, offset: number) => ({
  tokens: [piece],
  token_logprobs: [-0.5],
  top_logprobs: [{ [piece]: -0.5 }],
  text_offset: [offset]
})

const usage = (spec: Spec) => {
  const completion = spec.choices.reduce((n, c) => n + c.pieces.length, 0)
  return { prompt_tokens: 5, completion_tokens: completion, total_tokens: 5 + completion }
}

/** The chunks of the stream, as JSON values. */
export const chunks = (spec: Spec): Array<Record<string, unknown>> => {
  const extra = (withUsage: boolean) => ({
    ...(spec.fingerprint === undefined ? {} : { system_fingerprint: spec.fingerprint }),
    ...(withUsage && spec.includeUsage ? { usage: null } : {})
  })
  const sent = spec.choices.map(() => 0)
  const offsets = spec.choices.map(() => 0)
  const out: Array<Record<string, unknown>> = []
  for (const index of spec.order) {
    const choice = spec.choices[index]!
    const piece = choice.pieces[sent[index]!]!
    sent[index]!++
    const last = sent[index] === choice.pieces.length
    out.push({
      ...top,
      object: "text_completion",
      choices: [{
        text: piece,
        index,
        logprobs: choice.logprobs ? tokenLogprobs(piece, offsets[index]!) : null,
        finish_reason: last ? choice.finishReason : null
      }],
      ...extra(true)
    })
    offsets[index]! += piece.length
  }
  if (spec.includeUsage) out.push({ ...top, object: "text_completion", choices: [], ...extra(false), usage: usage(spec) })
  return out
}

/** The SSE bytes of the stream (with `[DONE]`). */
export const sse = (spec: Spec): string => chunks(spec).map((c) => `data: ${JSON.stringify(c)}\n\n`).join("") + "data: [DONE]\n\n"

/** The `text_completion` the fold must give. */
export const expected = (spec: Spec): Record<string, unknown> => ({
  ...top,
  object: "text_completion",
  ...(spec.fingerprint === undefined ? {} : { system_fingerprint: spec.fingerprint }),
  ...(spec.includeUsage ? { usage: usage(spec) } : {}),
  choices: spec.choices.map((choice, index) => {
    let offset = 0
    const lists = { tokens: [] as Array<string>, token_logprobs: [] as Array<number>, top_logprobs: [] as Array<unknown>, text_offset: [] as Array<number> }
    for (const piece of choice.pieces) {
      const lp = tokenLogprobs(piece, offset)
      lists.tokens.push(...lp.tokens)
      lists.token_logprobs.push(...lp.token_logprobs)
      lists.top_logprobs.push(...lp.top_logprobs)
      lists.text_offset.push(...lp.text_offset)
      offset += piece.length
    }
    return { index, text: choice.pieces.join(""), logprobs: choice.logprobs ? lists : null, finish_reason: choice.finishReason }
  })
})

const piece = FastCheck.string({ unit: "grapheme", minLength: 1, maxLength: 6 })

const choiceArb: FastCheck.Arbitrary<ChoiceSpec> = FastCheck.record({
  pieces: FastCheck.array(piece, { minLength: 1, maxLength: 6 }),
  finishReason: FastCheck.constantFrom("stop" as const, "length" as const),
  logprobs: FastCheck.boolean()
})

/** Specs with 1–3 choices, sent in a random interleaving. */
export const specArb: FastCheck.Arbitrary<Spec> = FastCheck.record({
  choices: FastCheck.array(choiceArb, { minLength: 1, maxLength: 3 }),
  includeUsage: FastCheck.boolean(),
  fingerprint: FastCheck.option(FastCheck.constant("fp_gen"), { nil: undefined }),
  seed: FastCheck.integer()
}).map(({ choices, fingerprint, includeUsage, seed }) => {
  // Each choice's pieces in order; choices interleaved by a seeded shuffle of the slots.
  const slots = choices.flatMap((c, i) => c.pieces.map(() => i))
  let s = seed | 0
  for (let i = slots.length - 1; i > 0; i--) {
    s = (Math.imul(s, 1103515245) + 12345) | 0
    const j = (s >>> 0) % (i + 1)
    ;[slots[i], slots[j]] = [slots[j]!, slots[i]!]
  }
  return { choices, includeUsage, fingerprint, order: slots }
})
