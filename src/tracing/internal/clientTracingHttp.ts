/**
 * Client tracing over `@effect/platform`'s `HttpClient`: a client that, for each recognised provider call, starts
 * the provider span (a child of the current span), sends ITS `traceparent` upstream (no second `http.client` span),
 * and hands back the response with its body observed as the caller reads it — stream, text, JSON or bytes — the
 * same bytes, unaltered. The span ends when the body ends, fails or is abandoned; other requests pass untouched.
 *
 * @internal
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as HttpIncomingMessage from "@effect/platform/HttpIncomingMessage"
import * as UrlParams from "@effect/platform/UrlParams"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as FiberRef from "effect/FiberRef"
import * as Inspectable from "effect/Inspectable"
import * as Stream from "effect/Stream"
import * as ProviderSpan from "../ProviderSpan.js"
import type * as ClientTracing from "../ClientTracing.js"
import * as Client from "./clientTracing.js"

const utf8 = new TextEncoder()

/** The request body's bytes when it is held in memory (what `HttpBody.json`/`text` make). */
const bodyOf = (request: HttpClientRequest.HttpClientRequest): string | Uint8Array | undefined => {
  const body = request.body
  if (body._tag === "Uint8Array") return body.body
  if (body._tag === "Raw" && (typeof body.body === "string" || body.body instanceof Uint8Array)) return body.body
  return undefined
}

/** A response whose body accessors feed the provider call as the caller reads them. */
class TracedResponse extends Inspectable.Class implements HttpClientResponse.HttpClientResponse {
  readonly [HttpClientResponse.TypeId]: HttpClientResponse.TypeId = HttpClientResponse.TypeId
  readonly [HttpIncomingMessage.TypeId]: HttpIncomingMessage.TypeId = HttpIncomingMessage.TypeId
  private read = false

  constructor(readonly original: HttpClientResponse.HttpClientResponse, readonly traced: Client.Traced) {
    super()
    Client.unread.register(this, traced, this)
  }

  private touch(): void {
    if (this.read) return
    this.read = true
    Client.unread.unregister(this)
  }

  /** A whole-body read: on success its bytes are fed and the body ended; the span ends with the read's exit. */
  private whole<A>(effect: Effect.Effect<A, HttpClientError.ResponseError>, bytes: (a: A) => Uint8Array | undefined) {
    return Effect.suspend(() => {
      this.touch()
      return Effect.onExit(effect, (exit) =>
        Effect.sync(() => {
          if (Exit.isSuccess(exit)) {
            try {
              const chunk = bytes(exit.value)
              if (chunk !== undefined) this.traced.call.feed(chunk)
              this.traced.call.end()
            } catch {
              // Tracing never fails the read.
            }
          }
          this.traced.close(exit)
        }))
    })
  }

  get request() {
    return this.original.request
  }
  get status() {
    return this.original.status
  }
  get headers() {
    return this.original.headers
  }
  get cookies() {
    return this.original.cookies
  }
  get remoteAddress() {
    return this.original.remoteAddress
  }
  get text() {
    return this.whole(this.original.text, (text) => utf8.encode(text))
  }
  get arrayBuffer() {
    return this.whole(this.original.arrayBuffer, (buffer) => new Uint8Array(buffer))
  }
  // Bodies that are no provider API's: the span ends with the read, the body unrecorded.
  get formData() {
    return this.whole(this.original.formData, () => undefined)
  }
  get urlParamsBody() {
    return this.whole(this.original.urlParamsBody, () => undefined)
  }
  /** As `@effect/platform` parses it (empty → null), over the traced text. */
  get json(): Effect.Effect<unknown, HttpClientError.ResponseError> {
    return Effect.tryMap(this.text, {
      try: (text) => text === "" ? null : JSON.parse(text) as unknown,
      catch: (cause) =>
        new HttpClientError.ResponseError({ request: this.request, response: this, reason: "Decode", cause })
    })
  }
  get stream(): Stream.Stream<Uint8Array, HttpClientError.ResponseError> {
    return Stream.suspend(() => {
      this.touch()
      return ProviderSpan.observeBody(this.traced.call, this.original.stream).pipe(
        Stream.ensuringWith((exit) => Effect.sync(() => Client.stoppedEarly(this.traced, exit)))
      )
    })
  }
  toJSON(): unknown {
    return this.original.toJSON()
  }
}

/** One recognised call, traced: the span opens before the request and closes with its body. */
const tracedExecute = (
  self: HttpClient.HttpClient,
  request: HttpClientRequest.HttpClientRequest,
  url: URL,
  recognised: Client.Recognised,
  options: ClientTracing.Options | undefined
): Effect.Effect<HttpClientResponse.HttpClientResponse, HttpClientError.HttpClientError> =>
  Effect.uninterruptibleMask((restore) =>
    Effect.gen(function*() {
      const facts = Client.factsOf(recognised, url, bodyOf(request), (name) => request.headers[name])
      const started = yield* Effect.exit(Client.begin(recognised, facts, options))
      // A tracing failure never fails the call: untraced.
      if (Exit.isFailure(started)) return yield* restore(self.execute(request))
      const traced = started.value
      const outgoing = HttpClientRequest.setHeader(request, "traceparent", traced.call.traceparent)
      // The provider span is the call's span: no `http.client` span, and no second trace context upstream.
      const exit = yield* Effect.exit(
        restore(Effect.locally(self.execute(outgoing), HttpClient.currentTracerDisabledWhen, () => true))
      )
      if (Exit.isFailure(exit)) {
        traced.close(exit)
        return yield* exit
      }
      const response = exit.value
      traced.call.respond(response.status, response.headers["content-type"])
      return new TracedResponse(response, traced)
    })
  )

/** @internal */
export const withTracing = (
  self: HttpClient.HttpClient,
  options: ClientTracing.Options | undefined,
  env: string | undefined
): HttpClient.HttpClient => {
  if (!Client.isEnabled(options, env)) return self
  const recognise = Client.makeRecogniser(options?.matchers)
  return HttpClient.makeWith<never, never, HttpClientError.HttpClientError, never>(
    (effect) =>
      Effect.flatMap(effect, (request) =>
        Effect.flatMap(FiberRef.get(FiberRef.currentTracerEnabled), (tracing) => {
          if (!tracing) return self.execute(request)
          const url = UrlParams.makeUrl(request.url, request.urlParams, request.hash)
          const recognised = Either.isRight(url) ? recognise(request.method, url.right) : undefined
          return recognised === undefined || Either.isLeft(url)
            ? self.execute(request)
            : tracedExecute(self, request, url.right, recognised, options)
        })),
    Effect.succeed
  )
}
