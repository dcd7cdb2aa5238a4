import { describe, expect, it } from "@effect/vitest"
import { Chunk, Effect, Option, Stream } from "effect"
import * as UsageInjection from "../../src/gateway/UsageInjection.js"
import { cutsArbitrary, splitAt, utf8 } from "../support/chunking.js"
import { faithfulChat } from "../support/upstreams.js"

const strip = (chunks: ReadonlyArray<Uint8Array>) =>
  Stream.fromChunks(...chunks.map(Chunk.of)).pipe(UsageInjection.strip, Stream.runCollect, Effect.map((c) => Buffer.concat([...c]).toString()))

describe("UsageInjection", () => {
  it("asks for usage unless the client did, keeping the other stream options", () => {
    expect(UsageInjection.request({ model: "m", stream: true })).toEqual(
      Option.some({ model: "m", stream: true, stream_options: { include_usage: true } })
    )
    expect(UsageInjection.request({ stream_options: { include_obfuscation: false } })).toEqual(
      Option.some({ stream_options: { include_obfuscation: false, include_usage: true } })
    )
    expect(UsageInjection.request({ stream_options: { include_usage: true } })).toEqual(Option.none())
  })

  it.effect.prop("stripping is exact under any chunking: the stream upstream sends without include_usage", [
    cutsArbitrary(faithfulChat(true).length, 40)
  ], ([cuts]) =>
    Effect.map(strip(splitAt(utf8(faithfulChat(true)), cuts)), (text) => {
      expect(text).toBe(faithfulChat(false))
    }),
    { fastCheck: { numRuns: 500 } })

  for (const [name, eol] of [["CRLF", "\r\n"], ["CR", "\r"]] as const) {
    const framed = (text: string) => text.replaceAll("\n", eol)
    it.effect.prop(`stripping is exact under any chunking with ${name} line ends (a split CRLF included)`, [
      cutsArbitrary(framed(faithfulChat(true)).length, 40)
    ], ([cuts]) =>
      Effect.map(strip(splitAt(utf8(framed(faithfulChat(true))), cuts)), (text) => {
        expect(text).toBe(framed(faithfulChat(false)))
      }),
      { fastCheck: { numRuns: 300 } })
  }

  it.effect("comments, CRLF framing and an unterminated tail pass untouched; only usage is removed", () =>
    Effect.gen(function*() {
      const input = ": keep-alive\r\n\r\n" +
        "data: {\"choices\":[{\"delta\":{\"content\":\"\\\"usage\\\":null\"}}],\"usage\":null}\r\n\r\n" +
        "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":1}}\n\n" +
        "data: [DONE]"
      const expected = ": keep-alive\r\n\r\n" +
        "data: {\"choices\":[{\"delta\":{\"content\":\"\\\"usage\\\":null\"}}]}\r\n\r\n" +
        "data: [DONE]"
      expect(yield* strip([utf8(input)])).toBe(expected)
    }))

  it.effect("a usage chunk that carries choices is not the injected one and stays", () =>
    Effect.gen(function*() {
      const kept = "data: {\"choices\":[{\"index\":0,\"delta\":{}}],\"usage\":{\"prompt_tokens\":1}}\n\n"
      expect(yield* strip([utf8(kept)])).toBe(kept)
    }))
})
