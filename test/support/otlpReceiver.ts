/**
 * A tiny OTLP/HTTP receiver for tests: an HTTP server on 127.0.0.1 (random port) that records every request
 * and answers with a configurable status, plus decoders for what it received — JSON (`http/json`) and a minimal
 * protobuf wire-format reader for `ExportTraceServiceRequest` and `ExportMetricsServiceRequest`
 * (`http/protobuf`), written from the OTLP `.proto` field numbers. Both protocols decode to the same
 * {@link DecodedSpan} / {@link DecodedMetric} shapes so a test can assert the same things for either.
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
 * The envelope every OTLP export request shares (traces and metrics alike): 1 repeated Resource{Spans,Metrics} {
 * 1 Resource { 1 attributes }, 2 repeated Scope{Spans,Metrics} { 1 InstrumentationScope { 1 name }, 2 repeated item } }.
 * Calls `item` with each item's bytes, its resource attributes and its scope name.
 */
const forEachItem = (
  body: Uint8Array,
  item: (bytes: Uint8Array, resource: Record<string, AnyValue>, scope: string) => void
): void => {
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
      for (const f of ssFields) {
        if (f.no === 2) item(lengthDelimited(f), resource, scope)
      }
    }
  }
}

/** ExportTraceServiceRequest: the envelope, with `Span`s as items. */
export const decodeProtobuf = (body: Uint8Array): Array<DecodedSpan> => {
  const spans: Array<DecodedSpan> = []
  forEachItem(body, (bytes, resource, scope) => spans.push(protoSpan(bytes, resource, scope)))
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

/** The OTLP/JSON envelope: `resource<Signal>[].scope<Signal>[].<signal>[]`, with each item's resource and scope. */
const forEachJsonItem = (
  body: Uint8Array,
  signal: "Spans" | "Metrics",
  item: (raw: JsonObject, resource: Record<string, AnyValue>, scope: string) => void
): void => {
  const request = obj(JSON.parse(utf8.decode(body)) as Json)
  for (const rs of arr(request[`resource${signal}`])) {
    const resource = jsonKeyValues(obj(obj(rs)["resource"])["attributes"])
    for (const ss of arr(obj(rs)[`scope${signal}`])) {
      const scope = text(obj(obj(ss)["scope"])["name"])
      for (const raw of arr(obj(ss)[signal.toLowerCase()])) item(obj(raw), resource, scope)
    }
  }
}

/** OTLP/JSON: ids are hex strings, enums numbers, 64-bit times decimal strings (or numbers). */
export const decodeJson = (body: Uint8Array): Array<DecodedSpan> => {
  const spans: Array<DecodedSpan> = []
  forEachJsonItem(body, "Spans", (s, resource, scope) => {
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
  })
  return spans
}

/** Decodes one received request with the decoder its content type asks for. */
const byContentType = <A>(
  request: ReceivedRequest,
  protobuf: (body: Uint8Array) => Array<A>,
  json: (body: Uint8Array) => Array<A>
): Array<A> => {
  const type = String(request.headers["content-type"] ?? "")
  if (type.startsWith("application/x-protobuf")) return protobuf(request.body)
  if (type.startsWith("application/json")) return json(request.body)
  throw new Error(`unexpected content-type ${JSON.stringify(type)}`)
}

/** Decodes one received traces request by its content type. */
export const decodeRequest = (request: ReceivedRequest): Array<DecodedSpan> =>
  byContentType(request, decodeProtobuf, decodeJson)

// Metrics ---------------------------------------------------------------------------------------------------------

export interface DecodedPoint {
  readonly attributes: Readonly<Record<string, AnyValue>>
  readonly startTimeUnixNano: string
  readonly timeUnixNano: string
  /** Sum and gauge points. */
  readonly value?: number
  /** Histogram points. */
  readonly count?: number
  readonly sum?: number
  readonly min?: number
  readonly max?: number
  readonly bucketCounts?: ReadonlyArray<number>
  readonly explicitBounds?: ReadonlyArray<number>
}

export interface DecodedMetric {
  readonly resource: Readonly<Record<string, AnyValue>>
  readonly scope: string
  readonly name: string
  readonly unit: string
  readonly description: string
  readonly kind: "gauge" | "sum" | "histogram" | "other"
  /** The OTLP enum: 1 delta, 2 cumulative (0 for gauges). */
  readonly temporality: number
  readonly isMonotonic: boolean
  readonly points: ReadonlyArray<DecodedPoint>
}

const float64 = (bytes: Uint8Array, at = 0): number => view(bytes).getFloat64(at, true)

/** A repeated fixed64/double field: packed (one length-delimited field) or not (one field per value). */
const repeated8 = (fields: ReadonlyArray<Field>, no: number, read: (bytes: Uint8Array, at: number) => number) => {
  const out: Array<number> = []
  for (const f of fields) {
    if (f.no !== no) continue
    if (f.wire === 1) out.push(read(f.bytes, 0))
    else if (f.wire === 2) for (let at = 0; at + 8 <= f.bytes.length; at += 8) out.push(read(f.bytes, at))
  }
  return out
}

const uint64At = (bytes: Uint8Array, at: number): number => Number(view(bytes).getBigUint64(at, true))

// NumberDataPoint { 7 attributes, 2 start fixed64, 3 time fixed64, 4 as_double, 6 as_int sfixed64 }
// HistogramDataPoint { 9 attributes, 2 start, 3 time, 4 count fixed64, 5 sum double, 6 bucket_counts fixed64*,
//                      7 explicit_bounds double*, 11 min double, 12 max double }
const protoPoint = (buf: Uint8Array, histogram: boolean): DecodedPoint => {
  const fields = readFields(buf)
  const one = (no: number) => fields.find((f) => f.no === no)
  const fixed = (no: number, read: (bytes: Uint8Array) => number) => {
    const f = one(no)
    return f !== undefined && f.wire === 1 ? read(f.bytes) : undefined
  }
  const nanosOf = (no: number) => {
    const f = one(no)
    return f === undefined ? "0" : nanos(f)
  }
  const base = { attributes: keyValues(fields, histogram ? 9 : 7), startTimeUnixNano: nanosOf(2), timeUnixNano: nanosOf(3) }
  if (!histogram) {
    const asDouble = fixed(4, float64)
    const asInt = fixed(6, (b) => Number(view(b).getBigInt64(0, true)))
    return { ...base, ...(asDouble !== undefined ? { value: asDouble } : asInt !== undefined ? { value: asInt } : {}) }
  }
  const optional = (key: string, value: number | undefined) => value === undefined ? {} : { [key]: value }
  return {
    ...base,
    count: fixed(4, (b) => uint64At(b, 0)) ?? 0,
    ...optional("sum", fixed(5, float64)),
    ...optional("min", fixed(11, float64)),
    ...optional("max", fixed(12, float64)),
    bucketCounts: repeated8(fields, 6, uint64At),
    explicitBounds: repeated8(fields, 7, float64)
  }
}

// Metric { 1 name, 2 description, 3 unit, 5 gauge, 7 sum, 9 histogram }; Gauge { 1 points };
// Sum { 1 points, 2 temporality, 3 is_monotonic }; Histogram { 1 points, 2 temporality }
const protoMetric = (buf: Uint8Array, resource: Record<string, AnyValue>, scope: string): DecodedMetric => {
  const metric = {
    resource,
    scope,
    name: "",
    unit: "",
    description: "",
    kind: "other" as DecodedMetric["kind"],
    temporality: 0,
    isMonotonic: false,
    points: [] as Array<DecodedPoint>
  }
  for (const f of readFields(buf)) {
    if (f.no === 1) metric.name = str(f)
    else if (f.no === 2) metric.description = str(f)
    else if (f.no === 3) metric.unit = str(f)
    else if (f.no === 5 || f.no === 7 || f.no === 9) {
      metric.kind = f.no === 5 ? "gauge" : f.no === 7 ? "sum" : "histogram"
      for (const d of readFields(lengthDelimited(f))) {
        if (d.no === 1) metric.points.push(protoPoint(lengthDelimited(d), f.no === 9))
        else if (d.no === 2) metric.temporality = num(d)
        else if (d.no === 3) metric.isMonotonic = num(d) !== 0
      }
    }
  }
  return metric
}

/** ExportMetricsServiceRequest: the envelope, with `Metric`s as items. */
export const decodeMetricsProtobuf = (body: Uint8Array): Array<DecodedMetric> => {
  const metrics: Array<DecodedMetric> = []
  forEachItem(body, (bytes, resource, scope) => metrics.push(protoMetric(bytes, resource, scope)))
  return metrics
}

const jsonNumbers = (value: Json | undefined): Array<number> => arr(value).map((v) => Number(v))

const jsonPoint = (raw: Json, histogram: boolean): DecodedPoint => {
  const p = obj(raw)
  const base = {
    attributes: jsonKeyValues(p["attributes"]),
    startTimeUnixNano: text(p["startTimeUnixNano"]),
    timeUnixNano: text(p["timeUnixNano"])
  }
  const optional = (key: string, value: Json | undefined) => value === undefined ? {} : { [key]: Number(value) }
  if (!histogram) return { ...base, ...optional("value", p["asDouble"] ?? p["asInt"]) }
  return {
    ...base,
    count: Number(p["count"] ?? 0),
    ...optional("sum", p["sum"]),
    ...optional("min", p["min"]),
    ...optional("max", p["max"]),
    bucketCounts: jsonNumbers(p["bucketCounts"]),
    explicitBounds: jsonNumbers(p["explicitBounds"])
  }
}

/** OTLP/JSON metrics: int64 values may be numbers or decimal strings. */
export const decodeMetricsJson = (body: Uint8Array): Array<DecodedMetric> => {
  const metrics: Array<DecodedMetric> = []
  forEachJsonItem(body, "Metrics", (m, resource, scope) => {
    const kind = "histogram" in m ? "histogram" : "sum" in m ? "sum" : "gauge" in m ? "gauge" : "other"
    const data = kind === "other" ? {} : obj(m[kind])
    metrics.push({
      resource,
      scope,
      name: text(m["name"]),
      unit: text(m["unit"]),
      description: text(m["description"]),
      kind,
      temporality: Number(data["aggregationTemporality"] ?? 0),
      isMonotonic: data["isMonotonic"] === true,
      points: arr(data["dataPoints"]).map((p) => jsonPoint(p, kind === "histogram"))
    })
  })
  return metrics
}

/** Decodes one received metrics request by its content type. */
export const decodeMetricsRequest = (request: ReceivedRequest): Array<DecodedMetric> =>
  byContentType(request, decodeMetricsProtobuf, decodeMetricsJson)

// The receiver ------------------------------------------------------------------------------------------------

export interface OtlpReceiver {
  /** The traces URL to export to: `http://127.0.0.1:<port>/v1/traces`. */
  readonly url: string
  /** The metrics URL: `http://127.0.0.1:<port>/v1/metrics`. */
  readonly metricsUrl: string
  readonly requests: ReadonlyArray<ReceivedRequest>
  /** Every span of every request to `/v1/traces` so far. */
  readonly spans: () => Array<DecodedSpan>
  /** Every metric of every request to `/v1/metrics` so far, in arrival order. */
  readonly metrics: () => Array<DecodedMetric>
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
    metricsUrl: `http://127.0.0.1:${port}/v1/metrics`,
    requests,
    spans: () => requests.filter((r) => r.path === "/v1/traces").flatMap(decodeRequest),
    metrics: () => requests.filter((r) => r.path === "/v1/metrics").flatMap(decodeMetricsRequest),
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
