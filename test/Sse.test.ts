import { assert, describe, expect, it } from "@effect/vitest"
import { Chunk, Effect, Exit, FastCheck, Fiber, Option, Ref, Stream } from "effect"
import { readFileSync } from "node:fs"
import * as Sse from "../src/Sse.js"
import { byteByByte, cutsArbitrary, everyTwoWaySplit, splitAt, utf8 } from "./support/chunking.js"
import { reference } from "./support/referenceSse.js"

interface Vector {
  readonly name: string
  readonly input: string
  readonly inputHex?: string
  readonly chunks?: ReadonlyArray<string>
  readonly events: ReadonlyArray<{ event: string; data: string; id: string; retry?: number }>
  readonly eventsLenientEof?: ReadonlyArray<{ event: string; data: string; id: string; retry?: number }>
  readonly lastEventId: string
  readonly retry?: number
}

const vectors: ReadonlyArray<Vector> = JSON.parse(readFileSync(new URL("./sse-vectors.json", import.meta.url), "utf8"))

const inputBytes = (v: Vector): Uint8Array =>
  v.inputHex !== undefined ? Uint8Array.from(Buffer.from(v.inputHex, "hex")) : utf8(v.input)

const normalise = (events: ReadonlyArray<{ event: string; data: string; id: string; retry?: number | undefined }>) =>
  events.map((e) => ({ event: e.event, data: e.data, id: e.id, retry: e.retry }))

/** Runs the pure parser over the given chunks. */
const parseChunks = (chunks: ReadonlyArray<Uint8Array>, options?: Sse.DecodeOptions) => {
  const parser = Sse.makeParser(options)
  const events = chunks.flatMap((c) => parser.feed(c))
  events.push(...parser.end())
  return { events, parser }
}

/** Runs `Sse.decode` through an Effect Stream, one stream chunk per byte chunk. */
const decodeChunks = (chunks: ReadonlyArray<Uint8Array>, options?: Sse.DecodeOptions) =>
  Stream.fromChunks(...chunks.map(Chunk.of)).pipe(Sse.decode(options), Stream.runCollect, Effect.map(Chunk.toArray))

const chunkingsOf = (v: Vector, bytes: Uint8Array): Array<Array<Uint8Array>> => [
  [bytes],
  byteByByte(bytes),
  ...everyTwoWaySplit(bytes),
  ...(v.chunks !== undefined ? [v.chunks.map(utf8)] : [])
]

describe("Sse vectors (test/sse-vectors.json)", () => {
  it("has the conformance set", () => {
    expect(vectors.length).toBeGreaterThanOrEqual(79)
  })

  for (const v of vectors) {
    const bytes = inputBytes(v)
    const modes = [
      { name: "spec EOF", lenient: false, expected: v.events },
      { name: "lenient EOF", lenient: true, expected: v.eventsLenientEof ?? v.events }
    ]
    for (const mode of modes) {
      it(`${v.name} — ${mode.name}, pure parser, every chunking`, () => {
        for (const chunks of chunkingsOf(v, bytes)) {
          const { events, parser } = parseChunks(chunks, { dispatchIncompleteAtEnd: mode.lenient })
          expect(normalise(events), `chunks: ${JSON.stringify(chunks.map((c) => c.length))}`).toEqual(
            normalise(mode.expected)
          )
          if (!mode.lenient) {
            expect(parser.lastEventId()).toBe(v.lastEventId)
            expect(parser.reconnectionTime()).toBe(v.retry)
          }
        }
      })

      it.effect(`${v.name} — ${mode.name}, Sse.decode stream, every chunking`, () =>
        Effect.gen(function*() {
          for (const chunks of chunkingsOf(v, bytes)) {
            const events = yield* decodeChunks(chunks, { dispatchIncompleteAtEnd: mode.lenient })
            expect(normalise(events)).toEqual(normalise(mode.expected))
          }
        }))
    }
  }
})

// ---------------------------------------------------------------------------------------------------------------
// Random event streams

const valueChar = FastCheck.constantFrom(
  "a", "b", "z", " ", ":", "=", "\t", "0", "9", "{", "}", "\"",
  "é", "ß", "Ω", "你", "好", "世", "🎉", "👍🏽", "e\u0301", "\u200d", "\ufeff", "\u2028", "\u0000"
)
const valueArb = FastCheck.array(valueChar, { maxLength: 12 }).map((cs) => cs.join(""))
const eol = FastCheck.constantFrom("\n", "\r\n", "\r")

