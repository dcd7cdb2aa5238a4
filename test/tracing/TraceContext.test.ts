import * as PlatformHeaders from "@effect/platform/Headers"
import { assert, describe, expect, it } from "@effect/vitest"
import { Effect, FastCheck, Option } from "effect"
import * as TraceContext from "../../src/tracing/TraceContext.js"

// Vectors are written from the W3C Trace Context Level 2 rules; every expected value is spelled from its input.
const T = "4bf92f3577b34da6a3ce929d0e0e4736"
const P = "00f067aa0ba902b7"
const tp = (version: string, traceId: string, parentId: string, flags: string, rest = "") =>
  `${version}-${traceId}-${parentId}-${flags}${rest}`

const upper = (s: string, at: number) => {
  const c = s[at]!.toUpperCase()
  if (c === s[at]) throw new Error(`vector bug: ${s[at]} at ${at} has no uppercase`)
  return s.slice(0, at) + c + s.slice(at + 1)
}
const put = (s: string, at: number, c: string) => s.slice(0, at) + c + s.slice(at + 1)

interface Ids {
  readonly traceId: string
  readonly parentId: string
  readonly flags: number
}
interface ParentVector {
  readonly name: string
  readonly header: string
  readonly expected: Ids | null
}

const ok = (flags: number, traceId = T, parentId = P): Ids => ({ traceId, parentId, flags })

