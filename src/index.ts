/**
 * effect-llm-trace: observable streaming LLM provider calls on Effect.
 *
 * @since 0.1.0
 */

/**
 * Server-sent events: a pure byte-level parser and the `Sse.decode()` Stream operator.
 *
 * @since 0.1.0
 */
export * as Sse from "./Sse.js"

/**
 * Folds: `Fold.run` over a stream, `Fold.tap` on the way through with a finaliser on every exit.
 *
 * @since 0.1.0
 */
export * as Fold from "./Fold.js"

/**
 * Normalised token usage and converters (OpenAI, Anthropic, Gemini, MLflow keys).
 *
 * @since 0.1.0
 */
export * as TokenUsage from "./TokenUsage.js"

/**
 * What a provider API is to tracing: its fold, and how to read its responses; `Api.make` builds one from its
 * definition.
 *
 * @since 0.1.0
 */
export * as Api from "./providers/Api.js"

/**
 * OpenAI Chat Completions: the fold from chunks into a `chat.completion`.
 *
 * @since 0.1.0
 */
export * as OpenAiChat from "./providers/OpenAiChat.js"

/**
 * OpenAI Chat Completions wire Schemas: chunk, completion, message, tool calls, usage.
 *
 * @since 0.2.0
 */
export * as OpenAiChatSchema from "./providers/OpenAiChatSchema.js"

/**
 * OpenAI Responses: the fold from stream events into a `response`.
 *
 * @since 0.1.0
 */
export * as OpenAiResponses from "./providers/OpenAiResponses.js"

/**
 * OpenAI Responses wire Schemas: stream event, response, output item, usage.
 *
 * @since 0.2.0
 */
export * as OpenAiResponsesSchema from "./providers/OpenAiResponsesSchema.js"

/**
 * OpenAI legacy Completions (`/v1/completions`): the fold from chunks into a `text_completion`.
 *
 * @since 0.2.0
 */
export * as OpenAiCompletions from "./providers/OpenAiCompletions.js"

/**
 * OpenAI legacy Completions wire Schemas: completion, chunk, choice, logprobs, usage.
 *
 * @since 0.2.0
 */
export * as OpenAiCompletionsSchema from "./providers/OpenAiCompletionsSchema.js"

/**
 * OpenAI Embeddings (`/v1/embeddings`, JSON only): usage, model and request attributes for tracing.
 *
 * @since 0.2.0
 */
export * as OpenAiEmbeddings from "./providers/OpenAiEmbeddings.js"

/**
 * OpenAI Embeddings wire Schemas: response, embedding, usage.
 *
 * @since 0.2.0
 */
export * as OpenAiEmbeddingsSchema from "./providers/OpenAiEmbeddingsSchema.js"

/**
 * Anthropic Messages: the fold from stream events into a `message`.
 *
 * @since 0.1.0
 */
export * as AnthropicMessages from "./providers/AnthropicMessages.js"

/**
 * Anthropic Messages wire Schemas: stream events, content blocks, deltas, message, usage.
 *
 * @since 0.2.0
 */
export * as AnthropicMessagesSchema from "./providers/AnthropicMessagesSchema.js"

/**
 * Gemini generateContent: the fold from chunks into a `GenerateContentResponse`.
 *
 * @since 0.1.0
 */
export * as GeminiGenerateContent from "./providers/GeminiGenerateContent.js"

/**
 * Gemini generateContent wire Schemas: response chunk, response, candidate, part, usage metadata.
 *
 * @since 0.2.0
 */
export * as GeminiGenerateContentSchema from "./providers/GeminiGenerateContentSchema.js"

/**
 * Gemini embeddings (`:embedContent`, `:batchEmbedContents`, JSON only): usage and request attributes for tracing.
 *
 * @since 0.2.0
 */
export * as GeminiEmbedContent from "./providers/GeminiEmbedContent.js"

/**
 * Gemini embeddings wire Schemas: the single and the batch response, content embedding.
 *
 * @since 0.2.0
 */
export * as GeminiEmbedContentSchema from "./providers/GeminiEmbedContentSchema.js"

/**
 * Every span attribute and trace metadata key (MLflow names and GenAI semantic conventions).
 *
 * @since 0.1.0
 */