/** One line of a stream (without its terminator): fields known and unknown, comments, blank lines. */
const lineArb = FastCheck.oneof(
  { weight: 6, arbitrary: valueArb.map((v) => `data: ${v}`) },
  { weight: 2, arbitrary: valueArb.map((v) => `data:${v}`) },
  { weight: 1, arbitrary: FastCheck.constant("data") },
  { weight: 2, arbitrary: valueArb.map((v) => `event: ${v}`) },
  { weight: 2, arbitrary: valueArb.map((v) => `id: ${v}`) },
  { weight: 1, arbitrary: FastCheck.constant("id") },
  { weight: 1, arbitrary: FastCheck.nat({ max: 99999 }).map((n) => `retry: ${n}`) },
  { weight: 1, arbitrary: valueArb.map((v) => `retry: ${v}`) },
  { weight: 1, arbitrary: valueArb.map((v) => `:${v}`) },
  { weight: 1, arbitrary: FastCheck.constantFrom("Data: x", "foo: bar", " data: x", "data : y", "baz") },
  { weight: 5, arbitrary: FastCheck.constant("") }
)

/** A whole stream as text: optional BOM, lines with random CR/LF/CRLF terminators, optional unterminated tail. */
const streamArb = FastCheck.record({
  bom: FastCheck.boolean(),
  lines: FastCheck.array(FastCheck.tuple(lineArb, eol), { maxLength: 40 }),
  tail: FastCheck.option(lineArb, { nil: undefined })
}).map(({ bom, lines, tail }) => (bom ? "\ufeff" : "") + lines.map(([l, e]) => l + e).join("") + (tail ?? ""))

const streamAndCuts = streamArb.chain((text) => {
  const bytes = utf8(text)
  return cutsArbitrary(bytes.length).map((cuts) => ({ bytes, cuts }))
})

describe("Sse properties", () => {
  it.prop("any chunking gives the events of the unsplit bytes, in both EOF modes", [streamAndCuts], ([{ bytes, cuts }]) => {
    for (const lenient of [false, true]) {
      const whole = parseChunks([bytes], { dispatchIncompleteAtEnd: lenient }).events
      const split = parseChunks(splitAt(bytes, cuts), { dispatchIncompleteAtEnd: lenient }).events
      expect(split).toEqual(whole)
    }
  }, { fastCheck: { numRuns: 1000 } })

  it.prop("agrees with the naive reference implementation (decode all, then walk characters)", [streamAndCuts], ([{ bytes, cuts }]) => {
    for (const lenient of [false, true]) {
      const { events, parser } = parseChunks(splitAt(bytes, cuts), { dispatchIncompleteAtEnd: lenient })
      const expected = reference(bytes, lenient)
      expect(events).toEqual(expected.events)
      expect(parser.lastEventId()).toBe(expected.lastEventId)
      expect(parser.reconnectionTime()).toBe(expected.retry)
    }
  }, { fastCheck: { numRuns: 1000 } })

  it.prop("random bytes (invalid UTF-8 included) agree with the reference under any chunking", [
    FastCheck.uint8Array({ maxLength: 200 }).chain((raw) => {
      // Bias towards line structure so that fields, not only garbage, are exercised.
      const bytes = Uint8Array.from([...utf8("data: "), ...raw, 10, 10])
      return cutsArbitrary(bytes.length).map((cuts) => ({ bytes, cuts }))
    })
  ], ([{ bytes, cuts }]) => {
    for (const lenient of [false, true]) {
      expect(parseChunks(splitAt(bytes, cuts), { dispatchIncompleteAtEnd: lenient }).events).toEqual(
        reference(bytes, lenient).events
      )
    }
  }, { fastCheck: { numRuns: 1000 } })

  it.effect.prop("Sse.decode through a Stream equals the pure parser under any chunking", [streamAndCuts], ([{ bytes, cuts }]) =>
    Effect.gen(function*() {
      const events = yield* decodeChunks(splitAt(bytes, cuts), { dispatchIncompleteAtEnd: true })
      expect(events).toEqual(parseChunks([bytes], { dispatchIncompleteAtEnd: true }).events)
    }), { fastCheck: { numRuns: 1000 } })

  // Events whose id never goes back from set to "" (a stateless encoder cannot express that reset; see encode).
  const eventsArb = FastCheck.array(
    FastCheck.record({
      event: FastCheck.oneof(FastCheck.constant("message"), valueArb.filter((v) => v !== "" && !v.includes("\0"))),
      data: FastCheck.array(valueArb, { minLength: 1, maxLength: 4 }).map((ls) => ls.join("\n")),
      newId: FastCheck.option(valueArb.filter((v) => v !== "" && !v.includes("\0")), { nil: undefined }),
      retry: FastCheck.option(FastCheck.nat({ max: 1_000_000 }), { nil: undefined })
    }),
    { maxLength: 20 }
  ).map((specs) => {
    let id = ""
    return specs.map((s): Sse.Event => {
      id = s.newId ?? id
      return { event: s.event, data: s.data, id, retry: s.retry }
    })
  })

  it.prop("decode(encode(events)) returns the events, under any chunking", [
    eventsArb.chain((events) => {
      const bytes = utf8(events.map(Sse.encode).join(""))
      return cutsArbitrary(bytes.length).map((cuts) => ({ events, bytes, cuts }))
    })
  ], ([{ events, bytes, cuts }]) => {
    expect(parseChunks(splitAt(bytes, cuts)).events).toEqual(events)
  }, { fastCheck: { numRuns: 1000 } })
})