const parentVectors: ReadonlyArray<ParentVector> = [
  // valid version 00
  { name: "sampled", header: tp("00", T, P, "01"), expected: ok(1) },
  { name: "not sampled", header: tp("00", T, P, "00"), expected: ok(0) },
  { name: "random-trace-id only", header: tp("00", T, P, "02"), expected: ok(2) },
  { name: "random-trace-id and sampled", header: tp("00", T, P, "03"), expected: ok(3) },
  { name: "unknown flag bits with sampled (09)", header: tp("00", T, P, "09"), expected: ok(9) },
  { name: "every flag bit (ff)", header: tp("00", T, P, "ff"), expected: ok(255) },
  { name: "every bit but sampled (fe)", header: tp("00", T, P, "fe"), expected: ok(254) },
  { name: "high bit only (80)", header: tp("00", T, P, "80"), expected: ok(128) },
  { name: "trace-id with one non-zero digit", header: tp("00", "0".repeat(31) + "1", P, "01"), expected: ok(1, "0".repeat(31) + "1") },
  { name: "parent-id with one non-zero digit", header: tp("00", T, "1" + "0".repeat(15), "01"), expected: ok(1, T, "1" + "0".repeat(15)) },
  { name: "all-f ids", header: tp("00", "f".repeat(32), "f".repeat(16), "01"), expected: ok(1, "f".repeat(32), "f".repeat(16)) },
  { name: "leading space (OWS)", header: " " + tp("00", T, P, "01"), expected: ok(1) },
  { name: "trailing space (OWS)", header: tp("00", T, P, "01") + "  ", expected: ok(1) },
  { name: "tabs around (OWS)", header: "\t" + tp("00", T, P, "01") + "\t", expected: ok(1) },
  // valid higher versions: the 00 prefix is used, only the sampled bit is kept
  { name: "version 01, exactly 55 chars", header: tp("01", T, P, "01"), expected: ok(1) },
  { name: "version 01 with an extra field", header: tp("01", T, P, "01", "-what-the-future-will-be-like"), expected: ok(1) },
  { name: "version fe with several extra fields", header: tp("fe", T, P, "00", "-a-b-c"), expected: ok(0) },
  { name: "version 0a, trailing dash with an empty field", header: tp("0a", T, P, "01", "-"), expected: ok(1) },
  { name: "version cc, flags 03 keep only the sampled bit", header: tp("cc", T, P, "03", "-x"), expected: ok(1) },
  { name: "version 02, flags fe keep only the sampled bit", header: tp("02", T, P, "fe"), expected: ok(0) },
  // empty and whitespace
  { name: "empty string", header: "", expected: null },
  { name: "only spaces", header: "   ", expected: null },
  { name: "leading LF (not OWS)", header: "\n" + tp("00", T, P, "01"), expected: null },
  { name: "trailing CRLF (not OWS)", header: tp("00", T, P, "01") + "\r\n", expected: null },
  { name: "space inside the trace-id", header: tp("00", put(T, 10, " "), P, "01"), expected: null },
  { name: "spaces around the dashes", header: `00 - ${T} - ${P} - 01`, expected: null },
  // version field
  { name: "version ff", header: tp("ff", T, P, "01"), expected: null },
  { name: "version ff with an extra field", header: tp("ff", T, P, "01", "-x"), expected: null },
  { name: "uppercase version 0A", header: tp("0A", T, P, "01"), expected: null },
  { name: "uppercase version FF", header: tp("FF", T, P, "01"), expected: null },
  { name: "non-hex version 0g", header: tp("0g", T, P, "01"), expected: null },
  { name: "version of 1 char", header: tp("0", T, P, "01"), expected: null },
  { name: "version of 3 chars", header: tp("000", T, P, "01"), expected: null },
  { name: "missing version", header: `${T}-${P}-01`, expected: null },
  // version 00 is exactly 55 characters
  { name: "version 00 with an extra field", header: tp("00", T, P, "01", "-extra"), expected: null },
  { name: "version 00 with a trailing dash", header: tp("00", T, P, "01", "-"), expected: null },
  { name: "version 00 with a trailing character", header: tp("00", T, P, "01", "x"), expected: null },
  // trace-id field
  { name: "trace-id of 31 chars", header: tp("00", T.slice(1), P, "01"), expected: null },
  { name: "trace-id of 33 chars", header: tp("00", T + "a", P, "01"), expected: null },
  { name: "trace-id of 16 chars (64-bit)", header: tp("00", T.slice(16), P, "01"), expected: null },
  { name: "uppercase in the trace-id", header: tp("00", upper(T, 1), P, "01"), expected: null },
  { name: "all-uppercase trace-id", header: tp("00", T.toUpperCase(), P, "01"), expected: null },
  { name: "non-hex in the trace-id", header: tp("00", put(T, 5, "g"), P, "01"), expected: null },
  { name: "all-zero trace-id", header: tp("00", "0".repeat(32), P, "01"), expected: null },
  // parent-id field
  { name: "parent-id of 15 chars", header: tp("00", T, P.slice(1), "01"), expected: null },
  { name: "parent-id of 17 chars", header: tp("00", T, P + "a", "01"), expected: null },
  { name: "uppercase in the parent-id", header: tp("00", T, upper(P, 2), "01"), expected: null },
  { name: "non-hex in the parent-id", header: tp("00", T, put(P, 0, "z"), "01"), expected: null },
  { name: "all-zero parent-id", header: tp("00", T, "0".repeat(16), "01"), expected: null },
  { name: "all-zero trace-id and parent-id", header: tp("00", "0".repeat(32), "0".repeat(16), "00"), expected: null },
  // flags field
  { name: "flags of 1 char", header: tp("00", T, P, "1"), expected: null },
  { name: "flags of 3 chars", header: tp("00", T, P, "011"), expected: null },
  { name: "missing flags", header: `00-${T}-${P}-`, expected: null },
  { name: "no flags field", header: `00-${T}-${P}`, expected: null },
  { name: "uppercase flags 0A", header: tp("00", T, P, "0A"), expected: null },
  { name: "uppercase flags FF", header: tp("00", T, P, "FF"), expected: null },
  { name: "non-hex flags zz", header: tp("00", T, P, "zz"), expected: null },
  { name: "non-hex flags 0x", header: tp("00", T, P, "0x"), expected: null },
  // separators
  { name: "missing first dash", header: `00${T}-${P}-01`, expected: null },
  { name: "missing second dash", header: `00-${T}${P}-01`, expected: null },
  { name: "missing third dash", header: `00-${T}-${P}01`, expected: null },
  { name: "underscores instead of dashes", header: `00_${T}_${P}_01`, expected: null },
  { name: "dots instead of dashes", header: `00.${T}.${P}.01`, expected: null },
  { name: "en dash instead of a dash", header: `00\u2013${T}-${P}-01`, expected: null },
  { name: "doubled dash", header: `00--${T}-${P}-01`, expected: null },
  // higher versions: too short, or not followed by a dash
  { name: "version 01 of 54 chars", header: tp("01", T, P, "0"), expected: null },
  { name: "version 01 without flags", header: `01-${T}-${P}`, expected: null },
  { name: "version 01 followed by a non-dash", header: tp("01", T, P, "01", "x-extra"), expected: null },
  { name: "version 01 with flags of 3 chars", header: tp("01", T, P, "011"), expected: null },
  { name: "version 01 with uppercase in the prefix", header: tp("01", upper(T, 2), P, "01", "-x"), expected: null },
  { name: "version 01 with a zero trace-id", header: tp("01", "0".repeat(32), P, "01", "-x"), expected: null },
  { name: "version 01 with a zero parent-id", header: tp("01", T, "0".repeat(16), "01"), expected: null },
  // several values combined into one field
  { name: "two version-00 values joined by a comma", header: `${tp("00", T, P, "01")}, ${tp("00", T, P, "01")}`, expected: null },
  { name: "two version-01 values joined by a comma", header: `${tp("01", T, P, "01")},${tp("01", T, P, "01")}`, expected: null },
  // other scripts' digits are not hex
  { name: "Arabic-Indic digit in the trace-id", header: tp("00", put(T, 2, "\u0661"), P, "01"), expected: null }
]

