/**
 * Which requests client tracing treats as provider calls (the one table derived from the dialect registry, plus
 * the user's matchers), the global switch, and that a tracing failure never fails the call.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Layer } from "effect"
import { readFileSync } from "node:fs"
import OpenAI from "openai"
import * as ClientTracing from "../../src/tracing/ClientTracing.js"
import * as Client from "../../src/tracing/internal/clientTracing.js"
import * as ClientFetch from "../../src/tracing/internal/clientTracingFetch.js"
import { cutsArbitrary, splitAt, utf8 } from "../support/chunking.js"
import * as Upstreams from "../support/upstreams.js"

const recognised = (method: string, url: string, matchers?: ReadonlyArray<ClientTracing.Matcher>) => {
  const found = Client.makeRecogniser(matchers)(method, new URL(url))
  return found === undefined
    ? undefined
    : { dialect: found.dialect.id, provider: found.provider, model: found.model, stream: found.stream }
}

describe("recognition", () => {
  it("OpenAI paths on any host and under any prefix (Azure, compatible servers, the gateway)", () => {
    expect(recognised("POST", "https://api.openai.com/v1/chat/completions")?.dialect).toBe("openai.chat")
    expect(recognised("POST", "https://x.openai.azure.com/openai/deployments/d1/chat/completions?api-version=2024-10-21")?.dialect)
      .toBe("openai.chat")
    expect(recognised("POST", "http://127.0.0.1:8080/gateway/openai/v1/chat/completions")?.dialect).toBe("openai.chat")
    expect(recognised("POST", "http://localhost:11434/v1/completions")?.dialect).toBe("openai.completions")
    expect(recognised("POST", "https://api.openai.com/v1/responses")?.dialect).toBe("openai.responses")
    expect(recognised("POST", "https://api.openai.com/v1/embeddings")?.dialect).toBe("openai.embeddings")
  })

  it("Anthropic keeps its version segment; OpenAI's threads messages are not Anthropic calls", () => {
    expect(recognised("POST", "https://api.anthropic.com/v1/messages")).toEqual({
      dialect: "anthropic.messages",
      provider: "anthropic",
      model: undefined,
      stream: undefined
    })
    expect(recognised("POST", "https://api.openai.com/v1/threads/t1/messages")).toBeUndefined()
    expect(recognised("POST", "https://api.anthropic.com/v1/messages/count_tokens")).toBeUndefined()
  })

  it("Gemini URL methods name the model and the streaming flag (Gemini API, tuned models, Vertex)", () => {
    expect(recognised("POST", "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse"))
      .toEqual({ dialect: "gemini.generateContent", provider: "gemini", model: "gemini-2.0-flash", stream: true })
    expect(recognised("POST", "https://generativelanguage.googleapis.com/v1beta/tunedModels/my-model:generateContent"))
      .toEqual({ dialect: "gemini.generateContent", provider: "gemini", model: "my-model", stream: false })
    expect(
      recognised("POST", "https://europe-west4-aiplatform.googleapis.com/v1/projects/p/locations/l/publishers/google/models/gemini-2.5-pro:generateContent")?.model
    ).toBe("gemini-2.5-pro")
    expect(recognised("POST", "https://generativelanguage.googleapis.com/v1beta/models/text-embedding-004:embedContent")?.dialect)
      .toBe("gemini.embedContent")
    expect(recognised("POST", "https://generativelanguage.googleapis.com/v1beta/models/e:batchEmbedContents")?.dialect)
      .toBe("gemini.batchEmbedContents")
    expect(recognised("POST", "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.0-flash:countTokens")).toBeUndefined()
  })

  it("only POST; other paths are not calls", () => {
    expect(recognised("GET", "https://api.openai.com/v1/chat/completions")).toBeUndefined()
    expect(recognised("POST", "https://api.openai.com/v1/files")).toBeUndefined()
    expect(recognised("POST", "https://api.openai.com/v1/chat/completions/x")).toBeUndefined()
  })

  it("the user's matchers come first, with their provider name", () => {
    const matchers: ReadonlyArray<ClientTracing.Matcher> = [
      { dialect: "openai.chat", provider: "my-proxy", test: (_method, url) => url.pathname === "/llm/chat" }
    ]
    expect(recognised("POST", "https://proxy.internal/llm/chat", matchers)).toEqual({
      dialect: "openai.chat",
      provider: "my-proxy",
      model: undefined,
      stream: undefined
    })
    expect(recognised("POST", "https://api.anthropic.com/v1/messages", matchers)?.dialect).toBe("anthropic.messages")
  })

  it("the switch: enabled: false, or EFFECT_LLM_TRACE_DISABLED=1/true/yes/on", () => {
    expect(Client.isEnabled(undefined, undefined)).toBe(true)
    expect(Client.isEnabled({ enabled: false }, undefined)).toBe(false)
    for (const value of ["1", "true", "TRUE", " yes ", "on"]) expect(Client.isEnabled(undefined, value)).toBe(false)
    for (const value of ["", "0", "false", "no"]) expect(Client.isEnabled(undefined, value)).toBe(true)
  })

  it("the request's credentials are masked, never recorded: headers and ?key=", () => {
    const url = new URL("https://generativelanguage.googleapis.com/v1beta/models/m:generateContent?key=AIza-query")
    const headers: Record<string, string> = { authorization: "Bearer sk-bearer", "x-goog-api-key": "AIza-header" }
    const facts = Client.factsOf(Client.recogniseBuiltIn("POST", url)!, url, "{\"contents\":[]}", (name) => headers[name])
    expect(facts.secrets).toEqual(["Bearer sk-bearer", "sk-bearer", "AIza-header", "AIza-query"])
    expect(facts.server).toEqual({ address: "generativelanguage.googleapis.com" })
    expect(facts.payload).toEqual({ contents: [] })
  })
})

describe("a tracing failure never fails the call", () => {
  it.scopedLive("a telemetry layer that fails to build: the SDK call goes through, untraced", () =>
    Effect.gen(function*() {
      const upstream = yield* Upstreams.start({})
      const fetch = ClientTracing.fetch({ telemetry: Layer.fail("no telemetry") })
      const openai = new OpenAI({ apiKey: "sk-x", baseURL: `${upstream.url}/faithful/v1`, maxRetries: 0, fetch })
      const completion = yield* Effect.promise(() =>
        openai.chat.completions.create({ model: "m", messages: [], stream: true }).then(async (stream) => {
          let text = ""
          for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? ""
          return text
        })
      )
      expect(completion).toBe("Hello world")
      expect(upstream.requests[0]!.headers.traceparent).toBeUndefined()
      yield* Effect.promise(() => fetch.shutdown())
    }))
})

describe("the traced fetch body", () => {
  const sse = utf8(readFileSync(new URL("../fixtures/openai-chat/text-usage.sse", import.meta.url), "utf8"))
  const url = new URL("http://127.0.0.1/v1/chat/completions")
  const recognised = Client.recogniseBuiltIn("POST", url)!

  /** The chunks through the traced body, read whole; the call's span (native tracer) once ended. */
  const through = (chunks: ReadonlyArray<Uint8Array>) =>
    Effect.gen(function*() {
      const traced = yield* Client.begin(recognised, Client.factsOf(recognised, url, "{\"model\":\"m\",\"stream\":true}", () => undefined), undefined)
      let ended = 0
      const span = traced.call.span
      const end = span.end.bind(span)
      span.end = (time, exit) => {
        ended++
        end(time, exit)
      }
      const source = new ReadableStream<Uint8Array>({
        start: (controller) => {
          for (const chunk of chunks) controller.enqueue(chunk)
          controller.close()
        }
      })
      const response = new Response(source, { headers: { "content-type": "text/event-stream" } })
      traced.call.respond(200, "text/event-stream")
      const received = new Uint8Array(yield* Effect.promise(() => ClientFetch.observed(response, traced, undefined).arrayBuffer()))
      traced.close(Exit.void)
      return { received, ended, status: span.status, attributes: span.attributes }
    })

  it.effect.prop("any chunking: the caller's bytes are the upstream's, the span ends once with the same usage", [cutsArbitrary(sse.length)], ([cuts]) =>
    Effect.gen(function*() {
      const { attributes, ended, received, status } = yield* through(splitAt(sse, cuts))
      expect(Buffer.from(received).equals(Buffer.from(sse))).toBe(true)
      expect(ended).toBe(1)
      expect(status._tag === "Ended" && Exit.isSuccess(status.exit)).toBe(true)
      expect(attributes.get("gen_ai.usage.input_tokens")).toBeGreaterThan(0)
      expect(attributes.get("mlflow.spanOutputs")).toBe((yield* through([sse])).attributes.get("mlflow.spanOutputs"))
    }), { fastCheck: { numRuns: 60 } })
})
