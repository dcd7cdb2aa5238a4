/**
 * Strict W3C Trace Context (Level 2): parse and format the `traceparent` and `tracestate` headers.
 *
 * Effect's own extraction (`HttpTraceContext.fromHeaders`) accepts uppercase hex, all-zero ids and non-hex flags,
 * rejects valid future versions, falls back to `b3` headers and ignores `tracestate`; a gateway that writes into
 * its callers' traces parses them itself, strictly. Everything here is pure: invalid input gives `None` (or drops
 * the offending `tracestate` member) and nothing throws.
 *
 * Whitespace: an HTTP field value never includes leading or trailing whitespace (RFC 9110 §5.5: SP and HTAB are
 * stripped by the HTTP parser), so both parsers ignore leading and trailing SP/HTAB. Any other whitespace
 * (CR, LF, whitespace inside the value) makes a `traceparent` invalid.
 *
 * @since 0.1.0
 */
import * as OtelTracer from "@effect/opentelemetry/Tracer"
import type * as PlatformHeaders from "@effect/platform/Headers"
import * as Option from "effect/Option"
import type * as Tracer from "effect/Tracer"
import * as Headers from "../internal/headers.js"

/**
 * A parsed `traceparent`. `version` is always `"00"`: a header of a higher version is read through its version-00
 * prefix and is re-emitted as version 00.
 *
 * @since 0.1.0
 * @category models
 */
export interface TraceParent {
  readonly version: "00"
  /** 32 lowercase hex digits, not all zero. */
  readonly traceId: string
  /** 16 lowercase hex digits, not all zero: the caller's span id. */
  readonly parentId: string
  /** The trace-flags byte, 0..255. Test bits, never the whole value (see {@link isSampled}). */
  readonly flags: number
}

/**
 * One `tracestate` list member.
 *
 * @since 0.1.0
 * @category models
 */
export interface TraceStateMember {
  readonly key: string
  readonly value: string
}

/**
 * A parsed `tracestate`: its members in header order (left-most first), unique keys, at most 32.
 *
 * @since 0.1.0
 * @category models
 */
export type TraceState = ReadonlyArray<TraceStateMember>

/**
 * The trace context of an incoming request.
 *
 * @since 0.1.0
 * @category models
 */
export interface TraceContext {
  readonly traceParent: TraceParent
  readonly traceState: TraceState
}

/**
 * The `sampled` trace flag (bit 0).
 *
 * @since 0.1.0
 * @category constants
 */
export const SampledFlag = 0x01

/**
 * The Level 2 `random-trace-id` trace flag (bit 1).
 *
 * @since 0.1.0
 * @category constants
 */
export const RandomTraceIdFlag = 0x02

/**
 * The most list members a `tracestate` may carry.
 *
 * @since 0.1.0
 * @category constants
 */
export const maxTraceStateMembers = 32

/**
 * Whether the caller recorded (or may record) its span: bit 0 of the flags.
 *
 * @since 0.1.0
 * @category accessors
 */
export const isSampled = (traceParent: { readonly flags: number }): boolean => (traceParent.flags & SampledFlag) !== 0

// Leading/trailing SP and HTAB only; a manual loop, since `/[ \t]+$/` backtracks quadratically on long runs.
const isOws = (code: number): boolean => code === 0x20 || code === 0x09

const trimOws = (s: string): string => {
  let start = 0
  let end = s.length
  while (start < end && isOws(s.charCodeAt(start))) start++
  while (end > start && isOws(s.charCodeAt(end - 1))) end--
  return start === 0 && end === s.length ? s : s.slice(start, end)
}

// The version-00 layout; what follows the flags is only allowed (and ignored) for higher versions.
const traceParentPattern = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-[\s\S]*)?$/
const allZero = /^0+$/

/**
 * Parses a `traceparent` value. `None` unless it is valid:
 *
 * - version `00`: exactly `vv-<32 hex>-<16 hex>-<2 hex>` (55 characters), lowercase hex only;
 * - version `ff` is never valid; an all-zero trace-id or parent-id is invalid;
 * - a higher version (`01`..`fe`) is read by its version-00 prefix: the first 55 characters must be valid as above
 *   and be followed by the end of the value or `-` (the fields after it are ignored). Only the sampled bit of its
 *   flags is kept, since the other bits may mean something else in that version.
 *
 * Leading and trailing SP/HTAB are ignored (see the module note).
 *
 * @since 0.1.0
 * @category parsing
 */
export const parseTraceParent = (header: string): Option.Option<TraceParent> => {
  if (typeof header !== "string") return Option.none()
  const match = traceParentPattern.exec(trimOws(header))
  if (match === null) return Option.none()
  const [, version = "", traceId = "", parentId = "", flagsHex = "", rest] = match
  if (version === "ff" || (version === "00" && rest !== undefined)) return Option.none()
  if (allZero.test(traceId) || allZero.test(parentId)) return Option.none()
  const flags = Number.parseInt(flagsHex, 16)
  return Option.some({ version: "00", traceId, parentId, flags: version === "00" ? flags : flags & SampledFlag })
}