describe("TraceContext.parseTraceParent: vectors", () => {
  it("has enough vectors (≥ 40) covering valid and invalid forms", () => {
    expect(parentVectors.length).toBeGreaterThanOrEqual(40)
    expect(parentVectors.filter((v) => v.expected === null).length).toBeGreaterThanOrEqual(40)
    expect(new Set(parentVectors.map((v) => v.name)).size).toBe(parentVectors.length)
  })

  it.each(parentVectors)("$name", ({ expected, header }) => {
    const parsed = TraceContext.parseTraceParent(header)
    if (expected === null) {
      expect(parsed).toEqual(Option.none())
      return
    }
    expect(parsed).toEqual(Option.some({ version: "00", ...expected }))
    // Always re-emitted as version 00, with exactly the parsed ids and flags.
    expect(TraceContext.formatTraceParent(Option.getOrThrow(parsed))).toBe(
      `00-${expected.traceId}-${expected.parentId}-${expected.flags.toString(16).padStart(2, "0")}`
    )
  })

  it("sampled is bit 0, tested by bit not by value", () => {
    const sampled = (flags: string) => Option.map(TraceContext.parseTraceParent(tp("00", T, P, flags)), TraceContext.isSampled)
    expect(sampled("01")).toEqual(Option.some(true))
    expect(sampled("03")).toEqual(Option.some(true))
    expect(sampled("ff")).toEqual(Option.some(true))
    expect(sampled("00")).toEqual(Option.some(false))
    expect(sampled("02")).toEqual(Option.some(false))
    expect(sampled("fe")).toEqual(Option.some(false))
  })
})

// ---------------------------------------------------------------------------------------------------------------
// tracestate

const m = (key: string, value: string): TraceContext.TraceStateMember => ({ key, value })
const manyMembers = (n: number, prefix = "k") => Array.from({ length: n }, (_, i) => m(`${prefix}${i}`, `v${i}`))
const fmt = (members: ReadonlyArray<TraceContext.TraceStateMember>) => members.map((x) => `${x.key}=${x.value}`).join(",")
// Every value character the grammar allows: printable ASCII except `,` and `=`.
const allValueChars = Array.from({ length: 0x7f - 0x20 }, (_, i) => String.fromCharCode(0x20 + i))
  .filter((c) => c !== "," && c !== "=").join("")

interface StateVector {
  readonly name: string
  readonly header: string
  readonly expected: ReadonlyArray<TraceContext.TraceStateMember>
}

