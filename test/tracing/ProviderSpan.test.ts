import { assert, describe, expect, it } from "@effect/vitest"
import { Chunk, Effect, Exit, Option, Stream } from "effect"
import { readFileSync } from "node:fs"
import * as Api from "../../src/providers/Api.js"
import * as AnthropicMessages from "../../src/providers/AnthropicMessages.js"
import * as OpenAiChat from "../../src/providers/OpenAiChat.js"
import * as Attributes from "../../src/tracing/Attributes.js"
import * as GatewaySpan from "../../src/tracing/GatewaySpan.js"
import * as ProviderSpan from "../../src/tracing/ProviderSpan.js"
import * as TraceContext from "../../src/tracing/TraceContext.js"
import { type StoredSpan, TraceStore } from "../../src/tracing/TraceStore.js"
import * as TokenUsage from "../../src/TokenUsage.js"
import { randomChunking } from "../support/chunking.js"
import * as Tracing from "../support/tracing.js"

const fixture = (path: string): Uint8Array => new Uint8Array(readFileSync(new URL(`../fixtures/${path}`, import.meta.url)))

const chatOptions = { api: OpenAiChat.api, model: "gpt-4o", stream: true, payload: { model: "gpt-4o", stream: true } }
const anthropicOptions = { api: AnthropicMessages.api, model: "claude-3-5-haiku", stream: true, payload: {} }

/** Streams `bytes` in random chunks through a provider span; returns the bytes the consumer saw. */
const streamThrough = <R, S>(options: ProviderSpan.Options<R, S>, bytes: Uint8Array, seed = 7) =>
  ProviderSpan.tracedStream(options, () => Effect.succeed(Stream.fromIterable(randomChunking(bytes, seed, 200)))).pipe(
    Stream.runCollect,
    Effect.map(Chunk.toArray)
  )

/** The one span named `name` across the store (outside the trace `except`). */
const spanNamed = (name: string, except?: string) =>
  Effect.gen(function*() {
    const store = yield* TraceStore
    const spans: Array<StoredSpan> = []
    for (const summary of yield* store.searchTraces({ limit: 1000 })) {
      spans.push(...Option.getOrThrow(yield* store.getTrace(summary.traceId)).spans)
    }
    const found = spans.filter((s) => s.name === name && s.traceId !== except)
    expect(found.length).toBe(1)
    return found[0]!
  })

const json = (value: unknown) => JSON.parse(String(value))

