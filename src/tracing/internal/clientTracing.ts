/**
 * What client tracing shares between its two fronts (the `HttpClient` wrapper and the `fetch`): which requests
 * are provider calls (one table, derived from the dialect registry, plus the user's matchers), what a request
 * tells about the call (model, stream flag, payload, credentials to mask), and the call itself: a provider span
 * started in a scope of its own, closed exactly once when the response body ends, fails or is abandoned.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as FiberId from "effect/FiberId"
import * as Scope from "effect/Scope"
import * as Dialect from "../../gateway/Dialect.js"
import type * as ClientTracing from "../ClientTracing.js"
import type * as ProviderCall from "./providerCall.js"
import * as ProviderSpan from "../ProviderSpan.js"

// Recognition -----------------------------------------------------------------------------------------------------

/** A recognised provider call: its dialect, and the provider name its span reports. @internal */
export interface Recognised {
  readonly dialect: Dialect.Dialect
  readonly provider: string
  /** From the URL, for APIs that carry them there (Gemini: `models/<model>:<method>`). */
  readonly model?: string | undefined
  readonly stream?: boolean | undefined
}

/**
 * The path end a client calls each HTTP dialect at, on any host. OpenAI-compatible servers mount the API under any
 * prefix (Azure: `/openai/deployments/<d>/chat/completions`), so only the upstream path is matched; Anthropic's
 * keeps the provider's version segment (`/v1/messages`), since a bare `/messages` is also OpenAI's threads API.
 */
const pathEnd = (dialect: Dialect.Dialect): string => {
  const path = dialect.upstreamPath("", false)
  return dialect.kind === "anthropic" ? `${new URL(Dialect.providers.anthropic.baseUrl).pathname}${path}` : path
}

/** Suffix rules, longest first (`/chat/completions` before `/completions`). */
const suffixRules: ReadonlyArray<{ readonly suffix: string; readonly dialect: Dialect.Dialect }> = Dialect.all
  .filter((dialect) => dialect.geminiMethod === undefined)
  .map((dialect) => ({ suffix: pathEnd(dialect), dialect }))
  .sort((a, b) => b.suffix.length - a.suffix.length)

/** `…/models/<model>:<method>`: the model and the URL method, or undefined. */
const geminiTail = (pathname: string): { readonly model: string; readonly method: string } | undefined => {
  const slash = pathname.lastIndexOf("/")
  const segment = pathname.slice(slash + 1)
  const colon = segment.lastIndexOf(":")
  if (colon <= 0) return undefined
  try {
    return { model: decodeURIComponent(segment.slice(0, colon)), method: segment.slice(colon + 1) }
  } catch {
    return undefined
  }
}

/** The built-in table: POST to a known path end, on any host. @internal */
export const recogniseBuiltIn = (method: string, url: URL): Recognised | undefined => {
  if (method.toUpperCase() !== "POST") return undefined
  const pathname = url.pathname.endsWith("/") ? url.pathname.slice(0, -1) : url.pathname
  const tail = geminiTail(pathname)
  if (tail !== undefined) {
    const found = Dialect.byGeminiMethod(tail.method)
    return found === undefined
      ? undefined
      : { dialect: found.dialect, provider: found.dialect.kind, model: tail.model, stream: found.stream }
  }
  for (const rule of suffixRules) {
    if (pathname.endsWith(rule.suffix)) return { dialect: rule.dialect, provider: rule.dialect.kind }
  }
  return undefined
}

/** The user's matchers first, then the built-in table. @internal */
export const makeRecogniser = (matchers: ReadonlyArray<ClientTracing.Matcher> | undefined) => {
  if (matchers === undefined || matchers.length === 0) return recogniseBuiltIn
  return (method: string, url: URL): Recognised | undefined => {
    for (const matcher of matchers) {
      if (!matcher.test(method, url)) continue
      const dialect = Dialect.dialects[matcher.dialect]
      const builtIn = recogniseBuiltIn(method, url)
      // A Gemini-shaped URL still names its model and streaming method.
      const fromUrl = builtIn?.dialect === dialect ? builtIn : undefined
      return { dialect, provider: matcher.provider ?? dialect.kind, model: fromUrl?.model, stream: fromUrl?.stream }
    }
    return recogniseBuiltIn(method, url)
  }
}

// The switch ------------------------------------------------------------------------------------------------------

/** `EFFECT_LLM_TRACE_DISABLED` set to `1`, `true`, `yes` or `on` (any case) turns client tracing off. @internal */
export const disabledByEnv = (value: string | undefined): boolean =>
  value !== undefined && ["1", "true", "yes", "on"].includes(value.trim().toLowerCase())

/** @internal */
export const isEnabled = (options: ClientTracing.Options | undefined, env: string | undefined): boolean =>
  options?.enabled !== false && !disabledByEnv(env)

