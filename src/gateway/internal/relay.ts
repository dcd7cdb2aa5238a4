/**
 * The upstream body on its way to the client, written straight to the Node response: the bytes pass unchanged
 * (or through `rewrite`, e.g. the usage strip), each chunk handed to the trace's sink on the way, synchronously,
 * with backpressure. Node streams, not an Effect Stream, and no `stream.pipeline`: running an Effect Stream costs
 * more per request than a whole proxy hop does, and a pipeline allocates an abort controller (and throws a
 * DOMException at it) per response. The lifecycle stays Effect's: `pump` is one interruptible Effect, and the
 * request scope's finaliser reads what the sink saw.
 *
 * - upstream failure mid-body (reset, idle timeout): the sink fails and the client's connection is broken — a
 *   truncated answer must not look complete at the HTTP level;
 * - the client goes away: the request fiber is interrupted, which destroys the upstream body (aborting the
 *   request); the sink sees neither end nor failure — a cancellation;
 * - an encoded body (`content-encoding` gzip, deflate, br) is forwarded as is (never rewritten) and decoded for the
 *   sink only.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import type { ServerResponse } from "node:http"
import type { Readable } from "node:stream"
import * as Zlib from "node:zlib"

/** Where the traced copy of the body goes. @internal */
export interface Sink {
  readonly feed: (bytes: Uint8Array) => void
  readonly end: () => void
  readonly fail: (error: unknown) => void
}

/** @internal */
export interface Options {
  readonly sink?: Sink | undefined
  /** Rewrites the client's bytes (whole blocks: `feed` may hold bytes back until `end`); a plain body only. */
  readonly rewrite?: { readonly feed: (bytes: Uint8Array) => Array<Uint8Array>; readonly end: () => Array<Uint8Array> } | undefined
  /** The upstream's `content-encoding`. */
  readonly encoding?: string | undefined
  /** Wraps an upstream failure (for `error.type`): the body broke off, or it could not be decoded. */
  readonly toError: (cause: unknown, stage: "body" | "decoding") => unknown
}

/** Whether a `content-encoding` header leaves the bytes as they are (absent, empty or `identity`). @internal */
export const isIdentity = (encoding: string | undefined): boolean =>
  encoding === undefined || encoding.trim() === "" || encoding.trim().toLowerCase() === "identity"

const decoderFor = (encoding: string | undefined): Zlib.Gunzip | Zlib.Inflate | Zlib.BrotliDecompress | undefined => {
  switch (encoding?.trim().toLowerCase()) {
    case "gzip":
    case "x-gzip":
      return Zlib.createGunzip()
    case "deflate":
      return Zlib.createInflate()
    case "br":
      return Zlib.createBrotliDecompress()
    default:
      return undefined
  }
}

/**
 * The sink behind a decoder when the body is encoded: bytes are decoded on the side; `finish` ends the sink once
 * everything was decoded, then calls `done`.
 */
const decoded = (
  sink: Sink,
  encoding: string | undefined,
  toError: Options["toError"]
): { readonly sink: Sink; readonly finish: (done: () => void) => void } => {
  const decoder = decoderFor(encoding)
  if (decoder === undefined) {
    return {
      sink,
      finish: (done) => {
        sink.end()
        done()
      }
    }
  }
  let failed = false
  decoder.on("data", (bytes: Buffer) => sink.feed(bytes))
  decoder.on("error", (error) => {
    // A body the client can still decode (or not) as it likes: only the trace loses it.
    failed = true
    sink.fail(toError(error, "decoding"))
  })
  return {
    // After a decoding error, writing more would only make the destroyed decoder build an error per chunk.
    sink: {
      feed: (bytes) => {
        if (!failed) decoder.write(bytes)
      },
      end: () => {},
      fail: (error) => sink.fail(error)
    },
    finish: (done) => {
      if (failed) return done()
      decoder.once("end", () => {
        sink.end()
        done()
      })
      decoder.once("error", () => done())
      decoder.end()
    }
  }
}

/**
 * Writes `source` to the client's `response` (whose head is already written) and completes when the response
 * finished — or, after an upstream failure, once the client's connection was broken. Interrupted (the client
 * went away), it destroys `source`, which aborts the upstream request.
 *
 * @internal
 */
export const pump = (source: Readable, response: ServerResponse, options: Options): Effect.Effect<void> =>
  Effect.async<void>((resume) => {
    const traced = options.sink === undefined ? undefined : decoded(options.sink, options.encoding, options.toError)
    // Only a plain body is rewritten (the gateway asks for one when it rewrites): an encoded body passes as it came,
    // never cut at byte patterns of compressed data.
    const rewrite = isIdentity(options.encoding) ? options.rewrite : undefined
    let settled = false
    const write = (bytes: Uint8Array) => {
      if (!response.write(bytes)) source.pause()
    }
    const onDrain = () => source.resume()
    const cleanup = () => {
      settled = true
      source.off("data", onData)
      source.off("end", onEnd)
      source.off("error", onError)
      response.off("drain", onDrain)
    }
    function onData(chunk: Buffer) {
      traced?.sink.feed(chunk)
      if (rewrite === undefined) write(chunk)
      else for (const block of rewrite.feed(chunk)) write(block)
    }
    function onEnd() {
      cleanup()
      if (rewrite !== undefined) for (const block of rewrite.end()) write(block)
      const finish = () => response.end(() => resume(Effect.void))
      if (traced === undefined) finish()
      else traced.finish(finish)
    }
    function onError(cause: unknown) {
      if (settled) return
      cleanup()
      const error = options.toError(cause, "body")
      traced?.sink.fail(error)
      // The client must see the failure: a broken connection, never a clean end of a truncated answer.
      response.destroy()
      response.end()
      resume(Effect.void)
    }
    source.on("data", onData)
    source.on("end", onEnd)
    source.on("error", onError)
    response.on("drain", onDrain)
    return Effect.sync(() => {
      if (settled) return
      cleanup()
      if (!source.readableEnded) source.destroy()
      // The client is gone: mark the response ended, so that nothing tries to write another head to it.
      response.destroy()
      response.end()
    })
  })
