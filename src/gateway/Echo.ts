/**
 * The embedded default provider: no API key, no network. It answers each API in that API's own wire format,
 * streamed or not, by echoing the last user message word by word, with honest usage counts.
 *
 * Token counting rule ({@link countTokens}): one token per maximal run of non-whitespace characters. Input tokens
 * are the tokens of every text in the prompt (system prompt / instructions and every message's text parts, of
 * every role); output tokens are the tokens of the echoed text.
 *
 * The core is pure ({@link readPrompt}, {@link countTokens}, {@link splitWords}); {@link respond} renders a reply
 * as a `Stream` of bytes, reading ids' randomness from `Random` and timestamps from `Clock`.
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as Data from "effect/Data"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as ParseResult from "effect/ParseResult"
import * as Random from "effect/Random"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import { Readable } from "node:stream"
import * as IssuePath from "../internal/issuePath.js"
import * as Dialect from "./Dialect.js"
import * as Scripts from "./internal/echoScripts.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface Request {
  /** The JSON request body, already parsed. */
  readonly body: unknown
  readonly stream: boolean
  /** The model to report (Gemini carries it in the URL, the others in the body). */
  readonly model: string
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** A pause before each streamed word (demos); none by default. */
  readonly delay?: Duration.DurationInput | undefined
}

/**
 * A reply as an HTTP upstream would give it: status, headers and the body in the pieces it is written in (one
 * SSE event per piece when streaming; one piece for a JSON body). Render it with {@link body} (an Effect Stream)
 * or {@link readable} (a Node stream, what the gateway serves).
 *
 * @since 0.1.0
 * @category models
 */
export interface Reply {
  readonly status: number
  readonly headers: Readonly<Record<string, string>>
  readonly pieces: ReadonlyArray<string>
  /** Pieces `[start, end)` are the streamed words: each follows a pause of `Options.delay`, when one is set. */
  readonly words: readonly [start: number, end: number]
}

/**
 * What Echo reads from a request.
 *
 * @since 0.1.0
 * @category models
 */
export interface Prompt {
  readonly lastUserText: string
  readonly inputTokens: number
}

/**
 * The request is not one Echo can answer: wrong shape, or no user message. Answered with a native 400.
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidRequest extends Data.TaggedError("InvalidRequest")<{ readonly message: string }> {}

// ---------------------------------------------------------------------------------------------------------------
// Words and tokens
// ---------------------------------------------------------------------------------------------------------------

/**
 * The number of tokens in `text`: one per maximal run of non-whitespace characters (`\S+`).
 *
 * @since 0.1.0
 * @category tokens
 */
export const countTokens: (text: string) => number = Scripts.countTokens

/**
 * The streamed pieces of `text`: each word with the whitespace after it (the first also with any leading
 * whitespace), so that the pieces joined are exactly `text`. A text with no word is one piece (none when empty).
 *
 * @since 0.1.0
 * @category tokens
 */
export const splitWords = (text: string): ReadonlyArray<string> => text.match(/\s*\S+\s*/g) ?? (text === "" ? [] : [text])

// ---------------------------------------------------------------------------------------------------------------
// Reading requests: validated at the edge with loose Schemas (unknown fields are ignored, not rejected)
// ---------------------------------------------------------------------------------------------------------------

/** A content part/block; only `text` is read (images, tool results… are skipped). */
const Part = Schema.Struct({ type: Schema.optional(Schema.String), text: Schema.optional(Schema.String) })
const Content = Schema.Union(Schema.String, Schema.Array(Part))

const ChatRequest = Schema.Struct({
  messages: Schema.Array(Schema.Struct({ role: Schema.String, content: Schema.optional(Schema.NullOr(Content)) }))
})

const ResponsesRequest = Schema.Struct({
  input: Schema.Union(
    Schema.String,
    Schema.Array(Schema.Struct({ role: Schema.optional(Schema.String), content: Schema.optional(Content) }))
  ),
  instructions: Schema.optional(Schema.NullOr(Schema.String))
})

const AnthropicRequest = Schema.Struct({
  system: Schema.optional(Content),
  messages: Schema.Array(Schema.Struct({ role: Schema.String, content: Content }))
})

const GeminiContent = Schema.Struct({
  role: Schema.optional(Schema.String),
  parts: Schema.Array(Schema.Struct({ text: Schema.optional(Schema.String) }))
})

const GeminiRequest = Schema.Struct({
  contents: Schema.Array(GeminiContent),
  systemInstruction: Schema.optional(GeminiContent),
  system_instruction: Schema.optional(GeminiContent)
})

