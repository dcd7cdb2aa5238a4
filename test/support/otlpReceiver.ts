/**
 * A tiny OTLP/HTTP trace receiver for tests: an HTTP server on 127.0.0.1 (random port) that records every request
 * and answers with a configurable status, plus decoders for what it received — JSON (`http/json`) and a minimal
 * protobuf wire-format reader for `ExportTraceServiceRequest` (`http/protobuf`), written from the OTLP `.proto`
 * field numbers. Both decode to the same {@link DecodedSpan} shape so a test can assert the same things for
 * either protocol.
 */
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import { createServer, type IncomingHttpHeaders, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import { gunzipSync } from "node:zlib"

// Decoded model ---------------------------------------------------------------------------------------------------

export type AnyValue =
  | string
  | number
  | boolean
  | null
  | Uint8Array
  | ReadonlyArray<AnyValue>
  | { readonly kvlist: Readonly<Record<string, AnyValue>> }

export interface DecodedEvent {
  readonly name: string
  readonly timeUnixNano: string
  readonly attributes: Readonly<Record<string, AnyValue>>
}

export interface DecodedSpan {
  readonly resource: Readonly<Record<string, AnyValue>>
  readonly scope: string
  readonly traceId: string
  readonly spanId: string
  /** "" for a root span. */
  readonly parentSpanId: string
  readonly name: string
  /** The OTLP enum: 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  readonly kind: number
  readonly startTimeUnixNano: string
  readonly endTimeUnixNano: string
  readonly attributes: Readonly<Record<string, AnyValue>>
  readonly events: ReadonlyArray<DecodedEvent>
  /** The OTLP enum: 0 unset, 1 ok, 2 error. */
  readonly status: { readonly code: number; readonly message: string }
}

export interface ReceivedRequest {
  readonly method: string
  readonly path: string
  readonly headers: IncomingHttpHeaders
  /** The body as sent (still compressed if it was). */
  readonly raw: Uint8Array
  /** The body after `content-encoding: gzip` was undone. */
  readonly body: Uint8Array
}

// Protobuf wire format ------------------------------------------------------------------------------------------

type Field =
  | { readonly no: number; readonly wire: 0; readonly varint: bigint }
  | { readonly no: number; readonly wire: 1; readonly bytes: Uint8Array } // 8 bytes, little-endian
  | { readonly no: number; readonly wire: 2; readonly bytes: Uint8Array }
  | { readonly no: number; readonly wire: 5; readonly bytes: Uint8Array } // 4 bytes, little-endian

/** Splits one message into its fields, in order. Throws on truncated or unknown wire types. */
export const readFields = (buf: Uint8Array): Array<Field> => {
  const fields: Array<Field> = []
  let pos = 0
  const varint = (): bigint => {
    let result = 0n
    let shift = 0n
    for (;;) {
      if (pos >= buf.length) throw new Error("truncated varint")
      const byte = buf[pos++]!
      result |= BigInt(byte & 0x7f) << shift
      if ((byte & 0x80) === 0) return result
      shift += 7n
      if (shift > 63n) throw new Error("varint too long")
    }
  }
  const take = (n: number): Uint8Array => {
    if (pos + n > buf.length) throw new Error("truncated field")
    const out = buf.subarray(pos, pos + n)
    pos += n
    return out
  }
  while (pos < buf.length) {
    const key = varint()
    const no = Number(key >> 3n)
    const wire = Number(key & 7n)
    switch (wire) {
      case 0:
        fields.push({ no, wire, varint: varint() })
        break
      case 1:
        fields.push({ no, wire, bytes: take(8) })
        break
      case 2:
        fields.push({ no, wire, bytes: take(Number(varint())) })
        break
      case 5:
        fields.push({ no, wire, bytes: take(4) })
        break
      default:
        throw new Error(`unsupported wire type ${wire}`)
    }
  }
  return fields
}

const utf8 = new TextDecoder("utf-8", { fatal: true })
const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString("hex")
const view = (bytes: Uint8Array) => new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
const fixed64 = (bytes: Uint8Array): bigint => view(bytes).getBigUint64(0, true)

const lengthDelimited = (field: Field): Uint8Array => {
  if (field.wire !== 2) throw new Error(`field ${field.no}: expected length-delimited`)
  return field.bytes
}
const str = (field: Field): string => utf8.decode(lengthDelimited(field))
const num = (field: Field): number => {
  if (field.wire !== 0) throw new Error(`field ${field.no}: expected varint`)
  return Number(BigInt.asIntN(64, field.varint))
}
const nanos = (field: Field): string => {
  if (field.wire !== 1) throw new Error(`field ${field.no}: expected fixed64`)
  return fixed64(field.bytes).toString()
}

// common.proto: AnyValue { 1 string, 2 bool, 3 int64, 4 double, 5 ArrayValue, 6 KeyValueList, 7 bytes }
const anyValue = (buf: Uint8Array): AnyValue => {
  let value: AnyValue = null
  for (const f of readFields(buf)) {
    switch (f.no) {
      case 1:
        value = str(f)
        break
      case 2:
        value = num(f) !== 0
        break
      case 3:
        value = num(f)
        break
      case 4:
        if (f.wire !== 1) throw new Error("double: expected fixed64")
        value = view(f.bytes).getFloat64(0, true)
        break
      case 5: // ArrayValue { 1 repeated AnyValue }
        value = readFields(lengthDelimited(f)).filter((v) => v.no === 1).map((v) => anyValue(lengthDelimited(v)))
        break
      case 6: // KeyValueList { 1 repeated KeyValue }
        value = { kvlist: keyValues(readFields(lengthDelimited(f)), 1) }
        break
      case 7:
        value = lengthDelimited(f).slice()
        break
    }
  }
  return value
}

// KeyValue { 1 key, 2 AnyValue }
const keyValues = (fields: ReadonlyArray<Field>, no: number): Record<string, AnyValue> => {
  const out: Record<string, AnyValue> = {}
  for (const f of fields) {
    if (f.no !== no) continue
    let key = ""
    let value: AnyValue = null
    for (const kv of readFields(lengthDelimited(f))) {
      if (kv.no === 1) key = str(kv)
      else if (kv.no === 2) value = anyValue(lengthDelimited(kv))
    }
    out[key] = value
  }
  return out
}

// Span.Event { 1 time fixed64, 2 name, 3 attributes }
const protoEvent = (buf: Uint8Array): DecodedEvent => {
  const fields = readFields(buf)
  let name = ""
  let timeUnixNano = "0"
  for (const f of fields) {
    if (f.no === 1) timeUnixNano = nanos(f)
    else if (f.no === 2) name = str(f)
  }
  return { name, timeUnixNano, attributes: keyValues(fields, 3) }
}

// Span { 1 trace_id, 2 span_id, 4 parent_span_id, 5 name, 6 kind, 7 start fixed64, 8 end fixed64,
//        9 attributes, 11 events, 15 status { 2 message, 3 code } }
const protoSpan = (buf: Uint8Array, resource: Record<string, AnyValue>, scope: string): DecodedSpan => {
  const fields = readFields(buf)
  const span = {
    resource,
    scope,
    traceId: "",
    spanId: "",
    parentSpanId: "",
    name: "",
    kind: 0,
    startTimeUnixNano: "0",
    endTimeUnixNano: "0",
    attributes: keyValues(fields, 9),
    events: [] as Array<DecodedEvent>,
    status: { code: 0, message: "" }
  }
  for (const f of fields) {
    switch (f.no) {
      case 1:
        span.traceId = hex(lengthDelimited(f))
        break
      case 2:
        span.spanId = hex(lengthDelimited(f))
        break
      case 4:
        span.parentSpanId = hex(lengthDelimited(f))
        break
      case 5:
        span.name = str(f)
        break
      case 6:
        span.kind = num(f)
        break
      case 7:
        span.startTimeUnixNano = nanos(f)
        break
      case 8:
        span.endTimeUnixNano = nanos(f)
        break
      case 11:
        span.events.push(protoEvent(lengthDelimited(f)))
        break
      case 15:
        for (const s of readFields(lengthDelimited(f))) {
          if (s.no === 2) span.status = { ...span.status, message: str(s) }
          else if (s.no === 3) span.status = { ...span.status, code: num(s) }
        }
        break
    }
  }
  return span
}

/**
 * ExportTraceServiceRequest { 1 repeated ResourceSpans { 1 Resource { 1 attributes }, 2 repeated ScopeSpans {
 * 1 InstrumentationScope { 1 name }, 2 repeated Span } } }
 */
export const decodeProtobuf = (body: Uint8Array): Array<DecodedSpan> => {
  const spans: Array<DecodedSpan> = []
  for (const rs of readFields(body)) {
    if (rs.no !== 1) continue
    const rsFields = readFields(lengthDelimited(rs))
    const resourceField = rsFields.find((f) => f.no === 1)
    const resource = resourceField === undefined ? {} : keyValues(readFields(lengthDelimited(resourceField)), 1)
    for (const ss of rsFields) {
      if (ss.no !== 2) continue
      const ssFields = readFields(lengthDelimited(ss))
      const scopeField = ssFields.find((f) => f.no === 1)
      const scopeName = scopeField === undefined
        ? undefined
        : readFields(lengthDelimited(scopeField)).find((f) => f.no === 1)
      const scope = scopeName === undefined ? "" : str(scopeName)
      for (const s of ssFields) {
        if (s.no === 2) spans.push(protoSpan(lengthDelimited(s), resource, scope))
      }
    }
  }
  return spans
}

// OTLP/JSON -----------------------------------------------------------------------------------------------------

type Json = string | number | boolean | null | ReadonlyArray<Json> | { readonly [key: string]: Json }
type JsonObject = { readonly [key: string]: Json }

const obj = (value: Json | undefined): JsonObject =>
  typeof value === "object" && value !== null && !Array.isArray(value) ? value as JsonObject : {}
const arr = (value: Json | undefined): ReadonlyArray<Json> => Array.isArray(value) ? value : []
const text = (value: Json | undefined): string =>
  typeof value === "string" ? value : value === undefined ? "" : String(value)

const jsonAnyValue = (value: JsonObject): AnyValue => {
  if ("stringValue" in value) return text(value["stringValue"])
  if ("boolValue" in value) return value["boolValue"] === true
  if ("intValue" in value) return Number(value["intValue"]) // int64: a number or a decimal string
  if ("doubleValue" in value) return Number(value["doubleValue"])
  if ("arrayValue" in value) return arr(obj(value["arrayValue"])["values"]).map((v) => jsonAnyValue(obj(v)))
  if ("kvlistValue" in value) return { kvlist: jsonKeyValues(obj(value["kvlistValue"])["values"]) }
  if ("bytesValue" in value) return new Uint8Array(Buffer.from(text(value["bytesValue"]), "base64"))
  return null
}

const jsonKeyValues = (list: Json | undefined): Record<string, AnyValue> => {
  const out: Record<string, AnyValue> = {}
  for (const kv of arr(list)) out[text(obj(kv)["key"])] = jsonAnyValue(obj(obj(kv)["value"]))
  return out
}

/** OTLP/JSON: ids are hex strings, enums numbers, 64-bit times decimal strings (or numbers). */
export const decodeJson = (body: Uint8Array): Array<DecodedSpan> => {
  const spans: Array<DecodedSpan> = []
  const request = obj(JSON.parse(utf8.decode(body)) as Json)
  for (const rs of arr(request["resourceSpans"])) {
    const resource = jsonKeyValues(obj(obj(rs)["resource"])["attributes"])
    for (const ss of arr(obj(rs)["scopeSpans"])) {
      const scope = text(obj(obj(ss)["scope"])["name"])
      for (const raw of arr(obj(ss)["spans"])) {
        const s = obj(raw)
        const status = obj(s["status"])
        spans.push({
          resource,
          scope,
          traceId: text(s["traceId"]),
          spanId: text(s["spanId"]),
          parentSpanId: text(s["parentSpanId"]),
          name: text(s["name"]),
          kind: Number(s["kind"] ?? 0),
          startTimeUnixNano: text(s["startTimeUnixNano"]),
          endTimeUnixNano: text(s["endTimeUnixNano"]),
          attributes: jsonKeyValues(s["attributes"]),
          events: arr(s["events"]).map((e) => ({
            name: text(obj(e)["name"]),
            timeUnixNano: text(obj(e)["timeUnixNano"]),
            attributes: jsonKeyValues(obj(e)["attributes"])
          })),
          status: { code: Number(status["code"] ?? 0), message: text(status["message"]) }
        })
      }
    }
  }
  return spans
}

/** Decodes one received request by its content type. */
export const decodeRequest = (request: ReceivedRequest): Array<DecodedSpan> => {
  const type = String(request.headers["content-type"] ?? "")
  if (type.startsWith("application/x-protobuf")) return decodeProtobuf(request.body)
  if (type.startsWith("application/json")) return decodeJson(request.body)
  throw new Error(`unexpected content-type ${JSON.stringify(type)}`)
}

// The receiver ------------------------------------------------------------------------------------------------

export interface OtlpReceiver {
  /** The traces URL to export to: `http://127.0.0.1:<port>/v1/traces`. */
  readonly url: string
  readonly requests: ReadonlyArray<ReceivedRequest>
  /** Every span of every request to `/v1/traces` so far. */
  readonly spans: () => Array<DecodedSpan>
  /** The status answered from now on (200 by default). */
  readonly setStatus: (status: number) => void
}

const listen = (server: Server): Promise<number> =>
  new Promise((resolve, reject) => {
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port))
  })