const stateVectors: ReadonlyArray<StateVector> = [
  { name: "empty header", header: "", expected: [] },
  { name: "one member", header: "vendor=opaque", expected: [m("vendor", "opaque")] },
  { name: "order is kept", header: "b=2,a=1,c=3", expected: [m("b", "2"), m("a", "1"), m("c", "3")] },
  { name: "OWS around members", header: " a=1 ,  b=2\t,\tc=3 ", expected: [m("a", "1"), m("b", "2"), m("c", "3")] },
  { name: "empty members skipped", header: "a=1,,b=2,", expected: [m("a", "1"), m("b", "2")] },
  { name: "whitespace-only members skipped", header: " , \t ,a=1, ", expected: [m("a", "1")] },
  { name: "only separators", header: ",,,", expected: [] },
  { name: "duplicate key: first wins", header: "a=1,a=2", expected: [m("a", "1")] },
  { name: "duplicate key later in the list", header: "a=1,b=2,a=3,c=4", expected: [m("a", "1"), m("b", "2"), m("c", "4")] },
  { name: "duplicate of an invalid member is kept", header: "a=,a=2", expected: [m("a", "2")] },
  { name: "key characters _ - * /", header: "a_b-c*d/e0=1", expected: [m("a_b-c*d/e0", "1")] },
  { name: "uppercase key dropped", header: "Abc=1,b=2", expected: [m("b", "2")] },
  { name: "key starting with a digit dropped", header: "1a=1,b=2", expected: [m("b", "2")] },
  { name: "key with a dot dropped", header: "a.b=1,b=2", expected: [m("b", "2")] },
  { name: "key of 256 chars", header: `a${"b".repeat(255)}=1`, expected: [m(`a${"b".repeat(255)}`, "1")] },
  { name: "key of 257 chars dropped", header: `a${"b".repeat(256)}=1,z=2`, expected: [m("z", "2")] },
  { name: "multi-tenant key", header: "tenant@system=1", expected: [m("tenant@system", "1")] },
  { name: "multi-tenant tenant may start with a digit", header: "1t@sys=1", expected: [m("1t@sys", "1")] },
  { name: "multi-tenant system starting with a digit dropped", header: "t@1s=1,z=2", expected: [m("z", "2")] },
  { name: "multi-tenant tenant of 241 chars", header: `${"t".repeat(241)}@s=1`, expected: [m(`${"t".repeat(241)}@s`, "1")] },
  { name: "multi-tenant tenant of 242 chars dropped", header: `${"t".repeat(242)}@s=1,z=2`, expected: [m("z", "2")] },
  { name: "multi-tenant system of 14 chars", header: `t@${"s".repeat(14)}=1`, expected: [m(`t@${"s".repeat(14)}`, "1")] },
  { name: "multi-tenant system of 15 chars dropped", header: `t@${"s".repeat(15)}=1,z=2`, expected: [m("z", "2")] },
  { name: "empty tenant dropped", header: "@s=1,z=2", expected: [m("z", "2")] },
  { name: "empty system dropped", header: "t@=1,z=2", expected: [m("z", "2")] },
  { name: "two @ dropped", header: "t@s@x=1,z=2", expected: [m("z", "2")] },
  { name: "uppercase system dropped", header: "t@Sys=1,z=2", expected: [m("z", "2")] },
  { name: "value of 256 chars", header: `a=${"v".repeat(256)}`, expected: [m("a", "v".repeat(256))] },
  { name: "value of 257 chars dropped", header: `a=${"v".repeat(257)},z=2`, expected: [m("z", "2")] },
  { name: "empty value dropped", header: "a=,z=2", expected: [m("z", "2")] },
  { name: "value with an inner space", header: "a=b c", expected: [m("a", "b c")] },
  { name: "value with a leading space (allowed by the grammar)", header: "a= b", expected: [m("a", " b")] },
  { name: "value of only a space dropped", header: "a= ,z=2", expected: [m("z", "2")] },
  { name: "trailing space is OWS, not value", header: "a=b   ", expected: [m("a", "b")] },
  { name: "every allowed value character", header: `a=${allValueChars.trimEnd()}`, expected: [m("a", allValueChars.trimEnd())] },
  { name: "value with = dropped", header: "a=b=c,z=2", expected: [m("z", "2")] },
  { name: "value with a tab dropped", header: "a=b\tc,z=2", expected: [m("z", "2")] },
  { name: "value with DEL dropped", header: "a=b\x7f,z=2", expected: [m("z", "2")] },
  { name: "value with non-ASCII dropped", header: "a=caf\u00e9,z=2", expected: [m("z", "2")] },
  { name: "member without = dropped", header: "novalue,z=2", expected: [m("z", "2")] },
  { name: "empty key dropped", header: "=1,z=2", expected: [m("z", "2")] },
  { name: "space before = dropped", header: "a =1,z=2", expected: [m("z", "2")] },
  { name: "32 members kept", header: fmt(manyMembers(32)), expected: manyMembers(32) },
  { name: "33 members: the first 32 kept", header: fmt(manyMembers(33)), expected: manyMembers(32) },
  { name: "100 members: the first 32 kept", header: fmt(manyMembers(100)), expected: manyMembers(32) },
  {
    name: "invalid and duplicate members do not count towards 32",
    header: ["BAD=1", "k0=first", "k0=second", ...manyMembers(31).slice(1).map((x) => `${x.key}=${x.value}`), "late=1", "after=1"]
      .join(","),
    // BAD and the second k0 take no slot: k0, k1..k30 and late make 32; "after" is the 33rd valid member.
    expected: [m("k0", "first"), ...manyMembers(31).slice(1), m("late", "1")]
  }
]