const Prompts = Schema.Union(Schema.String, Schema.Array(Schema.String))

const CompletionsRequest = Schema.Struct({ prompt: Prompts })

const EmbeddingsRequest = Schema.Struct({ input: Prompts })

const GeminiEmbedRequest = Schema.Struct({ content: GeminiContent })

const GeminiBatchEmbedRequest = Schema.Struct({ requests: Schema.Array(GeminiEmbedRequest) })

/** Each text of a prompt (one string, or a list of them) as a user message: embeddings echo every input. */
const promptMessages = (prompt: typeof Prompts.Type): ReadonlyArray<Message> =>
  (typeof prompt === "string" ? [prompt] : prompt).map((text) => ({ user: true, texts: [text] }))

/** The texts of a content value; a plain string is one text. */
const texts = (content: typeof Content.Type | null | undefined): ReadonlyArray<string> => {
  if (content === null || content === undefined) return []
  if (typeof content === "string") return [content]
  const out: Array<string> = []
  for (const part of content) if (part.text !== undefined && (part.type === undefined || part.type.endsWith("text"))) out.push(part.text)
  return out
}

interface Message {
  readonly user: boolean
  readonly texts: ReadonlyArray<string>
}

/** Every message of the prompt (system/instructions as non-user messages), per dialect. */
const messagesOf = (dialect: Dialect.Id, body: unknown): Either.Either<ReadonlyArray<Message>, ParseResult.ParseError> => {
  switch (dialect) {
    case "openai.chat":
      return Either.map(decode(ChatRequest, body), (r) => r.messages.map((m) => ({ user: m.role === "user", texts: texts(m.content) })))
    case "openai.responses":
      return Either.map(decode(ResponsesRequest, body), (r) => [
        { user: false, texts: r.instructions === undefined || r.instructions === null ? [] : [r.instructions] },
        ...(typeof r.input === "string"
          ? [{ user: true, texts: [r.input] }]
          : r.input.map((item) => ({ user: item.role === "user", texts: texts(item.content) })))
      ])
    case "anthropic.messages":
      return Either.map(decode(AnthropicRequest, body), (r) => [
        { user: false, texts: texts(r.system) },
        ...r.messages.map((m) => ({ user: m.role === "user", texts: texts(m.content) }))
      ])
    case "openai.completions":
      return Either.map(decode(CompletionsRequest, body), (r) => [{ user: true, texts: typeof r.prompt === "string" ? [r.prompt] : r.prompt }])
    case "openai.embeddings":
      return Either.map(decode(EmbeddingsRequest, body), (r) => promptMessages(r.input))
    case "gemini.embedContent":
      return Either.map(decode(GeminiEmbedRequest, body), (r) => [{ user: true, texts: geminiTexts(r.content) }])
    case "gemini.batchEmbedContents":
      return Either.map(decode(GeminiBatchEmbedRequest, body), (r) => r.requests.map((q) => ({ user: true, texts: geminiTexts(q.content) })))
    case "gemini.generateContent":
      return Either.map(decode(GeminiRequest, body), (r) => {
        const system = r.systemInstruction ?? r.system_instruction
        return [
          { user: false, texts: system === undefined ? [] : geminiTexts(system) },
          ...r.contents.map((c) => ({ user: c.role === undefined || c.role === "user", texts: geminiTexts(c) }))
        ]
      })
  }
}

const geminiTexts = (content: typeof GeminiContent.Type): ReadonlyArray<string> =>
  content.parts.flatMap((p) => (p.text === undefined ? [] : [p.text]))

const decode = <A, I>(schema: Schema.Schema<A, I>, body: unknown) => Schema.decodeUnknownEither(schema)(body)

const describe = (error: ParseResult.ParseError): string => {
  const issue = ParseResult.ArrayFormatter.formatErrorSync(error)[0]
  if (issue === undefined) return "invalid request body"
  const where = IssuePath.formatPath(issue.path) || "request body"
  return `${where}: ${issue.message}`
}

/**
 * Reads the last user message (its text parts joined with `\n`) and counts the prompt's tokens. Fails when the
 * body has the wrong shape or holds no user message.
 *
 * @since 0.1.0
 * @category reading
 */
