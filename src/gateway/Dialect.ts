/**
 * The one registry of the wire dialects the gateway speaks: for each, its provider API (the fold and readers
 * tracing uses), the provider kind that serves it, its gateway route, its upstream path, and its native error
 * body. Routes, upstream calls, the embedded echo provider and the config all read it; adding an API means adding
 * one entry here (and, for echo, one renderer in `Echo`).
 *
 * @since 0.2.0
 */
import type { PathInput } from "@effect/platform/HttpRouter"
import type * as Api from "../providers/Api.js"
import * as AnthropicMessages from "../providers/AnthropicMessages.js"
import * as GeminiEmbedContent from "../providers/GeminiEmbedContent.js"
import * as GeminiGenerateContent from "../providers/GeminiGenerateContent.js"
import * as OpenAiChat from "../providers/OpenAiChat.js"
import * as OpenAiCompletions from "../providers/OpenAiCompletions.js"
import * as OpenAiEmbeddings from "../providers/OpenAiEmbeddings.js"
import * as OpenAiResponses from "../providers/OpenAiResponses.js"

/**
 * The provider kinds that are reached over HTTP.
 *
 * @since 0.2.0
 * @category models
 */
export type HttpKind = "openai" | "anthropic" | "gemini"

/**
 * Every provider kind: the HTTP ones, and `echo`, answered in process.
 *
 * @since 0.2.0
 * @category models
 */
export type Kind = HttpKind | "echo"

/**
 * What the gateway needs to reach one HTTP provider kind.
 *
 * @since 0.2.0
 * @category models
 */
export interface Provider {
  /** The public API base URL. */
  readonly baseUrl: string
  /** The environment variable that usually holds the key. */
  readonly apiKeyEnv: string
  /** The header carrying the key upstream. */
  readonly authHeader: (key: string) => readonly [name: string, value: string]
}

/**
 * @since 0.2.0
 * @category registry
 */
export const providers: { readonly [K in HttpKind]: Provider } = {
  openai: {
    baseUrl: "https://api.openai.com/v1",
    apiKeyEnv: "OPENAI_API_KEY",
    authHeader: (key) => ["authorization", `Bearer ${key}`]
  },
  anthropic: {
    baseUrl: "https://api.anthropic.com/v1",
    apiKeyEnv: "ANTHROPIC_API_KEY",
    authHeader: (key) => ["x-api-key", key]
  },
  gemini: {
    baseUrl: "https://generativelanguage.googleapis.com/v1beta",
    apiKeyEnv: "GEMINI_API_KEY",
    authHeader: (key) => ["x-goog-api-key", key]
  }
}

/**
 * Every provider kind, for the config's Schema and messages.
 *
 * @since 0.2.0
 * @category registry
 */
export const kinds: readonly [Kind, ...Array<Kind>] = ["openai", "anthropic", "gemini", "echo"]

/**
 * The dialect identifiers.
 *
 * @since 0.2.0
 * @category models
 */
export type Id =
  | "openai.chat"
  | "openai.responses"
  | "openai.completions"
  | "openai.embeddings"
  | "anthropic.messages"
  | "gemini.generateContent"
  | "gemini.embedContent"
  | "gemini.batchEmbedContents"

/**
 * One wire dialect.
 *
 * @since 0.2.0
 * @category models
 */