describe("TraceContext.parseTraceState: vectors", () => {
  it.each(stateVectors)("$name", ({ expected, header }) => {
    const parsed = TraceContext.parseTraceState(header)
    expect(parsed).toEqual(expected)
    expect(parsed.length).toBeLessThanOrEqual(TraceContext.maxTraceStateMembers)
  })

  it("formats members in order, joined by commas", () => {
    expect(TraceContext.formatTraceState([m("b", "2"), m("a", "x y")])).toBe("b=2,a=x y")
    expect(TraceContext.formatTraceState([])).toBe("")
  })
})

// ---------------------------------------------------------------------------------------------------------------
// fromHeaders

const valid = tp("00", T, P, "01")
const ctx = (traceState: ReadonlyArray<TraceContext.TraceStateMember>, flags = 1): TraceContext.TraceContext => ({
  traceParent: { version: "00", traceId: T, parentId: P, flags },
  traceState
})

/** A Proxy over `headers` that records every property read. */
const spied = (headers: Record<string, string | ReadonlyArray<string> | undefined>) => {
  const read: Array<string | symbol> = []
  const proxy = new Proxy(headers, {
    get: (target, key, receiver) => {
      read.push(key)
      return Reflect.get(target, key, receiver)
    }
  })
  return { proxy, read }
}