export * as Attributes from "./tracing/Attributes.js"

/**
 * Strict W3C Trace Context: `traceparent` and `tracestate`.
 *
 * @since 0.1.0
 */
export * as TraceContext from "./tracing/TraceContext.js"

/**
 * The scoped `gateway/<endpoint>` span of one request.
 *
 * @since 0.1.0
 */
export * as GatewaySpan from "./tracing/GatewaySpan.js"

/**
 * The scoped `provider/<provider>/<model>` span around one upstream call.
 *
 * @since 0.1.0
 */
export * as ProviderSpan from "./tracing/ProviderSpan.js"

/**
 * Distributed replay of a gateway call's spans into the caller's trace.
 *
 * @since 0.1.0
 */
export * as Replay from "./tracing/Replay.js"

/**
 * The embedded trace backend: finished spans by trace, bounded and queryable.
 *
 * @since 0.1.0
 */
export * as TraceStore from "./tracing/TraceStore.js"

/**
 * Layers: the Effect tracer on the OpenTelemetry SDK, the TraceStore, OTLP export.
 *
 * @since 0.1.0
 */
export * as Telemetry from "./tracing/Telemetry.js"

/**
 * Zero-code tracing of the program's own provider calls: an `HttpClient` layer (every `@effect/ai` call) and a
 * `fetch` for the official SDKs.
 *
 * @since 0.2.0
 */
export * as ClientTracing from "./tracing/ClientTracing.js"

/**
 * GenAI client metrics and `http.server.request.duration`: Prometheus text and OTLP export.
 *
 * @since 0.2.0
 */
export * as Metrics from "./tracing/Metrics.js"

/**
 * `GET /metrics` for the gateway (Prometheus text).
 *
 * @since 0.2.0
 */
export * as MetricsApi from "./gateway/MetricsApi.js"

/**
 * The gateway's request log, written off the request path.
 *
 * @since 0.2.0
 */
export * as RequestLog from "./gateway/RequestLog.js"

/**
 * The gateway's config file, as a Schema, and its loader.
 *
 * @since 0.1.0
 */
export * as GatewayConfig from "./gateway/GatewayConfig.js"

/**
 * The registry of wire dialects the gateway speaks (API, provider kind, routes, upstream paths, error bodies).
 *
 * @since 0.2.0
 */
export * as Dialect from "./gateway/Dialect.js"

/**
 * Upstream providers: how the gateway calls OpenAI, Anthropic, Gemini or Echo.
 *
 * @since 0.2.0
 */
export * as Upstream from "./gateway/Upstream.js"

/**
 * The embedded provider: each API's wire format, echoing the prompt; no key, no network.
 *
 * @since 0.1.0
 */
export * as Echo from "./gateway/Echo.js"

/**
 * The gateway as a service: endpoints, providers, auth, tracing policy.
 *
 * @since 0.1.0
 */
export * as Gateway from "./gateway/Gateway.js"

/**
 * The gateway's HttpRouter: passthrough routes and the trace API.
 *
 * @since 0.1.0
 */
export * as Routes from "./gateway/Routes.js"

/**
 * The web viewer: trace list, trace waterfall and usage pages, as an `HttpRouter` (served by the gateway).
 *
 * @since 0.2.0
 */
export * as Viewer from "./gateway/Viewer.js"

/**
 * The whole gateway as one Layer on a Node HTTP server.
 *
 * @since 0.1.0
 */
export * as Server from "./gateway/Server.js"

/**
 * What the gateway checks before serving (upstream keys, listen errors, `OTEL_*` variables) and its startup report.
 *
 * @since 0.2.0
 */
export * as Startup from "./gateway/Startup.js"

/**
 * Usage for OpenAI chat streams that did not ask for it, invisible to the client.
 *
 * @since 0.1.0
 */
export * as UsageInjection from "./gateway/UsageInjection.js"

/**
 * The trace API: trace summaries with filters and pages, one trace, usage per endpoint/model/caller.
 *
 * @since 0.2.0
 */
export * as TraceApi from "./gateway/TraceApi.js"

/**
 * The trace API's query parameters as Schemas, and its error shape.
 *
 * @since 0.2.0
 */
export * as TraceApiSchema from "./gateway/TraceApiSchema.js"
