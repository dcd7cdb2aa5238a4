/**
 * The upstream body on its way to the client, as a Node stream: the bytes pass unchanged (or through `rewrite`,
 * e.g. the usage strip), each chunk handed to the trace's sink on the way, synchronously. Node streams, not an
 * Effect Stream: running an Effect Stream costs more per request than a whole proxy hop does, and this is the
 * gateway's hot path. The lifecycle stays Effect's: the request scope's finaliser reads what the sink saw.
 *
 * - upstream failure mid-body (reset, idle timeout): the sink fails and `onFailure` breaks the client's
 *   connection — a truncated answer must not look complete at the HTTP level;
 * - the client goes away: the platform destroys this stream, which destroys the upstream body (aborting the
 *   request); the sink sees neither end nor failure — a cancellation;
 * - an encoded body (`content-encoding` gzip, deflate, br) is forwarded as is and decoded for the sink only.
 *
 * @internal
 */
import type { Readable } from "node:stream"
import { Transform } from "node:stream"
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
  /** Rewrites the client's bytes (whole blocks: `feed` may hold bytes back until `flush`). */
  readonly rewrite?: { readonly feed: (bytes: Uint8Array) => Array<Uint8Array>; readonly end: () => Array<Uint8Array> } | undefined
  /** The upstream's `content-encoding`. */
  readonly encoding?: string | undefined
  /** Wraps an upstream failure (for `error.type`). */
  readonly toError: (cause: unknown) => unknown
  /** Breaks the client's connection. */
  readonly onFailure: (error: unknown) => void
}

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
const decoded = (sink: Sink, encoding: string | undefined): { readonly sink: Sink; readonly finish: (done: () => void) => void } => {
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
    sink.fail(error)
  })
  return {
    sink: { feed: (bytes) => decoder.write(bytes), end: () => {}, fail: sink.fail },
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

/** The client's copy of `source`. @internal */
export const relay = (source: Readable, options: Options): Readable => {
  const traced = options.sink === undefined ? undefined : decoded(options.sink, options.encoding)
  const rewrite = options.rewrite
  // Once the client is gone, the upstream body is destroyed on purpose: its errors are not failures.
  let settled = false
  const out = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      traced?.sink.feed(chunk)
      if (rewrite === undefined) return callback(null, chunk)
      for (const block of rewrite.feed(chunk)) this.push(block)
      callback()
    },
    flush(callback) {
      if (rewrite !== undefined) for (const block of rewrite.end()) this.push(block)
      if (traced === undefined) return callback()
      traced.finish(() => callback())
    }
  })
  source.on("error", (cause) => {
    if (settled) return
    settled = true
    const error = options.toError(cause)
    traced?.sink.fail(error)
    options.onFailure(error)
    out.destroy(error instanceof Error ? error : new Error(String(cause)))
  })
  // The client went away (or the response ended early): stop the upstream too.
  out.on("close", () => {
    if (settled || source.readableEnded) return
    settled = true
    if (!source.destroyed) source.destroy()
  })
  source.pipe(out)
  return out
}
