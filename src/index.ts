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
 * Normalised token usage and converters.
 *
 * @since 0.1.0
 */
export * as TokenUsage from "./TokenUsage.js"