const hex2 = (n: number): string => (n & 0xff).toString(16).padStart(2, "0")

/**
 * Formats a `traceparent` value, always as version `00`. The ids are written as given (callers pass ids from a
 * parsed header or from a span); flags are reduced to one byte.
 *
 * @since 0.1.0
 * @category formatting
 */
export const formatTraceParent = (
  traceParent: { readonly traceId: string; readonly parentId: string; readonly flags: number }
): string => `00-${traceParent.traceId}-${traceParent.parentId}-${hex2(traceParent.flags)}`

// Key: a simple key, or `tenant@system` (tenant up to 241 chars and may start with a digit; system up to 14).
const simpleKey = /^[a-z][a-z0-9_\-*/]{0,255}$/
const multiTenantKey = /^[a-z0-9][a-z0-9_\-*/]{0,240}@[a-z][a-z0-9_\-*/]{0,13}$/
// Value: printable ASCII but `,` and `=`, 1..256 characters, not ending in a space.
const memberValue = /^[\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,255}[\x21-\x2b\x2d-\x3c\x3e-\x7e]$/

/**
 * Whether `key` is a valid `tracestate` key.
 *
 * @since 0.1.0
 * @category predicates
 */
export const isValidKey = (key: string): boolean => simpleKey.test(key) || multiTenantKey.test(key)

/**
 * Whether `value` is a valid `tracestate` value.
 *
 * @since 0.1.0
 * @category predicates
 */
export const isValidValue = (value: string): boolean => memberValue.test(value)

const parseMember = (raw: string): TraceStateMember | undefined => {
  const eq = raw.indexOf("=")
  if (eq < 0) return undefined
  const key = raw.slice(0, eq)
  const value = raw.slice(eq + 1)
  return isValidKey(key) && isValidValue(value) ? { key, value } : undefined
}

/**
 * Parses a `tracestate` value. Members are separated by `,` with optional SP/HTAB around them; empty members are
 * skipped. The result is never "invalid" as a whole — each member stands alone:
 *
 * - an invalid member (bad key, bad value, no `=`) drops just that member (the spec would also allow discarding
 *   the whole header; keeping the valid members loses less of the caller's vendor data);
 * - a key seen again drops the later member (the left-most occurrence wins);
 * - after 32 valid, distinct members the rest is dropped (invalid and duplicate members do not count).
 *
 * @since 0.1.0
 * @category parsing
 */
export const parseTraceState = (header: string): TraceState => {
  if (typeof header !== "string") return []
  const members: Array<TraceStateMember> = []
  const seen = new Set<string>()
  for (const part of header.split(",")) {
    if (members.length === maxTraceStateMembers) break
    const member = parseMember(trimOws(part))
    if (member === undefined || seen.has(member.key)) continue
    seen.add(member.key)
    members.push(member)
  }
  return members
}

/**
 * Formats a `tracestate` value: `key=value` members joined by `,`, in order. Members are written as given; a
 * {@link TraceState} from {@link parseTraceState} always formats to a valid header.
 *
 * @since 0.1.0
 * @category formatting
 */
export const formatTraceState = (traceState: TraceState): string =>
  traceState.map((member) => `${member.key}=${member.value}`).join(",")

/**
 * Reads the trace context of a request. Only `traceparent` and `tracestate` are ever read (any key casing); no
 * other header is looked at, and there is no fallback to `b3`.
 *
 * Several values (an array, or keys differing only in case) are combined per HTTP rules: `tracestate` is a list,
 * so its values are joined with `,`; `traceparent` is a single-value field, so several values make it invalid.
 * `None` when `traceparent` is absent or invalid; `tracestate` is then discarded (not even read).
 *
 * @since 0.1.0
 * @category parsing
 */
export const fromHeaders = (
  headers: Headers.HeadersInput | PlatformHeaders.Headers
): Option.Option<TraceContext> => {
  const parents = Headers.values(headers, "traceparent")
  if (parents.length !== 1) return Option.none()
  return Option.map(parseTraceParent(parents[0]!), (traceParent) => ({
    traceParent,
    traceState: parseTraceState(Headers.values(headers, "tracestate").join(","))
  }))
}

/**
 * The caller's span as an Effect external span, to parent spans under it. Its flags and `tracestate` travel with it
 * into the OpenTelemetry context, so spans made under it carry the caller's sampling decision and vendor state.
 *
 * @since 0.1.0
 * @category conversions
 */
export const toExternalSpan = (
  context: { readonly traceParent: TraceParent; readonly traceState?: TraceState | undefined }
): Tracer.ExternalSpan =>
  OtelTracer.makeExternalSpan({
    traceId: context.traceParent.traceId,
    spanId: context.traceParent.parentId,
    traceFlags: context.traceParent.flags,
    ...(context.traceState === undefined || context.traceState.length === 0
      ? {}
      : { traceState: formatTraceState(context.traceState) })
  })