// ---------------------------------------------------------------------------------------------------------------

describe("Sse UTF-8", () => {
  it("replaces invalid bytes with U+FFFD and keeps decoding", () => {
    const bytes = Uint8Array.from([...utf8("data: a"), 0xff, 0x80, 0xc3, ...utf8("b\n\ndata: ok\n\n")])
    const { events } = parseChunks(byteByByte(bytes))
    expect(events.map((e) => e.data)).toEqual(["a\ufffd\ufffd\ufffdb", "ok"])
  })

  it("a truncated multi-byte sequence at end of stream becomes U+FFFD (lenient EOF)", () => {
    const euro = utf8("€") // e2 82 ac
    const bytes = Uint8Array.from([...utf8("data: x"), euro[0]!, euro[1]!])
    for (const chunks of [[bytes], byteByByte(bytes), ...everyTwoWaySplit(bytes)]) {
      expect(parseChunks(chunks, { dispatchIncompleteAtEnd: true }).events.map((e) => e.data)).toEqual(["x\ufffd"])
    }
  })

  it("a multi-byte character split across chunks decodes exactly", () => {
    const bytes = utf8("data: 🎉 你好 é\n\n")
    for (const chunks of [byteByByte(bytes), ...everyTwoWaySplit(bytes)]) {
      expect(parseChunks(chunks).events.map((e) => e.data)).toEqual(["🎉 你好 é"])
    }
  })

  it.prop("value decoding equals TextDecoder on arbitrary bytes", [FastCheck.uint8Array({ maxLength: 64 })], ([raw]) => {
    const clean = raw.map((b) => (b === 10 || b === 13 ? 0x41 : b))
    const bytes = Uint8Array.from([...utf8("data:x"), ...clean, 10, 10])
    const expected = "x" + new TextDecoder("utf-8", { ignoreBOM: true }).decode(clean)
    expect(parseChunks([bytes]).events.map((e) => e.data)).toEqual([expected])
  }, { fastCheck: { numRuns: 2000 } })
})