describe("TraceContext.fromHeaders", () => {
  it.each([
    ["traceparent", "tracestate"],
    ["Traceparent", "Tracestate"],
    ["TRACEPARENT", "TRACESTATE"],
    ["TraceParent", "traceState"],
    ["tRaCePaReNt", "TrAcEsTaTe"]
  ])("header names are case-insensitive: %s / %s", (parentName, stateName) => {
    expect(TraceContext.fromHeaders({ [parentName]: valid, [stateName]: "a=1" })).toEqual(Option.some(ctx([m("a", "1")])))
  })

  it("absent traceparent → None, even with tracestate", () => {
    expect(TraceContext.fromHeaders({})).toEqual(Option.none())
    expect(TraceContext.fromHeaders({ tracestate: "a=1" })).toEqual(Option.none())
    expect(TraceContext.fromHeaders({ traceparent: undefined })).toEqual(Option.none())
    expect(TraceContext.fromHeaders({ traceparent: [] })).toEqual(Option.none())
  })

  it("tracestate is discarded when traceparent is invalid", () => {
    for (const header of parentVectors.filter((v) => v.expected === null).map((v) => v.header)) {
      expect(TraceContext.fromHeaders({ traceparent: header, tracestate: "a=1" })).toEqual(Option.none())
    }
  })

  it("tracestate is not even read when traceparent is invalid", () => {
    const { proxy, read } = spied({ traceparent: tp("ff", T, P, "01"), tracestate: "a=1" })
    expect(TraceContext.fromHeaders(proxy)).toEqual(Option.none())
    expect(read).toEqual(["traceparent"])
  })

  it("valid traceparent without tracestate → empty trace state", () => {
    expect(TraceContext.fromHeaders({ traceparent: valid })).toEqual(Option.some(ctx([])))
    expect(TraceContext.fromHeaders({ traceparent: [valid] })).toEqual(Option.some(ctx([])))
  })

  it("several tracestate values are joined as one list, in order (array and differently-cased keys)", () => {
    expect(TraceContext.fromHeaders({ traceparent: valid, tracestate: ["a=1,b=2", "c=3", "a=4"] }))
      .toEqual(Option.some(ctx([m("a", "1"), m("b", "2"), m("c", "3")])))
    expect(TraceContext.fromHeaders({ traceparent: valid, tracestate: "a=1", TraceState: "b=2" }))
      .toEqual(Option.some(ctx([m("a", "1"), m("b", "2")])))
    expect(TraceContext.fromHeaders({ traceparent: valid, tracestate: manyMembers(20).map((x) => `${x.key}=${x.value}`) }))
      .toEqual(Option.some(ctx(manyMembers(20))))
    expect(TraceContext.fromHeaders({ traceparent: valid, tracestate: [fmt(manyMembers(20)), fmt(manyMembers(20, "j"))] }))
      .toEqual(Option.some(ctx([...manyMembers(20), ...manyMembers(12, "j")])))
  })

  it("several traceparent values make it invalid (single-value field)", () => {
    expect(TraceContext.fromHeaders({ traceparent: [valid, valid] })).toEqual(Option.none())
    expect(TraceContext.fromHeaders({ traceparent: [valid, tp("00", T, P, "00")] })).toEqual(Option.none())
    expect(TraceContext.fromHeaders({ traceparent: valid, Traceparent: valid })).toEqual(Option.none())
    expect(TraceContext.fromHeaders({ traceparent: `${valid}, ${valid}` })).toEqual(Option.none())
  })

  it("accepts @effect/platform Headers", () => {
    const headers = PlatformHeaders.fromInput({ TraceParent: valid, TraceState: "x@y=z", Authorization: "Bearer secret" })
    expect(TraceContext.fromHeaders(headers)).toEqual(Option.some(ctx([m("x@y", "z")])))
  })

  it("reads no header but traceparent and tracestate (Proxy over the headers)", () => {
    const { proxy, read } = spied({
      authorization: "Bearer secret",
      "x-api-key": "secret",
      cookie: "session=secret",
      b3: `${T}-${P}-1`,
      "x-b3-traceid": T,
      "x-b3-spanid": P,
      TraceParent: valid,
      "content-type": "application/json",
      TRACESTATE: "a=1",
      "traceparent-extra": "nope",
      tracestatex: "nope"
    })
    expect(TraceContext.fromHeaders(proxy)).toEqual(Option.some(ctx([m("a", "1")])))
    expect(read.map(String).sort()).toEqual(["TRACESTATE", "TraceParent"])
  })

  it("does not fall back to b3 headers", () => {
    expect(TraceContext.fromHeaders({ b3: `${T}-${P}-1`, "x-b3-traceid": T, "x-b3-spanid": P, "x-b3-sampled": "1" }))
      .toEqual(Option.none())
  })
})

describe("TraceContext.toExternalSpan", () => {
  it("carries the caller's ids and the sampled bit", () => {
    for (const [flags, sampled] of [[0x01, true], [0x00, false], [0x02, false], [0x03, true]] as const) {
      const span = TraceContext.toExternalSpan(ctx([], flags))
      expect(span._tag).toBe("ExternalSpan")
      expect(span.traceId).toBe(T)
      expect(span.spanId).toBe(P)
      expect(span.sampled).toBe(sampled)
    }
  })

  it.effect("parents a span under the caller's span", () =>
    Effect.gen(function*() {
      const parent = TraceContext.toExternalSpan(Option.getOrThrow(TraceContext.fromHeaders({ traceparent: valid })))
      const span = yield* Effect.currentSpan.pipe(Effect.withSpan("child", { parent }))
      expect(span.traceId).toBe(T)
      assert(Option.isSome(span.parent))
      expect(span.parent.value.spanId).toBe(P)
      expect(span.parent.value.traceId).toBe(T)
    }))
})

