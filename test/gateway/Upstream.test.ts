import { describe, expect, it } from "@effect/vitest"
import * as Upstream from "../../src/gateway/Upstream.js"

describe("Upstream headers", () => {
  it("forwards the client's ordinary headers and drops transport, credentials, cookies and trace context", () => {
    const forwarded = Upstream.forwardHeaders({
      "Content-Type": "application/json",
      "User-Agent": "OpenAI/JS 6.49.0",
      "anthropic-version": "2023-06-01",
      "x-stainless-retry-count": "0",
      "Idempotency-Key": "abc",
      Host: "gateway.local",
      "Content-Length": "42",
      Connection: "keep-alive, X-Hop",
      "X-Hop": "dropped because connection names it",
      "Transfer-Encoding": "chunked",
      "Accept-Encoding": "gzip",
      Authorization: "Bearer client-secret",
      "X-Api-Key": "client-secret",
      "api-key": "client-secret",
      "x-goog-api-key": "client-secret",
      Cookie: "session=client-secret",
      "x-session-token": "client-secret",
      "X-Custom-Secret": "client-secret",
      "x-password": "client-secret",
      "X-Passwd": "client-secret",
      "x-credential": "client-secret",
      "x-jwt": "client-secret",
      "x-session": "client-secret",
      "x-csrf-token": "client-secret",
      "X-Signature": "client-secret",
      traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
      tracestate: "a=b",
      "x-multi": ["a", "b"]
    })
    expect(forwarded).toEqual({
      "content-type": "application/json",
      "user-agent": "OpenAI/JS 6.49.0",
      "anthropic-version": "2023-06-01",
      "x-stainless-retry-count": "0",
      "idempotency-key": "abc",
      // The client's own preference: an encoded reply is relayed as is (and decoded for the trace only).
      "accept-encoding": "gzip",
      "x-multi": "a, b"
    })
  })

  it("replies keep content headers and their encoding, but not length, cookies or hop-by-hop headers", () => {
    expect(Upstream.replyHeaders({
      "content-type": "text/event-stream",
      "Content-Length": "10",
      "content-encoding": "gzip",
      "set-cookie": "a=b",
      connection: "close",
      "x-request-id": "req_1",
      "openai-processing-ms": "12"
    })).toEqual({ "content-type": "text/event-stream", "content-encoding": "gzip", "x-request-id": "req_1", "openai-processing-ms": "12" })
  })
})