const close = (server: Server): Promise<void> =>
  new Promise((resolve) => {
    server.closeAllConnections()
    server.close(() => resolve())
  })

/** A receiver listening for the lifetime of the scope. */
export const make: Effect.Effect<OtlpReceiver, never, Scope.Scope> = Effect.gen(function*() {
  const requests: Array<ReceivedRequest> = []
  let status = 200
  const server = createServer((req, res) => {
    const chunks: Array<Buffer> = []
    req.on("data", (chunk: Buffer) => chunks.push(chunk))
    req.on("end", () => {
      const raw = new Uint8Array(Buffer.concat(chunks))
      const body = req.headers["content-encoding"] === "gzip" ? new Uint8Array(gunzipSync(raw)) : raw
      requests.push({ method: req.method ?? "", path: req.url ?? "", headers: req.headers, raw, body })
      const json = String(req.headers["content-type"] ?? "").startsWith("application/json")
      res.writeHead(status, { "content-type": json ? "application/json" : "application/x-protobuf" })
      res.end(json ? "{}" : undefined)
    })
  })
  const port = yield* Effect.acquireRelease(
    Effect.promise(() => listen(server)),
    () => Effect.promise(() => close(server))
  )
  return {
    url: `http://127.0.0.1:${port}/v1/traces`,
    requests,
    spans: () => requests.filter((r) => r.path === "/v1/traces").flatMap(decodeRequest),
    setStatus: (next) => {
      status = next
    }
  }
})

/** A URL on 127.0.0.1 where nothing listens: a port bound, then released. */
export const closedUrl: Effect.Effect<string> = Effect.promise(async () => {
  const server = createServer()
  const port = await listen(server)
  await close(server)
  return `http://127.0.0.1:${port}/v1/traces`
})