describe("Sse parser instances", () => {
  it.prop("parsers fed in turns keep their own state (pending lines, events, ids)", [streamAndCuts, streamAndCuts], ([a, b]) => {
    const chunksA = splitAt(a.bytes, a.cuts)
    const chunksB = splitAt(b.bytes, b.cuts)
    const pa = Sse.makeParser({ dispatchIncompleteAtEnd: true })
    const pb = Sse.makeParser({ dispatchIncompleteAtEnd: true })
    const eventsA: Array<Sse.Event> = []
    const eventsB: Array<Sse.Event> = []
    for (let i = 0; i < Math.max(chunksA.length, chunksB.length); i++) {
      if (i < chunksA.length) eventsA.push(...pa.feed(chunksA[i]!))
      if (i < chunksB.length) eventsB.push(...pb.feed(chunksB[i]!))
    }
    eventsA.push(...pa.end())
    eventsB.push(...pb.end())
    const aloneA = parseChunks([a.bytes], { dispatchIncompleteAtEnd: true })
    const aloneB = parseChunks([b.bytes], { dispatchIncompleteAtEnd: true })
    expect(eventsA).toEqual(aloneA.events)
    expect(eventsB).toEqual(aloneB.events)
    expect(pa.lastEventId()).toBe(aloneA.parser.lastEventId())
    expect(pb.lastEventId()).toBe(aloneB.parser.lastEventId())
    expect(pa.reconnectionTime()).toBe(aloneA.parser.reconnectionTime())
    expect(pb.reconnectionTime()).toBe(aloneB.parser.reconnectionTime())
  }, { fastCheck: { numRuns: 300 } })

  it("its functions work detached from the parser object", () => {
    const { feed, end, lastEventId, reconnectionTime, overflow } = Sse.makeParser({ dispatchIncompleteAtEnd: true })
    const events = [utf8("id: 7\nretry: 5\ndata: a\n\ndata: b")].flatMap(feed)
    events.push(...end())
    expect(events.map((e) => e.data)).toEqual(["a", "b"])
    expect(lastEventId()).toBe("7")
    expect(reconnectionTime()).toBe(5)
    expect(overflow()).toBeUndefined()
  })
})

describe("Sse caller-owned buffers", () => {
  it("a line split across chunks survives the caller reusing its Buffer after feed returns", () => {
    // Node hands out Buffers; a socket reader may refill the same memory for the next chunk.
    const shared = Buffer.alloc(16)
    const parser = Sse.makeParser()
    const first = Buffer.from("data: hel")
    first.copy(shared)
    const events = parser.feed(shared.subarray(0, first.length))
    shared.fill(0x78) // the caller reuses its buffer: "xxxx…"
    const second = Buffer.from("lo\n\n")
    second.copy(shared)
    events.push(...parser.feed(shared.subarray(0, second.length)))
    expect(events.map((e) => e.data)).toEqual(["hello"])
  })

  it("events returned by one feed are not changed by the next feed", () => {
    const parser = Sse.makeParser()
    const first = parser.feed(utf8("data: a\n\ndata: b\n\n"))
    const snapshot = first.map((e) => e.data)
    const second = parser.feed(utf8("data: c\n\n"))
    expect(first.map((e) => e.data)).toEqual(snapshot)
    expect(second.map((e) => e.data)).toEqual(["c"])
    first.length = 0 // the caller owns the array it got
    expect(parser.feed(utf8("data: d\n\n")).map((e) => e.data)).toEqual(["d"])
  })
})

describe("Sse bounds", () => {
  it.effect("a line over maxBufferSize fails with SseError naming size and limit", () =>
    Effect.gen(function*() {
      const bytes = utf8(`data: ok\n\n: ${"x".repeat(200)}\n\ndata: never\n\n`)
      const result = yield* Stream.fromChunks(...byteByByte(bytes).map(Chunk.of)).pipe(
        Sse.decode({ maxBufferSize: 100 }),
        Stream.either,
        Stream.runCollect
      )
      const items = Chunk.toArray(result)
      expect(items.length).toBe(2)
      const first = items[0]
      assert(first !== undefined && first._tag === "Right")
      expect(first.right).toEqual({ event: "message", data: "ok", id: "", retry: undefined })
      const failure = items[1]
      assert(failure !== undefined && failure._tag === "Left")
      expect(failure.left._tag).toBe("SseError")
      expect(failure.left.reason).toBe("LineTooLong")
      expect(failure.left.limit).toBe(100)
      expect(failure.left.size).toBeGreaterThan(100)
      expect(failure.left.message).toContain("100")
    }))

  it("the verdict does not depend on the chunking (one chunk or byte by byte)", () => {
    const bytes = utf8(`data: ${"y".repeat(60)}\ndata: ${"z".repeat(60)}\n\n`)
    for (const chunks of [[bytes], byteByByte(bytes), ...everyTwoWaySplit(bytes)]) {
      const parser = Sse.makeParser({ maxBufferSize: 100 })
      for (const c of chunks) parser.feed(c)
      expect(parser.overflow()?.kind).toBe("event")
    }
  })

  it.prop("with multi-byte text, the overflow verdict and the events before it do not depend on the chunking", [
    streamAndCuts,
    FastCheck.integer({ min: 1, max: 40 })
  ], ([{ bytes, cuts }, maxBufferSize]) => {
    const run = (chunks: ReadonlyArray<Uint8Array>) => {
      const parser = Sse.makeParser({ maxBufferSize })
      const events = chunks.flatMap((c) => parser.feed(c))
      return { events, kind: parser.overflow()?.kind }
    }
    expect(run(splitAt(bytes, cuts))).toEqual(run([bytes]))
    expect(run(byteByByte(bytes))).toEqual(run([bytes]))
  }, { fastCheck: { numRuns: 1000 } })

  it.effect("an event whose data exceeds maxBufferSize fails with EventTooLarge", () =>
    Effect.gen(function*() {
      const bytes = utf8(`data: ${"a".repeat(60)}\ndata: ${"b".repeat(60)}\n\n`)
      const error = yield* Stream.make(bytes).pipe(Sse.decode({ maxBufferSize: 100 }), Stream.runDrain, Effect.flip)
      expect(error.reason).toBe("EventTooLarge")
      expect(error.size).toBe(121)
    }))

  it.effect("an endless line stops the stream after about maxBufferSize bytes (memory stays bounded)", () =>
    Effect.gen(function*() {
      const pulled = yield* Ref.make(0)
      const block = new Uint8Array(64 * 1024).fill(0x61)
      const endless = Stream.repeatEffect(Effect.as(Ref.update(pulled, (n) => n + 1), block))
      const error = yield* endless.pipe(Sse.decode({ maxBufferSize: 1024 * 1024 }), Stream.runDrain, Effect.flip)
      expect(error.reason).toBe("LineTooLong")
      // 1 MiB / 64 KiB = 16 chunks to exceed the limit: the parser never buffers past the bound.
      expect(yield* Ref.get(pulled)).toBeLessThanOrEqual(17)
    }))
})