// Request facts ---------------------------------------------------------------------------------------------------

/** What the request tells about the call. @internal */
export interface Facts {
  readonly model: string | undefined
  readonly stream: boolean
  /** The parsed JSON body, recorded as the span's inputs; undefined when the body was not JSON. */
  readonly payload: unknown
  readonly server: { readonly address: string; readonly port?: number | undefined }
  readonly secrets: ReadonlyArray<string>
}

const utf8 = new TextDecoder()

const parseBody = (body: string | Uint8Array | undefined): unknown => {
  if (body === undefined) return undefined
  try {
    return JSON.parse(typeof body === "string" ? body : utf8.decode(body))
  } catch {
    return undefined
  }
}

/** Headers whose value is a credential, read to mask it (an upstream error body may echo it). */
const credentialHeaders = ["authorization", "proxy-authorization", "x-api-key", "api-key", "x-goog-api-key"]

const secretsOf = (header: (name: string) => string | undefined, url: URL): Array<string> => {
  const secrets: Array<string> = []
  for (const name of credentialHeaders) {
    const value = header(name)
    if (value === undefined || value === "") continue
    secrets.push(value)
    const space = value.indexOf(" ")
    // `Bearer <token>`: the token alone is what an error message quotes.
    if (space > 0) secrets.push(value.slice(space + 1).trim())
  }
  const key = url.searchParams.get("key")
  if (key !== null && key !== "") secrets.push(key)
  return secrets
}

/** The facts of one recognised request. Never throws. @internal */
export const factsOf = (
  recognised: Recognised,
  url: URL,
  body: string | Uint8Array | undefined,
  header: (name: string) => string | undefined
): Facts => {
  const payload = parseBody(body)
  const fields = typeof payload === "object" && payload !== null ? payload as Record<string, unknown> : {}
  const model = recognised.model ?? (typeof fields["model"] === "string" ? fields["model"] : undefined)
  const port = url.port === "" ? undefined : Number(url.port)
  return {
    model,
    stream: recognised.stream ?? fields["stream"] === true,
    payload,
    server: { address: url.hostname, ...(port === undefined ? {} : { port }) },
    secrets: secretsOf(header, url)
  }
}

// The call --------------------------------------------------------------------------------------------------------

/** One traced call: the provider call, and how it ends (once; later calls do nothing). @internal */
export interface Traced {
  readonly call: ProviderCall.ProviderCall<unknown>
  /** Ends the span with how the call ended. Synchronous, never throws. */
  readonly close: (exit: Exit.Exit<unknown, unknown>) => void
}

/**
 * Starts the provider span in a scope of its own (a child of the current span); `close` closes that scope, whose
 * finaliser — the one every provider span has — ends the span. A Scope closes once: `close` is idempotent.
 *
 * @internal
 */
export const begin = (
  recognised: Recognised,
  facts: Facts,
  options: ClientTracing.Options | undefined
): Effect.Effect<Traced> =>
  Effect.gen(function*() {
    const scope = yield* Scope.make()
    const call = yield* recognised.dialect.use((api) =>
      ProviderSpan.startCall({
        api,
        provider: recognised.provider,
        model: facts.model,
        stream: facts.stream,
        payload: facts.payload,
        server: facts.server,
        secrets: facts.secrets,
        captureContent: options?.captureContent,
        maxChunkEvents: options?.maxChunkEvents,
        maxPayloadBytes: options?.maxPayloadBytes
      }) as Effect.Effect<ProviderCall.ProviderCall<unknown>, never, Scope.Scope>
    ).pipe(Scope.extend(scope))
    const close = (exit: Exit.Exit<unknown, unknown>): void => {
      try {
        Effect.runSync(Scope.close(scope, exit))
      } catch {
        // A tracing failure never reaches the caller.
      }
    }
    return { call, close }
  })

/**
 * How a body that stopped being read without an error ended: when the provider's terminal event had already
 * arrived (a consumer stopping right after `response.completed`, as `@effect/ai` does), the call is complete;
 * otherwise it was cancelled. @internal
 */
export const stoppedEarly = (traced: Traced, exit: Exit.Exit<unknown, unknown>): void => {
  if (Exit.isSuccess(exit) && traced.call.complete()) traced.call.end()
  traced.close(exit)
}

/** The exit of a call the caller stopped (an abort, a cancelled body): a cancellation. @internal */
export const cancelledExit: Exit.Exit<never, never> = Exit.interrupt(FiberId.none)

/**
 * Ends unread responses: a response object dropped without its body ever being read is collected, and its span
 * ends as cancelled (as `@effect/platform` aborts such responses).
 *
 * @internal
 */
export const unread = new FinalizationRegistry<Traced>((traced) => traced.close(cancelledExit))