export const readPrompt = (dialect: Dialect.Id, body: unknown): Either.Either<Prompt, InvalidRequest> =>
  Either.flatMap(
    Either.mapLeft(messagesOf(dialect, body), (error) => new InvalidRequest({ message: describe(error) })),
    (messages) => {
      let inputTokens = 0
      let last: Message | undefined = undefined
      for (const message of messages) {
        for (const text of message.texts) inputTokens += countTokens(text)
        if (message.user) last = message
      }
      return last === undefined
        ? Either.left(new InvalidRequest({ message: "the request has no user message to echo" }))
        : Either.right({ lastUserText: last.texts.join("\n"), inputTokens })
    }
  )

// Replies --------------------------------------------------------------------------------------------------------

const encoder = new TextEncoder()

const jsonReply = (status: number, body: unknown): Reply => ({
  status,
  headers: { "content-type": "application/json" },
  pieces: [JSON.stringify(body)],
  words: [0, 0]
})

const sseReply = (script: Scripts.Script): Reply => ({
  status: 200,
  headers: { "content-type": "text/event-stream", "cache-control": "no-cache" },
  pieces: [...script.head, ...script.words, ...script.tail],
  words: [script.head.length, script.head.length + script.words.length]
})

const isWord = (reply: Reply, index: number): boolean => index >= reply.words[0] && index < reply.words[1]

/**
 * The reply's body as an Effect Stream of UTF-8 bytes, one element per piece, pausing before each word when
 * `options.delay` is set.
 *
 * @since 0.2.0
 * @category rendering
 */
export const body = (reply: Reply, options?: Options): Stream.Stream<Uint8Array> => {
  const delay = options?.delay
  const pieces = Stream.fromIterable(reply.pieces.map((piece, index) => [piece, index] as const))
  const paced = delay === undefined
    ? pieces
    : pieces.pipe(Stream.mapEffect(([piece, index]) => isWord(reply, index) ? Effect.as(Effect.sleep(delay), [piece, index] as const) : Effect.succeed([piece, index] as const)))
  return paced.pipe(Stream.map(([piece]) => encoder.encode(piece)))
}

/**
 * The reply's body as a Node `Readable` (what the gateway pipes to its client), pausing `delayMs` before each word.
 *
 * @since 0.2.0
 * @category rendering
 */
export const readable = (reply: Reply, delayMs = 0): Readable =>
  Readable.from((async function*() {
    for (let index = 0; index < reply.pieces.length; index++) {
      if (delayMs > 0 && isWord(reply, index)) await new Promise((resolve) => setTimeout(resolve, delayMs))
      yield Buffer.from(reply.pieces[index]!, "utf8")
    }
  })(), { objectMode: false })

/**
 * An error in the dialect's native JSON shape (see `Dialect.errorBody`).
 *
 * @since 0.1.0
 * @category constructors
 */
export const errorReply = (dialect: Dialect.Id, status: number, message: string): Reply =>
  jsonReply(status, Dialect.errorBody(Dialect.dialects[dialect], status, message))

let replies = 0

/** Unique per reply (a process-wide counter) and not guessable across restarts (a random suffix). */
const nextId = (dialect: Dialect.Id) =>
  Effect.zipWith(
    Effect.sync(() => ++replies),
    Random.nextIntBetween(0, 36 ** 6),
    (n, r) => `${Dialect.dialects[dialect].echoIdPrefix}${n.toString(36).padStart(4, "0")}${r.toString(36).padStart(6, "0")}`
  )

const render = (dialect: Dialect.Id, t: Scripts.Turn, stream: boolean): Reply =>
  stream && Dialect.dialects[dialect].streaming ? sseReply(Scripts.script(dialect, t)) : jsonReply(200, Scripts.json(dialect, t))

/**
 * Answers one request in the dialect's wire format: `text/event-stream` events when `stream`, else the API's JSON
 * response; a native 400 when the request cannot be echoed. Never fails.
 *
 * @since 0.1.0
 * @category constructors
 */
export const respond = (dialect: Dialect.Id, request: Request): Effect.Effect<Reply> =>
  Either.match(readPrompt(dialect, request.body), {
    onLeft: (error) => Effect.succeed(errorReply(dialect, 400, error.message)),
    onRight: (prompt) =>
      Effect.gen(function*() {
        const id = yield* nextId(dialect)
        const millis = yield* Clock.currentTimeMillis
        const turn: Scripts.Turn = {
          id,
          created: Math.floor(millis / 1000),
          model: request.model,
          text: prompt.lastUserText,
          pieces: splitWords(prompt.lastUserText),
          inputTokens: prompt.inputTokens,
          outputTokens: countTokens(prompt.lastUserText),
          body: request.body
        }
        return render(dialect, turn, request.stream)
      })
  })
