import { assert, describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { readFileSync } from "node:fs"
import { request as httpRequest } from "node:http"
import * as Attributes from "../../src/tracing/Attributes.js"
import { withGateway } from "../support/gateway.js"
import { parsePrometheus, samplesWith } from "../support/metrics.js"
import * as Paced from "../support/pacedUpstream.js"
import * as Upstreams from "../support/upstreams.js"

const fixture = (path: string) => new Uint8Array(readFileSync(new URL(`../fixtures/${path}`, import.meta.url)))
const replies: Record<string, Upstreams.Reply> = {
  "messages-stream": { body: fixture("anthropic/tool-use.sse") },
  "gemini-stream": { body: fixture("gemini/function-call-signature.sse") },
  "rate-limited": { status: 429, contentType: "application/json", body: JSON.stringify({ error: { message: "slow down", type: "rate_limit_error" } }) }
}

const post = (url: string, body: unknown) =>
  Effect.promise(() =>
    fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) }).then((r) => r.text())
  )

/** A streamed request whose client goes away after the first bytes. */
const abandon = (url: string, body: unknown) =>
  Effect.async<void>((resume) => {
    const req = httpRequest(url, { method: "POST", headers: { "content-type": "application/json" } }, (res) => {
      res.once("data", () => {
        req.destroy()
        resume(Effect.void)
      })
    })
    req.end(JSON.stringify(body))
  })

/** Paced chat chunks: delays before each event are known lower bounds of the timings the metrics record. */
const chunk = (fields: object) =>
  JSON.stringify({ id: "chatcmpl-paced", object: "chat.completion.chunk", created: 1, model: "gpt-paced", ...fields })
const pacedEvents = [
  chunk({ choices: [{ index: 0, delta: { role: "assistant", content: "a" }, finish_reason: null }] }),
  chunk({ choices: [{ index: 0, delta: { content: "b" }, finish_reason: null }] }),
  chunk({ choices: [{ index: 0, delta: {}, finish_reason: "stop" }] }),
  chunk({ choices: [], usage: { prompt_tokens: 7, completion_tokens: 2, total_tokens: 9 } }),
  "[DONE]"
]
const pacedDelays = [120, 60, 60, 0, 0]

const messages = [{ role: "user", content: "What is the weather in Paris?" }]