describe("ProviderSpan", () => {
  it.live("usage, model, id, finish reasons and output from a streamed chat completion", () =>
    Effect.gen(function*() {
      const bytes = fixture("openai-chat/text-usage.sse")
      const seen = yield* streamThrough(chatOptions, bytes)
      expect(Buffer.concat(seen)).toEqual(Buffer.from(bytes))
      const span = yield* spanNamed("provider/openai/gpt-4o")
      expect(span.kind).toBe("CLIENT")
      expect(span.status.code).toBe("OK")
      expect(span.attributes[Attributes.LlmProvider]).toBe("openai")
      expect(span.attributes[Attributes.LlmModel]).toBe("gpt-4o")
      expect(span.attributes[Attributes.GenAiProviderName]).toBe("openai")
      expect(span.attributes[Attributes.GenAiOperationName]).toBe("chat")
      expect(span.attributes[Attributes.GenAiRequestModel]).toBe("gpt-4o")
      expect(span.attributes[Attributes.GenAiRequestStream]).toBe(true)
      // The numbers of the fixture's usage chunk.
      expect(json(span.attributes[Attributes.ChatTokenUsage])).toEqual({
        input_tokens: 19,
        output_tokens: 7,
        total_tokens: 26,
        cache_read_input_tokens: 4
      })
      expect(span.attributes[Attributes.GenAiUsageInputTokens]).toBe(19)
      expect(span.attributes[Attributes.GenAiUsageOutputTokens]).toBe(7)
      expect(span.attributes[Attributes.GenAiUsageCacheReadInputTokens]).toBe(4)
      expect(span.attributes[Attributes.GenAiResponseFinishReasons]).toEqual(["stop"])
      const expected = Option.getOrThrow(OpenAiChat.aggregate([bytes]))
      expect(span.attributes[Attributes.GenAiResponseId]).toBe(expected.id)
      expect(span.attributes[Attributes.GenAiResponseModel]).toBe(expected.model)
      expect(json(span.attributes[Attributes.SpanOutputs])).toEqual(expected)
      expect(json(span.attributes[Attributes.SpanInputs])).toEqual({ model: "gpt-4o", stream: true })
      expect(span.attributes[Attributes.GenAiResponseTimeToFirstChunk]).toBeGreaterThan(0)
      expect(span.events).toEqual([])
    }).pipe(Effect.provide(Tracing.layer)))

  it.live("cached and written prompt tokens from an Anthropic stream", () =>
    Effect.gen(function*() {
      yield* streamThrough(anthropicOptions, fixture("anthropic/cache-read-write.sse"))
      const span = yield* spanNamed("provider/anthropic/claude-3-5-haiku")
      const usage = json(span.attributes[Attributes.ChatTokenUsage])
      expect(usage["cache_read_input_tokens"]).toBe(30517)
      expect(usage["cache_creation_input_tokens"]).toBe(2048)
      expect(usage["input_tokens"]).toBe(12 + 30517 + 2048)
      expect(span.attributes[Attributes.GenAiUsageCacheReadInputTokens]).toBe(30517)
      expect(span.attributes[Attributes.GenAiUsageCacheWriteInputTokens]).toBe(2048)
    }).pipe(Effect.provide(Tracing.layer)))

  it.live("no usage in the stream: no usage attributes at all", () =>
    Effect.gen(function*() {
      const bytes = fixture("openai-chat/logprobs.sse")
      const aggregate = Option.getOrThrow(Api.aggregateBytes(OpenAiChat.api, [bytes]))
      assert(TokenUsage.isEmpty(OpenAiChat.usage(aggregate.response)), "fixture without usage")
      yield* streamThrough(chatOptions, bytes)
      const span = yield* spanNamed("provider/openai/gpt-4o")
      expect(span.attributes[Attributes.ChatTokenUsage]).toBeUndefined()
      expect(span.attributes[Attributes.GenAiUsageInputTokens]).toBeUndefined()
      expect(span.attributes[Attributes.GenAiResponseFinishReasons]).toEqual(["stop"])
      expect(span.status.code).toBe("OK")
    }).pipe(Effect.provide(Tracing.layer)))

  it.live("partial usage from a truncated stream; the span reports the incomplete call", () =>
    Effect.gen(function*() {
      const bytes = fixture("anthropic/truncated.sse")
      yield* streamThrough(anthropicOptions, bytes)
      const span = yield* spanNamed("provider/anthropic/claude-3-5-haiku")
      const aggregate = Option.getOrThrow(Api.aggregateBytes(AnthropicMessages.api, [bytes]))
      expect(aggregate.complete).toBe(false)
      expect(json(span.attributes[Attributes.ChatTokenUsage])).toEqual(
        TokenUsage.toMlflow(AnthropicMessages.usage(aggregate.response))
      )
      expect(json(span.attributes[Attributes.ChatTokenUsage])["input_tokens"]).toBe(64)
      expect(span.status.code).toBe("ERROR")
      expect(span.attributes[Attributes.ErrorType]).toBe("incomplete_stream")
      expect(span.attributes[Attributes.GenAiResponseFinishReasons]).toEqual(["error"])
      expect(json(span.attributes[Attributes.SpanOutputs])).toEqual(aggregate.response)
    }).pipe(Effect.provide(Tracing.layer)))

  it.live("an error event from the provider ends the span ERROR with its type", () =>
    Effect.gen(function*() {
      yield* streamThrough(anthropicOptions, fixture("anthropic/error-midstream.sse"))
      const span = yield* spanNamed("provider/anthropic/claude-3-5-haiku")
      expect(span.status.code).toBe("ERROR")
      expect(span.attributes[Attributes.ErrorType]).toBe("overloaded_error")
      expect(span.events.some((e) => e.name === "exception")).toBe(true)
    }).pipe(Effect.provide(Tracing.layer)))

  it.live("a failed call: ERROR, an exception event, error.type, and the error reaches the caller unchanged", () =>
    Effect.gen(function*() {
      class UpstreamDown extends Error {
        override readonly name = "UpstreamDown"
      }
      const exit = yield* ProviderSpan.traced({ ...chatOptions, stream: false }, () => Effect.fail(new UpstreamDown("connect ECONNREFUSED"))).pipe(
        Effect.exit
      )
      assert(Exit.isFailure(exit))
      expect(Exit.causeOption(exit).pipe(Option.map((c) => String(c)))).toEqual(Option.some(expect.stringContaining("ECONNREFUSED")))
      const span = yield* spanNamed("provider/openai/gpt-4o")
      expect(span.status.code).toBe("ERROR")
      expect(span.attributes[Attributes.ErrorType]).toBe("UpstreamDown")
      const exception = span.events.find((e) => e.name === "exception")
      assert(exception !== undefined)
      expect(String(exception.attributes["exception.message"])).toContain("ECONNREFUSED")
      expect(span.attributes[Attributes.GenAiResponseFinishReasons]).toEqual(["error"])
    }).pipe(Effect.provide(Tracing.layer)))

  it.live("a non-streamed response body", () =>
    Effect.gen(function*() {
      const body = {
        id: "chatcmpl-1",
        object: "chat.completion",
        created: 1,
        model: "gpt-4o-2024",
        choices: [{ index: 0, message: { role: "assistant", content: "hi" }, finish_reason: "stop" }],
        usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 }
      }
      const result = yield* ProviderSpan.traced({ ...chatOptions, stream: false }, () => Effect.succeed(body))
      expect(result).toBe(body)
      const span = yield* spanNamed("provider/openai/gpt-4o")
      expect(json(span.attributes[Attributes.ChatTokenUsage])).toEqual({ input_tokens: 10, output_tokens: 5, total_tokens: 15 })
      expect(span.attributes[Attributes.GenAiRequestStream]).toBe(false)
      expect(span.attributes[Attributes.GenAiResponseModel]).toBe("gpt-4o-2024")
      expect(span.status.code).toBe("OK")
    }).pipe(Effect.provide(Tracing.layer)))

  it.live("chunk events when asked for, capped at maxChunkEvents", () =>
    Effect.gen(function*() {
      const bytes = fixture("openai-chat/text-usage.sse")
      yield* streamThrough({ ...chatOptions, maxChunkEvents: 3 }, bytes)
      const span = yield* spanNamed("provider/openai/gpt-4o")
      expect(span.events.map((e) => e.name)).toEqual(["mlflow.chunk.item.0", "mlflow.chunk.item.1", "mlflow.chunk.item.2"])
      const first = json(span.events[0]!.attributes[Attributes.ChunkValue])
      expect(first.object).toBe("chat.completion.chunk")
    }).pipe(Effect.provide(Tracing.layer)))

  it.live("the upstream gets the provider span's own traceparent; the span is a child of the gateway span", () =>
    Effect.gen(function*() {
      let sent = ""
      const caller = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
      yield* GatewaySpan.traced({ id: "e", name: "e", usageTracking: true }, { payload: {}, headers: { traceparent: caller } })(
        ProviderSpan.traced({ ...chatOptions, stream: false }, (span) =>
          Effect.sync(() => {
            sent = span.traceparent
            return {}
          }))
      )
      // The caller's trace holds the replayed copy; this is the gateway trace's own span.
      const provider = yield* spanNamed("provider/openai/gpt-4o", "0af7651916cd43dd8448eb211c80319c")
      const gateway = yield* Effect.flatMap(TraceStore, (s) => s.getTrace(provider.traceId)).pipe(
        Effect.map((t) => Option.getOrThrow(t).spans.find((s) => s.name === "gateway/e")!)
      )
      const parsed = Option.getOrThrow(TraceContext.parseTraceParent(sent))
      expect(parsed.traceId).toBe(provider.traceId)
      expect(parsed.parentId).toBe(provider.spanId)
      expect(sent).not.toContain("0af7651916cd43dd8448eb211c80319c")
      expect(provider.parentSpanId).toBe(gateway.spanId)
    }).pipe(Effect.provide(Tracing.layer)))
})
