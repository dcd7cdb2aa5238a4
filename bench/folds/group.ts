/**
 * What each fold bench module defines: per API, the stream's size, its contenders and the check that they agree.
 * A contender's name starts with its API's key in `groups` (`openai-chat: …`).
 */
import type { Variant } from "../support.js"
import * as AnthropicGemini from "./anthropic-gemini.js"
import * as OpenAi from "./openai.js"

export interface Group {
  readonly bytes: number
  /** Throws when our aggregate and the SDK's differ on this stream (the bench is then void). */
  readonly check: () => Promise<void>
  readonly variants: ReadonlyArray<Variant>
}

/** Every API's group, built on demand (its stream is generated then). */
export const groups: Record<string, (mib: number) => Group> = { ...OpenAi.groups, ...AnthropicGemini.groups }

/** The API key of a contender's name. */
export const apiOf = (name: string): string => name.split(":", 1)[0]!