// ---------------------------------------------------------------------------------------------------------------
// properties

const runs = { fastCheck: { numRuns: 1000 } }
const lowerHex = "0123456789abcdef"
const hexOf = (length: number) =>
  FastCheck.stringOf(FastCheck.constantFrom(...lowerHex), { minLength: length, maxLength: length })
const nonZeroHexOf = (length: number) => hexOf(length).filter((s) => /[1-9a-f]/.test(s))
const model = FastCheck.record({
  traceId: nonZeroHexOf(32),
  parentId: nonZeroHexOf(16),
  flags: FastCheck.integer({ min: 0, max: 255 })
})
const flagsHex = (flags: number) => flags.toString(16).padStart(2, "0")
const validHeader = model.map(({ flags, parentId, traceId }) => tp("00", traceId, parentId, flagsHex(flags)))
const HexField = /^[0-9a-f]+$/

describe("TraceContext: properties", () => {
  it.prop("format ∘ parse is the identity on valid version-00 headers", [validHeader], ([header]) => {
    const parsed = TraceContext.parseTraceParent(header)
    assert(Option.isSome(parsed))
    expect(TraceContext.formatTraceParent(parsed.value)).toBe(header)
  }, runs)

  it.prop("parse ∘ format is the identity on valid models", [model], ([ids]) => {
    const traceParent: TraceContext.TraceParent = { version: "00", ...ids }
    expect(TraceContext.parseTraceParent(TraceContext.formatTraceParent(traceParent))).toEqual(Option.some(traceParent))
    expect(TraceContext.isSampled(traceParent)).toBe(ids.flags % 2 === 1)
  }, runs)

  it.prop("a higher version (01..fe) with any suffix parses to the same ids and re-emits as 00", [
    model,
    FastCheck.integer({ min: 0x01, max: 0xfe }),
    FastCheck.option(FastCheck.string(), { nil: undefined })
  ], ([ids, version, extra]) => {
    const header = tp(flagsHex(version), ids.traceId, ids.parentId, flagsHex(ids.flags), extra === undefined ? "" : `-${extra}`)
    const parsed = TraceContext.parseTraceParent(header)
    const sampledOnly = ids.flags % 2
    expect(parsed).toEqual(Option.some({ version: "00", traceId: ids.traceId, parentId: ids.parentId, flags: sampledOnly }))
    expect(TraceContext.formatTraceParent(Option.getOrThrow(parsed)))
      .toBe(`00-${ids.traceId}-${ids.parentId}-${flagsHex(sampledOnly)}`)
  }, runs)

  it.prop("changing one character of a valid header to a non-lowercase-hex character (or a dash to anything else) invalidates it", [
    validHeader,
    FastCheck.integer({ min: 0, max: 54 }),
    FastCheck.oneof(FastCheck.constantFrom(..."ABCDEFGghxz- _.\u00e9"), FastCheck.fullUnicode())
  ], ([header, at, c]) => {
    const isDash = at === 2 || at === 35 || at === 52
    const stillValid = isDash ? c === "-" : lowerHex.includes(c)
    // a zero-to-nonzero swap can't zero an id, but a nonzero-to-zero swap can: leave those to the vectors
    if (stillValid) return
    expect(TraceContext.parseTraceParent(put(header, at, c))).toEqual(Option.none())
  }, runs)

  it.prop("any string: never throws, and a result is well-formed and taken from the input", [
    FastCheck.oneof(
      FastCheck.string(),
      FastCheck.fullUnicodeString(),
      FastCheck.stringOf(FastCheck.constantFrom(..."0f-Ff \t"), { maxLength: 70 }),
      validHeader.chain((h) => FastCheck.tuple(FastCheck.nat(h.length), FastCheck.string()).map(([at, s]) => h.slice(0, at) + s + h.slice(at)))
    )
  ], ([header]) => {
    const parsed = TraceContext.parseTraceParent(header)
    if (Option.isNone(parsed)) return
    const { flags, parentId, traceId, version } = parsed.value
    expect(version).toBe("00")
    expect(traceId).toMatch(HexField)
    expect(traceId).toHaveLength(32)
    expect(parentId).toMatch(HexField)
    expect(parentId).toHaveLength(16)
    expect(traceId).not.toMatch(/^0+$/)
    expect(parentId).not.toMatch(/^0+$/)
    expect(flags).toBeGreaterThanOrEqual(0)
    expect(flags).toBeLessThanOrEqual(255)
    expect(header).toContain(`-${traceId}-${parentId}-`)
  }, runs)

  it.prop("tracestate parsing never throws on any string and keeps at most 32 valid, distinct members", [
    FastCheck.oneof(FastCheck.string(), FastCheck.stringOf(FastCheck.constantFrom(..."a=1,@ \tZ"), { maxLength: 300 }))
  ], ([header]) => {
    const parsed = TraceContext.parseTraceState(header)
    expect(parsed.length).toBeLessThanOrEqual(32)
    expect(new Set(parsed.map((x) => x.key)).size).toBe(parsed.length)
    for (const member of parsed) {
      expect(TraceContext.isValidKey(member.key)).toBe(true)
      expect(TraceContext.isValidValue(member.value)).toBe(true)
    }
  }, runs)

  // Generators built from the grammar's character classes.
  const keyTail = [..."abcdefghijklmnopqrstuvwxyz0123456789_-*/"]
  const simpleKey = FastCheck.tuple(
    FastCheck.constantFrom(..."abcdefghijklmnopqrstuvwxyz"),
    FastCheck.stringOf(FastCheck.constantFrom(...keyTail), { maxLength: 255 })
  ).map(([head, tail]) => head + tail)
  const multiTenantKey = FastCheck.tuple(
    FastCheck.constantFrom(..."abcdefghijklmnopqrstuvwxyz0123456789"),
    FastCheck.stringOf(FastCheck.constantFrom(...keyTail), { maxLength: 240 }),
    FastCheck.constantFrom(..."abcdefghijklmnopqrstuvwxyz"),
    FastCheck.stringOf(FastCheck.constantFrom(...keyTail), { maxLength: 13 })
  ).map(([t, tenant, s, system]) => `${t}${tenant}@${s}${system}`)
  const key = FastCheck.oneof(simpleKey, multiTenantKey)
  const value = FastCheck.tuple(
    FastCheck.stringOf(FastCheck.constantFrom(...allValueChars), { maxLength: 255 }),
    FastCheck.constantFrom(...allValueChars.replace(" ", ""))
  ).map(([body, last]) => body + last)
  const member = FastCheck.record({ key, value })
  const validList = FastCheck.uniqueArray(member, { selector: (x) => x.key, maxLength: 32 })
  const ows = FastCheck.stringOf(FastCheck.constantFrom(" ", "\t"), { maxLength: 3 })

  it.prop("tracestate round trip: parse ∘ format is the identity on valid member lists", [validList], ([members]) => {
    expect(TraceContext.parseTraceState(TraceContext.formatTraceState(members))).toEqual(members)
  }, runs)

  it.prop("tracestate: OWS and empty members between valid members change nothing", [
    validList.chain((members) =>
      FastCheck.tuple(
        FastCheck.constant(members),
        FastCheck.array(FastCheck.tuple(ows, ows, FastCheck.boolean()), { minLength: members.length, maxLength: members.length })
      )
    )
  ], ([[members, padding]]) => {
    const header = members
      .map((x, i) => {
        const [before, after, emptyAfter] = padding[i]!
        return `${before}${x.key}=${x.value}${after}` + (emptyAfter ? `,${before}` : "")
      })
      .join(",")
    expect(TraceContext.parseTraceState(header)).toEqual(members)
  }, runs)

  it.prop("tracestate: with duplicate keys and over-long lists, the first 32 distinct keys are kept, first occurrence", [
    FastCheck.array(
      FastCheck.record({ key: FastCheck.constantFrom(...Array.from({ length: 40 }, (_, i) => `k${i}`)), value }),
      { maxLength: 80 }
    )
  ], ([members]) => {
    const firstByKey = members.filter((x, i) => members.findIndex((y) => y.key === x.key) === i)
    expect(TraceContext.parseTraceState(TraceContext.formatTraceState(members))).toEqual(firstByKey.slice(0, 32))
  }, runs)
})
