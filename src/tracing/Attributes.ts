/**
 * Every span attribute and trace metadata key the library writes, in one place: MLflow's names (so MLflow shows
 * the spans natively over OTLP) and the OpenTelemetry GenAI semantic conventions.
 *
 * @since 0.1.0
 */

// MLflow span attributes -----------------------------------------------------------------------------------------

/** @since 0.1.0 @category mlflow */
export const SpanInputs = "mlflow.spanInputs"
/** @since 0.1.0 @category mlflow */
export const SpanOutputs = "mlflow.spanOutputs"
/** @since 0.1.0 @category mlflow */
export const SpanType = "mlflow.spanType"
/** JSON: `input_tokens`, `output_tokens`, `total_tokens`, and the cache keys when reported. @since 0.1.0 @category mlflow */
export const ChatTokenUsage = "mlflow.chat.tokenUsage"
/** @since 0.1.0 @category mlflow */
export const LlmModel = "mlflow.llm.model"
/** @since 0.1.0 @category mlflow */
export const LlmProvider = "mlflow.llm.provider"
/** @since 0.1.0 @category mlflow */
export const MessageFormat = "mlflow.message.format"
/** On a replayed gateway span: the id of the gateway's own trace. @since 0.1.0 @category mlflow */
export const LinkedGatewayTraceId = "mlflow.gateway.linkedTraceId"
/** Span event name of the i-th streamed chunk. @since 0.1.0 @category mlflow */
export const chunkEventName = (index: number): string => `mlflow.chunk.item.${index}`
/** Span event attribute holding the chunk (JSON). @since 0.1.0 @category mlflow */
export const ChunkValue = "mlflow.chunk.value"

/** MLflow span types used here. @since 0.1.0 @category mlflow */
export const SpanTypes = {
  Llm: "LLM",
  ChatModel: "CHAT_MODEL"
} as const

// Gateway span attributes (MLflow gateway) ----------------------------------------------------------------------

/** @since 0.1.0 @category gateway */
export const EndpointId = "endpoint_id"
/** @since 0.1.0 @category gateway */
export const EndpointName = "endpoint_name"
/** @since 0.1.0 @category gateway */
export const ServerUrl = "server_url"

// Trace-level metadata (TraceStore metadata; attributes of the root span on OTLP) ---------------------------------

/** @since 0.1.0 @category metadata */
export const AuthUsername = "mlflow.auth.username"
/** @since 0.1.0 @category metadata */
export const AuthUserId = "mlflow.auth.userId"
/** @since 0.1.0 @category metadata */
export const GatewayEndpointId = "mlflow.gateway.endpointId"
/** @since 0.1.0 @category metadata */
export const GatewayRequestType = "mlflow.gateway.requestType"
/** @since 0.1.0 @category metadata */
export const GatewayCaller = "mlflow.gateway.caller"
/** @since 0.1.0 @category metadata */
export const TraceSession = "mlflow.trace.session"

/**
 * The keys that are trace metadata, not span attributes: the TraceStore moves them from a span's attributes into
 * its trace's metadata.
 *
 * @since 0.1.0
 * @category metadata
 */
export const traceMetadataKeys: ReadonlySet<string> = new Set([
  AuthUsername,
  AuthUserId,
  GatewayEndpointId,
  GatewayRequestType,
  GatewayCaller,
  TraceSession
])

// OpenTelemetry GenAI semantic conventions -----------------------------------------------------------------------

/** @since 0.1.0 @category genai */
export const GenAiOperationName = "gen_ai.operation.name"
/** @since 0.1.0 @category genai */
export const GenAiProviderName = "gen_ai.provider.name"
/** @since 0.1.0 @category genai */
export const GenAiRequestModel = "gen_ai.request.model"
/** @since 0.1.0 @category genai */
export const GenAiRequestStream = "gen_ai.request.stream"
/** @since 0.1.0 @category genai */
export const GenAiResponseModel = "gen_ai.response.model"
/** @since 0.1.0 @category genai */
export const GenAiResponseId = "gen_ai.response.id"
/** @since 0.1.0 @category genai */
export const GenAiResponseFinishReasons = "gen_ai.response.finish_reasons"
/** @since 0.1.0 @category genai */
export const GenAiUsageInputTokens = "gen_ai.usage.input_tokens"
/** @since 0.1.0 @category genai */
export const GenAiUsageOutputTokens = "gen_ai.usage.output_tokens"
/** @since 0.1.0 @category genai */
export const GenAiUsageCacheReadInputTokens = "gen_ai.usage.cache_read.input_tokens"
/**
 * Prompt tokens written to the provider's cache (Anthropic `cache_creation_input_tokens`): the registry's name
 * (semantic conventions 1.45). Was `gen_ai.usage.cache_write.input_tokens` before 0.2.0.
 *
 * @since 0.2.0
 * @category genai
 */
export const GenAiUsageCacheCreationInputTokens = "gen_ai.usage.cache_creation.input_tokens"
/**
 * @deprecated Use {@link GenAiUsageCacheCreationInputTokens}; this is the same key (the registry's name) since 0.2.0.
 * @since 0.1.0
 * @category genai
 */
