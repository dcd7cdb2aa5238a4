/**
 * For the viewer's browser tests and the docs screenshots: the Chromium this machine has (Debian's `chromium`
 * through `playwright-core`), and one scenario of calls through a real gateway — every API through its official
 * SDK, streamed and not, a failed call, a call refused by the gateway and a call with a caller's `traceparent`
 * (whose replayed copy lands in the caller's trace). No vitest imports: the screenshots script uses it too.
 */
import Anthropic from "@anthropic-ai/sdk"
import { GoogleGenAI } from "@google/genai"
import { Effect } from "effect"
import { execFileSync } from "node:child_process"
import OpenAI from "openai"
import { type Browser, chromium } from "playwright-core"
import type * as Upstreams from "./upstreams.js"

/** The `chromium` on PATH (`command -v chromium`), or undefined. */
export const chromiumPath: string | undefined = (() => {
  try {
    const path = execFileSync("/bin/sh", ["-c", "command -v chromium"], { encoding: "utf8" }).trim()
    return path === "" ? undefined : path
  } catch {
    return undefined
  }
})()

/**
 * Registers `suites` only when Chromium exists; otherwise prints a NOT RUN line (a skipped `describe` would still
 * run its collector).
 */
export const withChromium = (what: string, suites: (executablePath: string) => void): void => {
  if (chromiumPath === undefined) console.warn(`${what}: NOT RUN — chromium not found (command -v chromium)`)
  else suites(chromiumPath)
}

/** A headless Chromium; `--no-sandbox` only as root, where Chromium refuses to start with its sandbox. */
export const launch = (executablePath: string): Promise<Browser> =>
  chromium.launch({
    executablePath,
    headless: true,
    args: process.getuid?.() === 0 ? ["--no-sandbox"] : []
  })

/** The scenario's caller trace: a `traceparent` the client sends, so the gateway replays into this trace. */
export const callerTraceId = "4bf92f3577b34da6a3ce929d0e0e4736"

/** A user message that would run script if any page put it into HTML. */
export const hostileText = `<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script> what is the weather`

/** The endpoints of the scenario: echo providers (one slow enough to show TTFT) and one upstream that fails. */
export const endpoints = (up: Upstreams.Upstream) => [
  { name: "support-bot", provider: { kind: "echo", model: "gpt-4o-mini", delayMs: 15 } },
  { name: "summarizer", provider: { kind: "echo", model: "claude-sonnet-4" } },
  { name: "gemini-flash", provider: { kind: "echo", model: "gemini-2.5-flash" } },
  {
    name: "rate-limited",
    provider: { kind: "openai", model: "gpt-4.1", baseUrl: `${up.url}/replay/rate-limited/v1`, apiKeyEnv: "TEST_UPSTREAM_KEY" }
  }
]

/** The failing upstream's reply, for `Upstreams.start`. */
export const upstreamReplies: Readonly<Record<string, Upstreams.Reply>> = {
  "rate-limited": {
    status: 429,
    contentType: "application/json",
    body: JSON.stringify({ error: { message: "Rate limit reached", type: "rate_limit_error", param: null, code: "rate_limit_exceeded" } })
  }
}

/** What the scenario did, to compare with what the viewer shows. */
export interface Calls {
  readonly byEndpoint: Readonly<Record<string, number>>
  readonly failed: number
}

const settle = (p: Promise<unknown>): Promise<unknown> => p.then(() => undefined, () => undefined)

/** The scenario's calls through the gateway at `url` (sequential, so the list's order is known). */
export const makeCalls = (url: string, key = "client-key") =>
  Effect.promise(async (): Promise<Calls> => {
    const openai = new OpenAI({ apiKey: key, baseURL: `${url}/gateway/openai/v1`, maxRetries: 0 })
    const anthropic = new Anthropic({ apiKey: key, baseURL: `${url}/gateway/anthropic`, maxRetries: 0 })
    const gemini = new GoogleGenAI({ apiKey: key, httpOptions: { baseUrl: `${url}/gateway/gemini` } })
    await openai.chat.completions.stream({
      model: "support-bot",
      messages: [{ role: "system", content: "You are a helpful support agent." }, { role: "user", content: "My order #1042 has not arrived yet, can you check it?" }]
    }).finalChatCompletion()
    await anthropic.messages.create({
      model: "summarizer",
      max_tokens: 200,
      system: "Summarise in one line.",
      messages: [{ role: "user", content: "The meeting moved to Thursday at ten, bring the quarterly figures." }]
    })
    await openai.responses.create({ model: "support-bot", instructions: "Answer briefly.", input: hostileText })
    for await (const _ of await gemini.models.generateContentStream({ model: "gemini-flash", contents: "List three colours of the sea" })) {
      // drained: the stream's trace is complete when it ends
    }
    // A caller with its own trace: the gateway's spans are also replayed into the caller's trace.
    await new OpenAI({ apiKey: key, baseURL: `${url}/gateway/openai/v1`, maxRetries: 0, defaultHeaders: { traceparent: `00-${callerTraceId}-00f067aa0ba902b7-01` } })
      .chat.completions.create({ model: "gemini-flash", messages: [{ role: "user", content: "ping from a traced caller" }] })
    // Failed: the upstream answers 429 (error trace); the gateway refuses an unknown endpoint (404).
    await settle(openai.chat.completions.create({ model: "rate-limited", messages: [{ role: "user", content: "hello" }] }))
    await settle(openai.chat.completions.create({ model: "no-such-endpoint", messages: [{ role: "user", content: "hello" }] }))
    return { byEndpoint: { "support-bot": 2, summarizer: 1, "gemini-flash": 2, "rate-limited": 1 }, failed: 2 }
  })