describe("Sse consumer stops and interruption", () => {
  const event = utf8("data: x\n\n")

  it.effect("a consumer that takes N events and stops ends the upstream (its finaliser runs)", () =>
    Effect.gen(function*() {
      const finalised = yield* Ref.make(false)
      const upstream = Stream.repeatValue(event).pipe(Stream.ensuring(Ref.set(finalised, true)))
      const events = yield* upstream.pipe(Sse.decode(), Stream.take(3), Stream.runCollect)
      expect(Chunk.size(events)).toBe(3)
      expect(yield* Ref.get(finalised)).toBe(true)
    }))

  it.live("interrupting the consumer interrupts the upstream", () =>
    Effect.gen(function*() {
      const exit = yield* Ref.make<Option.Option<Exit.Exit<unknown, unknown>>>(Option.none())
      const upstream = Stream.concat(Stream.make(event), Stream.never).pipe(
        Stream.ensuringWith((e) => Ref.set(exit, Option.some(e)))
      )
      const fiber = yield* upstream.pipe(Sse.decode(), Stream.runDrain, Effect.fork)
      yield* Effect.sleep("10 millis")
      yield* Fiber.interrupt(fiber)
      const seen = yield* Ref.get(exit)
      assert(Option.isSome(seen))
      expect(Exit.isInterrupted(seen.value)).toBe(true)
    }))

  it.effect("an upstream failure passes through unchanged after the events before it", () =>
    Effect.gen(function*() {
      const upstream = Stream.concat(Stream.make(event), Stream.fail("boom" as const))
      const out = yield* upstream.pipe(Sse.decode(), Stream.either, Stream.runCollect)
      expect(Chunk.toArray(out).map((e) => e._tag)).toEqual(["Right", "Left"])
    }))
})

describe("Sse.encode", () => {
  it("writes the wire form", () => {
    expect(Sse.encode({ event: "message", data: "a\nb", id: "", retry: undefined })).toBe("data: a\ndata: b\n\n")
    expect(Sse.encode({ event: "add", data: "1", id: "7", retry: 10 })).toBe("event: add\nid: 7\nretry: 10\ndata: 1\n\n")
    expect(Sse.encode({ event: "message", data: "", id: "", retry: undefined })).toBe("data: \n\n")
  })

  it("pipes into decode as a dual", () => {
    const program = Sse.decode(Stream.make(utf8("data: hi\n\n")))
    expect(Effect.runSync(Stream.runCollect(program)).pipe(Chunk.toArray)).toEqual([
      { event: "message", data: "hi", id: "", retry: undefined }
    ])
  })
})