describe("Gateway metrics", () => {
  it.live("GET /metrics after calls of every kind: the GenAI histograms with the right labels and values", () =>
    Effect.scoped(Effect.gen(function*() {
      const paced = yield* Paced.start(pacedEvents, pacedDelays)
      const key = { apiKeyEnv: "TEST_UPSTREAM_KEY" }
      const config = (up: Upstreams.Upstream) => ({
        endpoints: [
          { name: "paced", provider: { kind: "openai", model: "gpt-paced", baseUrl: `${paced.url}/v1`, ...key } },
          { name: "claude", provider: { kind: "anthropic", model: "claude-m", baseUrl: `${up.url}/replay/messages-stream/v1`, ...key } },
          { name: "gem", provider: { kind: "gemini", model: "gemini-m", baseUrl: `${up.url}/replay/gemini-stream/v1beta`, ...key } },
          { name: "limited", provider: { kind: "openai", model: "gpt-limited", baseUrl: `${up.url}/replay/rate-limited/v1`, ...key } },
          { name: "slow", provider: { kind: "openai", model: "gpt-slow", baseUrl: `${up.url}/slow/v1`, ...key } }
        ]
      })
      yield* withGateway(config, (g) =>
        Effect.gen(function*() {
          yield* post(`${g.url}/gateway/openai/v1/chat/completions`, { model: "paced", stream: true, messages })
          yield* post(`${g.url}/gateway/anthropic/v1/messages`, { model: "claude", stream: true, max_tokens: 10, messages })
          yield* post(`${g.url}/gateway/gemini/v1beta/models/gem:streamGenerateContent?alt=sse`, { contents: [{ role: "user", parts: [{ text: "hi" }] }] })
          yield* post(`${g.url}/gateway/openai/v1/chat/completions`, { model: "limited", stream: true, messages })
          yield* abandon(`${g.url}/gateway/openai/v1/chat/completions`, { model: "slow", stream: true, messages })
          // The cancelled call is recorded when the gateway notices the client left: wait for it.
          let text = ""
          for (let i = 0; i < 300; i++) {
            text = yield* Effect.promise(() => fetch(`${g.url}/metrics`).then((r) => r.text()))
            if (text.includes('error_type="cancelled"')) break
            yield* Effect.sleep("10 millis")
          }
          const metrics = parsePrometheus(text)
          const duration = "gen_ai_client_operation_duration_count"
          const base = (provider: string, model: string) => ({ gen_ai_provider_name: provider, gen_ai_request_model: model })

          // One call each, labelled by provider and model as sent; failures carry error.type.
          for (const [provider, model] of [["openai", "gpt-paced"], ["anthropic", "claude-m"], ["gcp.gemini", "gemini-m"]] as const) {
            const [sample] = samplesWith(metrics, duration, base(provider, model))
            assert(sample !== undefined, `${provider}/${model}`)
            expect(sample.value).toBe(1)
            expect(sample.labels["error_type"]).toBeUndefined()
          }
          expect(samplesWith(metrics, duration, { ...base("openai", "gpt-limited"), error_type: "429" })[0]?.value).toBe(1)
          expect(samplesWith(metrics, duration, { ...base("openai", "gpt-slow"), error_type: "cancelled" })[0]?.value).toBe(1)
          expect(samplesWith(metrics, duration, base("openai", "gpt-paced"))[0]!.labels).toMatchObject({
            gen_ai_operation_name: "chat",
            gen_ai_response_model: "gpt-paced",
            server_address: "127.0.0.1"
          })

          // Token sums equal the usage the calls reported.
          const tokens = (model: string, type: string) =>
            samplesWith(metrics, "gen_ai_client_token_usage_sum", { gen_ai_request_model: model, gen_ai_token_type: type })[0]?.value
          expect([tokens("gpt-paced", "input"), tokens("gpt-paced", "output")]).toEqual([7, 2])

          // Timings: the first chunk comes no earlier than the upstream's first pause, the last no earlier than all of
          // them (a pause can stretch on the way, never shrink; 1 ms of timer granularity is allowed).
          const ttft = samplesWith(metrics, "gen_ai_client_operation_time_to_first_chunk_sum", base("openai", "gpt-paced"))[0]!
          expect(ttft.value).toBeGreaterThanOrEqual(0.119)
          const perChunk = samplesWith(metrics, "gen_ai_client_operation_time_per_output_chunk_count", base("openai", "gpt-paced"))[0]!
          expect(perChunk.value).toBe(pacedEvents.length - 1)
          const perChunkSum = samplesWith(metrics, "gen_ai_client_operation_time_per_output_chunk_sum", base("openai", "gpt-paced"))[0]!
          expect(ttft.value + perChunkSum.value).toBeGreaterThanOrEqual(0.238)
          // Known durations land in their buckets: the paced call took ≥ 0.24 s, so nothing below 0.16 s.
          const under = samplesWith(metrics, "gen_ai_client_operation_duration_bucket", { ...base("openai", "gpt-paced"), le: "0.16" })[0]
          expect(under?.value).toBe(0)

          // The gateway's own requests, by route pattern — never the raw path.
          const routes = samplesWith(metrics, "http_server_request_duration_count", {}).map((s) => s.labels[Attributes.HttpRoute.replaceAll(".", "_")])
          expect(routes).toContain("/gateway/gemini/v1beta/models/:target")
          expect(routes.some((r) => r?.includes("gem:"))).toBe(false)
        }), replies)
    })))
})
