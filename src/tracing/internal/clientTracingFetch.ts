/**
 * Client tracing as a `fetch` for the official SDKs, usable without Effect: spans are made by the runtime of a
 * Telemetry layer (built on the first recognised call, released by `shutdown` or when the process is about to
 * exit), as children of the active OpenTelemetry context when there is one. The response's body is a stream
 * that hands each chunk to the caller unaltered and to the provider call on the way.
 *
 * @internal
 */
import * as OtelTracer from "@effect/opentelemetry/Tracer"
import { context as otelContext, trace as otelTrace } from "@opentelemetry/api"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type * as Layer from "effect/Layer"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Runtime from "effect/Runtime"
import type * as Tracer from "effect/Tracer"
import type * as ClientTracing from "../ClientTracing.js"
import * as Telemetry from "../Telemetry.js"
import * as Client from "./clientTracing.js"

type Fetch = typeof globalThis.fetch

/** The request's method, URL, headers and in-memory body, whatever form `fetch` was given them in. */
interface Parts {
  readonly method: string
  readonly url: URL
  readonly headers: Headers
  readonly body: string | Uint8Array | undefined
}

const inMemory = (body: unknown): string | Uint8Array | undefined => {
  if (typeof body === "string") return body
  if (body instanceof Uint8Array) return body
  if (body instanceof ArrayBuffer) return new Uint8Array(body)
  if (ArrayBuffer.isView(body)) return new Uint8Array(body.buffer, body.byteOffset, body.byteLength)
  return undefined
}

const partsOf = (input: string | URL | Request, init: RequestInit | undefined): Parts | undefined => {
  try {
    const isRequest = typeof input === "object" && !(input instanceof URL)
    const url = new URL(isRequest ? input.url : String(input))
    const method = init?.method ?? (isRequest ? input.method : "GET")
    const headers = new Headers(init?.headers ?? (isRequest ? input.headers : undefined))
    return { method, url, headers, body: inMemory(init?.body) }
  } catch {
    return undefined
  }
}

/** The active OpenTelemetry span's context, as the parent of the provider span. */
const otelParent = (): Tracer.ExternalSpan | undefined => {
  const active = otelTrace.getSpan(otelContext.active())?.spanContext()
  if (active === undefined || !otelTrace.isSpanContextValid(active)) return undefined
  return OtelTracer.makeExternalSpan({
    traceId: active.traceId,
    spanId: active.spanId,
    traceFlags: active.traceFlags,
    traceState: active.traceState
  })
}

const isAbort = (error: unknown, signal: AbortSignal | null | undefined): boolean =>
  signal?.aborted === true || (error instanceof Error && error.name === "AbortError")

/** The request failed or its body broke: an abort (the caller's signal) is a cancellation, anything else an error. */
const ended = (traced: Client.Traced, error: unknown, signal: AbortSignal | null | undefined): void => {
  if (isAbort(error, signal)) return traced.close(Client.cancelledExit)
  traced.call.fail(error)
  traced.close(Exit.fail(error))
}

/** The response, its body streamed through the call; the span ends once, with the body. @internal */
export const observed = (response: Response, traced: Client.Traced, signal: AbortSignal | null | undefined): Response => {
  const source = response.body
  if (source === null) {
    traced.call.end()
    traced.close(Exit.void)
    return response
  }
  const reader = source.getReader()
  const body = new ReadableStream<Uint8Array>({
    pull: async (controller) => {
      let next: Awaited<ReturnType<typeof reader.read>>
      try {
        next = await reader.read()
      } catch (error) {
        ended(traced, error, signal)
        throw error
      }
      if (next.done) {
        traced.call.end()
        traced.close(Exit.void)
        controller.close()
        return
      }
      try {
        traced.call.feed(next.value)
      } catch {
        // Tracing never alters the body.
      }
      controller.enqueue(next.value)
    },
    cancel: (reason) => {
      Client.stoppedEarly(traced, Exit.void)
      return reader.cancel(reason)
    }
  }, { highWaterMark: 0 })
  const wrapped = new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers })
  // What `new Response` cannot take: where the response came from.
  Object.defineProperties(wrapped, {
    url: { value: response.url },
    redirected: { value: response.redirected },
    type: { value: response.type }
  })
  return wrapped
}

/** @internal */
export interface TracedFetch {
  (input: string | URL | Request, init?: RequestInit): Promise<Response>
  readonly shutdown: () => Promise<void>
}

/** @internal */
export const make = (options: ClientTracing.FetchOptions | undefined, env: string | undefined): TracedFetch => {
  const base: Fetch = options?.fetch ?? globalThis.fetch
  const enabled = Client.isEnabled(options, env)
  const recognise = Client.makeRecogniser(options?.matchers)
  const layer: Layer.Layer<never, unknown> = options?.telemetry ?? Telemetry.layerFromEnv()
  let managed: ManagedRuntime.ManagedRuntime<never, unknown> | undefined
  let runtime: Promise<Runtime.Runtime<never> | undefined> | undefined

  /** The Telemetry runtime, built once; undefined when it failed to build (then calls are untraced). */
  const getRuntime = (): Promise<Runtime.Runtime<never> | undefined> => {
    if (runtime !== undefined) return runtime
    managed = ManagedRuntime.make(layer)
    process.once("beforeExit", flushOnExit)
    runtime = managed.runtime().then((r) => r, () => undefined)
    return runtime
  }

  // Spans still queued for export are flushed when the process is about to exit.
  const flushOnExit = () => void shutdown()

  const shutdown = async (): Promise<void> => {
    process.removeListener("beforeExit", flushOnExit)
    if (managed === undefined) return
    const current = managed
    managed = undefined
    runtime = Promise.resolve(undefined)
    await current.dispose().catch(() => undefined)
  }

  const traced = async (parts: Parts, recognised: Client.Recognised, input: string | URL | Request, init: RequestInit | undefined) => {
    const rt = await getRuntime()
    let call: Client.Traced | undefined
    if (rt !== undefined) {
      try {
        const facts = Client.factsOf(recognised, parts.url, parts.body, (name) => parts.headers.get(name) ?? undefined)
        const parent = otelParent()
        const begin = Client.begin(recognised, facts, options)
        call = Runtime.runSync(rt)(parent === undefined ? begin : Effect.withParentSpan(begin, parent))
      } catch {
        call = undefined
      }
    }
    if (call === undefined) return base(input, init)
    const headers = new Headers(parts.headers)
    headers.set("traceparent", call.call.traceparent)
    headers.delete("b3")
    const signal = init?.signal ?? (input instanceof Request ? input.signal : undefined)
    let response: Response
    try {
      response = await base(input instanceof Request ? new Request(input, { headers }) : input, { ...init, headers })
    } catch (error) {
      ended(call, error, signal)
      throw error
    }
    try {
      call.call.respond(response.status, response.headers.get("content-type") ?? undefined)
      return observed(response, call, signal)
    } catch {
      call.close(Exit.void)
      return response
    }
  }

  const tracedFetch = (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    if (!enabled) return base(input, init)
    const parts = partsOf(input, init)
    const recognised = parts === undefined ? undefined : recognise(parts.method, parts.url)
    if (parts === undefined || recognised === undefined) return base(input, init)
    return traced(parts, recognised, input, init)
  }
  return Object.assign(tracedFetch, { shutdown })
}