export const GenAiUsageCacheWriteInputTokens = GenAiUsageCacheCreationInputTokens
/** @since 0.1.0 @category genai */
export const GenAiUsageReasoningOutputTokens = "gen_ai.usage.reasoning.output_tokens"
/** Seconds from the request to the first streamed chunk. @since 0.1.0 @category genai */
export const GenAiResponseTimeToFirstChunk = "gen_ai.response.time_to_first_chunk"
/** `max_tokens`, `max_completion_tokens`, `max_output_tokens`, `maxOutputTokens`. @since 0.2.0 @category genai */
export const GenAiRequestMaxTokens = "gen_ai.request.max_tokens"
/** @since 0.2.0 @category genai */
export const GenAiRequestTemperature = "gen_ai.request.temperature"
/** @since 0.2.0 @category genai */
export const GenAiRequestTopP = "gen_ai.request.top_p"
/** @since 0.2.0 @category genai */
export const GenAiRequestTopK = "gen_ai.request.top_k"
/** @since 0.2.0 @category genai */
export const GenAiRequestSeed = "gen_ai.request.seed"
/** A string array (a single `stop` string becomes one element). @since 0.2.0 @category genai */
export const GenAiRequestStopSequences = "gen_ai.request.stop_sequences"
/** @since 0.2.0 @category genai */
export const GenAiRequestFrequencyPenalty = "gen_ai.request.frequency_penalty"
/** @since 0.2.0 @category genai */
export const GenAiRequestPresencePenalty = "gen_ai.request.presence_penalty"
/** Candidates asked for (`n`, `candidateCount`); recorded only when not 1, as the conventions say. @since 0.2.0 @category genai */
export const GenAiRequestChoiceCount = "gen_ai.request.choice.count"
/** Embeddings: the requested encodings (`float`, `base64`), a string array. @since 0.2.0 @category genai */
export const GenAiRequestEncodingFormats = "gen_ai.request.encoding_formats"
/** Embeddings: the requested vector size (`dimensions`, `outputDimensionality`). @since 0.2.0 @category genai */
export const GenAiEmbeddingsDimensionCount = "gen_ai.embeddings.dimension.count"
/**
 * The output type the request asked for, when it asked: one of {@link GenAiOutputTypes}.
 *
 * @since 0.2.0
 * @category genai
 */
export const GenAiOutputType = "gen_ai.output.type"
/** The registry's values of `gen_ai.output.type`. @since 0.2.0 @category genai */
export const GenAiOutputTypes = {
  Text: "text",
  Json: "json",
  Image: "image",
  Speech: "speech"
} as const
/**
 * The conversation (session, thread) of the call: the trace's session ({@link TraceSession}) when one of the
 * span's ancestors carries it.
 *
 * @since 0.2.0
 * @category genai
 */
export const GenAiConversationId = "gen_ai.conversation.id"
/** The registry's values of `gen_ai.operation.name` used here. @since 0.2.0 @category genai */
export const GenAiOperations = {
  Chat: "chat",
  GenerateContent: "generate_content",
  TextCompletion: "text_completion",
  Embeddings: "embeddings"
} as const
/** OpenAI: the service tier the request asked for (`auto`, `default`, `flex`, …). @since 0.2.0 @category openai */
export const OpenAiRequestServiceTier = "openai.request.service_tier"
/** OpenAI: the service tier that served the response. @since 0.2.0 @category openai */
export const OpenAiResponseServiceTier = "openai.response.service_tier"
/** OpenAI: the backend configuration fingerprint of the response. @since 0.2.0 @category openai */
export const OpenAiResponseSystemFingerprint = "openai.response.system_fingerprint"
/** @since 0.1.0 @category genai */
export const ServerAddress = "server.address"
/** @since 0.1.0 @category genai */
export const ServerPort = "server.port"
/** @since 0.1.0 @category genai */
export const ErrorType = "error.type"
/** The gateway's HTTP status for the request (on the gateway span). @since 0.2.0 @category http */
export const HttpResponseStatusCode = "http.response.status_code"
/** @since 0.2.0 @category http */
export const HttpRequestMethod = "http.request.method"
/** The route pattern, never the raw path (e.g. `/gateway/openai/v1/chat/completions`). @since 0.2.0 @category http */
export const HttpRoute = "http.route"

/** `input` or `output` on `gen_ai.client.token.usage`. @since 0.2.0 @category genai */
export const GenAiTokenType = "gen_ai.token.type"
/** On the newer token counters (`unknown` when the provider gives no per-modality breakdown). @since 0.2.0 @category genai */
export const GenAiTokenModality = "gen_ai.token.modality"
/** `http` or `https`, on `http.server.request.duration`. @since 0.2.0 @category http */
export const UrlScheme = "url.scheme"

/** `error.type` of a call the client abandoned (disconnect, consumer stopped, timeout). @since 0.1.0 @category genai */
export const ErrorTypeCancelled = "cancelled"

// This library's own diagnostics ---------------------------------------------------------------------------------

/** Events whose data was not JSON or not the provider's shape, skipped by the fold. @since 0.1.0 @category library */
export const SkippedEvents = "llm_trace.skipped_events"
/**
 * On a gateway's provider span: its `mlflow.spanInputs` holds only what the gateway changed (e.g. `model`); the
 * rest is the gateway span's inputs, stored once per trace. @since 0.2.0 @category library
 */
export const InputsFromParent = "llm_trace.inputs_from_parent"
/** Set when tracing itself failed (fold error, bad JSON); the user's call was not affected. @since 0.1.0 @category library */
export const TracingError = "llm_trace.tracing_error"