export interface Dialect {
  readonly id: Id
  readonly kind: HttpKind
  /** `mlflow.gateway.requestType`. */
  readonly requestType: string
  /** The gateway route (MLflow-compatible path). Gemini dialects share one route and differ by URL method. */
  readonly route: PathInput
  /** Gemini only: the URL methods (`models/<endpoint>:<method>`) of the non-streamed and the streamed call. */
  readonly geminiMethod?: { readonly unary: string; readonly stream?: string | undefined } | undefined
  /** The API has a streamed variant (embeddings have none: their answer is always JSON). */
  readonly streaming: boolean
  /**
   * OpenAI-style streams that report usage only with `stream_options.include_usage`: a traced request without it
   * asks upstream for it and the gateway strips it from the client's stream (`UsageInjection`).
   */
  readonly usageInjection: boolean
  /** The path after the provider's base URL. */
  readonly upstreamPath: (model: string, stream: boolean) => string
  /** Whether the endpoint comes from the body's `model` (else from the URL). */
  readonly modelInBody: boolean
  /** Echo ids start with this, like the real API's ids. */
  readonly echoIdPrefix: string
  /** The provider API, behind an existential (each API has its own response and fold state types). */
  readonly use: <X>(f: <R, S>(api: Api.Api<R, S>) => X) => X
  /** `mlflow.message.format`. */
  readonly messageFormat: string
}

const make = <R, S>(api: Api.Api<R, S>, fields: Omit<Dialect, "use" | "messageFormat">): Dialect => ({
  ...fields,
  messageFormat: api.messageFormat,
  use: (f) => f(api)
})

/**
 * @since 0.2.0
 * @category registry
 */
export const dialects: { readonly [K in Id]: Dialect } = {
  "openai.chat": make(OpenAiChat.api, {
    id: "openai.chat",
    kind: "openai",
    requestType: "openai/v1/chat/completions",
    route: "/gateway/openai/v1/chat/completions",
    upstreamPath: () => "/chat/completions",
    modelInBody: true,
    streaming: true,
    usageInjection: true,
    echoIdPrefix: "chatcmpl-echo"
  }),
  "openai.responses": make(OpenAiResponses.api, {
    id: "openai.responses",
    kind: "openai",
    requestType: "openai/v1/responses",
    route: "/gateway/openai/v1/responses",
    upstreamPath: () => "/responses",
    modelInBody: true,
    streaming: true,
    usageInjection: false,
    echoIdPrefix: "resp_echo"
  }),
  "openai.completions": make(OpenAiCompletions.api, {
    id: "openai.completions",
    kind: "openai",
    requestType: "openai/v1/completions",
    route: "/gateway/openai/v1/completions",
    upstreamPath: () => "/completions",
    modelInBody: true,
    streaming: true,
    usageInjection: true,
    echoIdPrefix: "cmpl-echo"
  }),
  "openai.embeddings": make(OpenAiEmbeddings.api, {
    id: "openai.embeddings",
    kind: "openai",
    requestType: "openai/v1/embeddings",
    route: "/gateway/openai/v1/embeddings",
    upstreamPath: () => "/embeddings",
    modelInBody: true,
    streaming: false,
    usageInjection: false,
    echoIdPrefix: "emb-echo"
  }),
  "anthropic.messages": make(AnthropicMessages.api, {
    id: "anthropic.messages",
    kind: "anthropic",
    requestType: "anthropic/v1/messages",
    route: "/gateway/anthropic/v1/messages",
    upstreamPath: () => "/messages",
    modelInBody: true,
    streaming: true,
    usageInjection: false,
    echoIdPrefix: "msg_echo"
  }),
  "gemini.generateContent": make(GeminiGenerateContent.api, {
    id: "gemini.generateContent",
    kind: "gemini",
    requestType: "gemini/v1beta/generateContent",
    route: "/gateway/gemini/v1beta/models/:target",
    geminiMethod: { unary: "generateContent", stream: "streamGenerateContent" },
    upstreamPath: (model, stream) =>
      `/models/${encodeURIComponent(model)}:${stream ? "streamGenerateContent?alt=sse" : "generateContent"}`,
    modelInBody: false,
    streaming: true,
    usageInjection: false,
    echoIdPrefix: "echo"
  }),
  "gemini.embedContent": make(GeminiEmbedContent.api, {
    id: "gemini.embedContent",
    kind: "gemini",
    requestType: "gemini/v1beta/embedContent",
    route: "/gateway/gemini/v1beta/models/:target",
    geminiMethod: { unary: "embedContent" },
    upstreamPath: (model) => `/models/${encodeURIComponent(model)}:embedContent`,
    modelInBody: false,
    streaming: false,
    usageInjection: false,
    echoIdPrefix: "echo"
  }),
  "gemini.batchEmbedContents": make(GeminiEmbedContent.api, {
    id: "gemini.batchEmbedContents",
    kind: "gemini",
    requestType: "gemini/v1beta/batchEmbedContents",
    route: "/gateway/gemini/v1beta/models/:target",
    geminiMethod: { unary: "batchEmbedContents" },
    upstreamPath: (model) => `/models/${encodeURIComponent(model)}:batchEmbedContents`,
    modelInBody: false,
    streaming: false,
    usageInjection: false,
    echoIdPrefix: "echo"
  })
}

/**
 * Every dialect, in registry order.
 *
 * @since 0.2.0
 * @category registry
 */
export const all: ReadonlyArray<Dialect> = Object.values(dialects)

/**
 * The Gemini dialect and streaming flag of a URL method (`generateContent`, `streamGenerateContent`, …).
 *
 * @since 0.2.0
 * @category registry
 */
export const byGeminiMethod = (method: string): { readonly dialect: Dialect; readonly stream: boolean } | undefined => {
  for (const dialect of all) {
    if (dialect.geminiMethod === undefined) continue
    if (dialect.geminiMethod.unary === method) return { dialect, stream: false }
    if (dialect.geminiMethod.stream !== undefined && dialect.geminiMethod.stream === method) return { dialect, stream: true }
  }
  return undefined
}

// Native error bodies --------------------------------------------------------------------------------------------

const openAiTypes: Readonly<Record<number, string>> = {
  400: "invalid_request_error",
  401: "authentication_error",
  403: "permission_error",
  404: "not_found_error",
  413: "request_too_large",
  415: "invalid_request_error",
  421: "invalid_request_error",
  429: "rate_limit_exceeded",
  500: "server_error",
  502: "upstream_error",
  504: "upstream_timeout"
}
const anthropicTypes: Readonly<Record<number, string>> = {
  400: "invalid_request_error",
  401: "authentication_error",
  403: "permission_error",
  404: "not_found_error",
  413: "request_too_large",
  429: "rate_limit_error",
  500: "api_error",
  529: "overloaded_error"
}
const geminiStatuses: Readonly<Record<number, string>> = {
  400: "INVALID_ARGUMENT",
  401: "UNAUTHENTICATED",
  403: "PERMISSION_DENIED",
  404: "NOT_FOUND",
  413: "INVALID_ARGUMENT",
  429: "RESOURCE_EXHAUSTED",
  500: "INTERNAL",
  502: "UNAVAILABLE",
  503: "UNAVAILABLE",
  504: "DEADLINE_EXCEEDED"
}

/**
 * An error in the client's own API shape, so that its SDK surfaces the message: OpenAI `{ error: { message, type,
 * param, code } }`, Anthropic `{ type: "error", error: { type, message } }`, Gemini `{ error: { code, message,
 * status } }`. `type` defaults to the API's usual name for the status; `undefined` (no dialect: the trace API and
 * refusals before a route is known) gives the OpenAI shape.
 *
 * @since 0.2.0
 * @category errors
 */
export const errorBody = (
  dialect: Dialect | undefined,
  status: number,
  message: string,
  type?: string
): unknown => {
  switch (dialect?.kind) {
    case "anthropic":
      return { type: "error", error: { type: type ?? anthropicTypes[status] ?? "api_error", message } }
    case "gemini":
      return { error: { code: status, message, status: geminiStatuses[status] ?? (type ?? "UNKNOWN").toUpperCase() } }
    default:
      return { error: { message, type: type ?? openAiTypes[status] ?? "api_error", param: null, code: type ?? null } }
  }
}
