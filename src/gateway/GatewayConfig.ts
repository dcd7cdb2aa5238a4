/**
 * The gateway's config file: a JSON document described by the {@link Config} Schema, loaded by {@link load} from
 * `--config <file>` or `GATEWAY_CONFIG`, with `PORT` overriding the port.
 *
 * ```json
 * { "server": { "host": "127.0.0.1", "port": 8080 }, "replay": "always",
 *   "auth": { "keys": [{ "key": "…", "username": "alice", "userId": "u-1" }] },
 *   "tracing": { "store": { "path": ".effect-llm-trace/traces.db", "maxAgeDays": 7 }, "maxChunkEvents": 0 },
 *   "endpoints": [{ "name": "chat", "id": "ep-chat", "usageTracking": true,
 *     "provider": { "kind": "openai", "model": "gpt-5-mini", "apiKeyEnv": "OPENAI_API_KEY" } }] }
 * ```
 *
 * Unknown fields are rejected (a misspelt `usagetracking` would otherwise be silently ignored), and every
 * problem is reported with the path of its field, e.g. `endpoints[0].provider.kind: expected "openai" |
 * "anthropic" | "gemini" | "echo", got "foo"`. With no file, {@link defaultConfig} serves one `echo` endpoint, so
 * the gateway runs on a fresh machine with no API key.
 *
 * @since 0.1.0
 */
import * as FileSystem from "@effect/platform/FileSystem"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import * as IssuePath from "../internal/issuePath.js"
import * as Dialect from "./Dialect.js"

/**
 * Why the config could not be loaded. `message` is one paragraph for a human, naming the file and the field;
 * never a stack trace.
 *
 * @since 0.1.0
 * @category errors
 */
export class ConfigError extends Data.TaggedError("ConfigError")<{
  readonly reason: "NotFound" | "Unreadable" | "InvalidJson" | "InvalidConfig" | "InvalidArgument"
  readonly message: string
}> {}

// ---------------------------------------------------------------------------------------------------------------
// Field schemas. Each leaf carries its own message so that errors read "expected <what>, got <value>".
// ---------------------------------------------------------------------------------------------------------------

const show = (value: unknown): string => {
  if (value === undefined) return "nothing"
  const json = JSON.stringify(value)
  return json === undefined ? String(value) : json.length > 60 ? `${json.slice(0, 57)}...` : json
}

/** The message of a leaf: overrides the built-in ones (which name Schema internals, not the config). */
const expected = (what: string, reveal = true) => ({
  message: (issue: ParseResult.ParseIssue) => ({
    message: `expected ${what}, got ${reveal ? show(issue.actual) : typeOf(issue.actual)}`,
    override: true
  })
})

/** For containers: only their own "not an object/array" issue; the fields report their own problems. */
const expectedShape = (what: string) => ({
  message: (issue: ParseResult.ParseIssue) => `expected ${what}, got ${show(issue.actual)}`
})

const typeOf = (value: unknown): string =>
  value === null ? "null" : Array.isArray(value) ? "an array" : typeof value === "object" ? "an object" : `a ${typeof value}`

const NonEmpty = Schema.String.pipe(Schema.minLength(1)).annotations(expected("a non-empty string"))

/**
 * The provider kinds.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ProviderKind = Schema.Literal(...Dialect.kinds).annotations(
  expected(Dialect.kinds.map((kind) => JSON.stringify(kind)).join(" | "))
)

const Port = Schema.Int.pipe(Schema.between(0, 65535)).annotations(expected("an integer port from 0 to 65535"))

/** Endpoint names appear in URL paths (Gemini: `models/<name>:generateContent`), so no `/`, `:` or spaces. */
const EndpointName = Schema.String.pipe(Schema.pattern(/^[A-Za-z0-9._-]+$/)).annotations(
  expected("a non-empty name of letters, digits, '.', '_' or '-'")
)

const HttpUrl = Schema.String.pipe(Schema.filter((s) => {
  try {
    const url = new URL(s)
    return url.protocol === "http:" || url.protocol === "https:"
  } catch {
    return false
  }
})).annotations(expected("an http(s) URL such as \"https://api.openai.com/v1\""))

const EnvName = Schema.String.pipe(Schema.pattern(/^[A-Za-z_][A-Za-z0-9_]*$/)).annotations(
  expected("an environment variable name such as \"OPENAI_API_KEY\"")
)

const Count = (what: string, minimum: number) =>
  Schema.Int.pipe(Schema.greaterThanOrEqualTo(minimum)).annotations(expected(what))

/**
 * Where an endpoint's calls go. `model` defaults to the endpoint's name, `baseUrl` and `apiKeyEnv` to the
 * provider's public API and its usual variable; `delayMs` (echo only) spaces the streamed words.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ProviderSettings = Schema.Struct({
  kind: ProviderKind,
  model: Schema.optionalWith(NonEmpty, { exact: true }),
  baseUrl: Schema.optionalWith(HttpUrl, { exact: true }),
  apiKeyEnv: Schema.optionalWith(EnvName, { exact: true }),
  delayMs: Schema.optionalWith(Count("a non-negative integer number of milliseconds", 0), { exact: true })
}).annotations(expectedShape("an object with a \"kind\""))

const Millis = Count("a non-negative integer number of milliseconds", 0)

/**
 * Upstream timeouts in milliseconds: to connect, to receive the response headers, and between two body chunks.
 * Each is optional: an endpoint's override the server's, the server's override the defaults (10 s, 300 s, 300 s).
 *
 * @since 0.2.0
 * @category schemas
 */
export const Timeouts = Schema.Struct({
  connectMs: Schema.optionalWith(Millis, { exact: true }),
  headersMs: Schema.optionalWith(Millis, { exact: true }),
  idleMs: Schema.optionalWith(Millis, { exact: true })
}).annotations(expectedShape("an object with \"connectMs\", \"headersMs\" or \"idleMs\""))

const EndpointFields = Schema.Struct({
  name: EndpointName,
  id: Schema.optionalWith(NonEmpty, { exact: true }),
  usageTracking: Schema.optionalWith(
    Schema.Boolean.annotations(expected("true or false")),
    { exact: true, default: () => true }
  ),
  provider: ProviderSettings,
  timeouts: Schema.optionalWith(Timeouts, { exact: true })
}).annotations(expectedShape("an endpoint object with \"name\" and \"provider\""))

/**
 * One endpoint: the name clients use (body `model`, or the Gemini URL), its id (default: the name), whether calls
 * are traced (default: yes), and its provider.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Endpoint = EndpointFields.pipe(Schema.transform(
  Schema.Struct({
    name: Schema.String,
    id: Schema.String,
    usageTracking: Schema.Boolean,
    provider: Schema.typeSchema(ProviderSettings),
    timeouts: Schema.optionalWith(Schema.typeSchema(Timeouts), { exact: true })
  }),
  {
    strict: true,
    decode: ({ id, ...rest }) => ({ ...rest, id: id ?? rest.name }),
    encode: (endpoint) => endpoint
  }
))

/**
 * @since 0.1.0
 * @category models
 */
export interface Endpoint extends Schema.Schema.Type<typeof Endpoint> {}

/** The first index whose key repeats an earlier one, as a filter issue at `[index, field]`. */
const firstDuplicate = <A>(items: ReadonlyArray<A>, field: string, keyOf: (item: A) => string, describe: (key: string, first: number) => string) => {
  const seen = new Map<string, number>()
  for (let i = 0; i < items.length; i++) {
    const key = keyOf(items[i]!)
    const first = seen.get(key)
    if (first !== undefined) return { path: [i, field], message: describe(key, first) }
    seen.set(key, i)
  }
  return true
}

const Endpoints = Schema.Array(Endpoint).annotations(expectedShape("an array of endpoints")).pipe(
  Schema.filter((endpoints) => endpoints.length > 0 || "expected at least one endpoint, got none"),
  Schema.filter((endpoints) =>
    firstDuplicate(endpoints, "name", (e) => e.name, (name, first) =>
      `duplicate endpoint name ${show(name)} (already used by endpoints[${first}]); names must be unique`)
  ),
  Schema.filter((endpoints) =>
    firstDuplicate(endpoints, "id", (e) => e.id, (id, first) =>
      `duplicate endpoint id ${show(id)} (already used by endpoints[${first}]); ids default to the name and must be unique`)
  )
)

/** Keys are secrets: their errors never print the value. */
const ApiKey = Schema.String.pipe(Schema.minLength(1)).annotations(expected("a non-empty string", false))

const AuthKey = Schema.Struct({
  key: ApiKey,
  username: NonEmpty,
  userId: Schema.optionalWith(NonEmpty, { exact: true })
}).annotations(expectedShape("an object with \"key\" and \"username\""))

/**
 * Gateway keys: when present, callers must send one (`authorization: Bearer <key>` or `x-api-key`); its
 * `username`/`userId` become trace metadata.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Auth = Schema.Struct({
  keys: Schema.Array(AuthKey).annotations(expectedShape("an array of keys")).pipe(
    Schema.filter((keys) =>
      firstDuplicate(keys, "key", (k) => k.key, (_, first) => `duplicate key (same value as auth.keys[${first}].key)`)
    )
  )
}).annotations(expectedShape("an object with \"keys\""))

const HostName = Schema.String.pipe(Schema.pattern(/^(\*|\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)$/)).annotations(
  expected("a host name such as \"gateway.internal\", an IP address, or \"*\"")
)

const OriginUrl = Schema.String.pipe(Schema.pattern(/^https?:\/\/[^/\s]+$/)).annotations(
  expected("an origin such as \"https://app.example.com\" (scheme, host and port only)")
)

const Server = Schema.Struct({
  host: Schema.optionalWith(NonEmpty, { exact: true, default: () => "127.0.0.1" }),
  port: Schema.optionalWith(Port, { exact: true, default: () => 8080 }),
  maxBodyBytes: Schema.optionalWith(Count("a positive integer number of bytes", 1), { exact: true }),
  allowedHosts: Schema.optionalWith(Schema.Array(HostName).annotations(expectedShape("an array of host names")), { exact: true }),
  allowedOrigins: Schema.optionalWith(Schema.Array(OriginUrl).annotations(expectedShape("an array of origins")), { exact: true }),
  timeouts: Schema.optionalWith(Timeouts, { exact: true }),
  /** On Ctrl-C / SIGTERM, how long requests in flight may finish before they are interrupted (default 10 s). */
  shutdownGraceMs: Schema.optionalWith(Count("a non-negative integer number of milliseconds", 0), { exact: true })
}).annotations(expectedShape("an object with \"host\" and \"port\""))

const PositiveNumber = Schema.Number.pipe(Schema.positive(), Schema.finite()).annotations(expected("a positive number"))

/**
 * Where traces are kept: a SQLite file (default `./.effect-llm-trace/traces.db`, relative to the working
 * directory) or `":memory:"` (lost at exit, bounded by `tracing.maxTraces` and by `maxBytes`, default 256 MiB there). File store: traces older than
 * `maxAgeDays` (default 7) are deleted, and the oldest while stored spans exceed `maxBytes` (default 1 GiB);
 * `queueSize` (default 20 000) spans may wait to be written, further spans are dropped and counted.
 *
 * @since 0.2.0
 * @category schemas
 */
export const TraceStoreSettings = Schema.Struct({
  path: Schema.optionalWith(NonEmpty, { exact: true }),
  maxAgeDays: Schema.optionalWith(PositiveNumber, { exact: true }),
  maxBytes: Schema.optionalWith(Count("a positive integer number of bytes", 1), { exact: true }),
  queueSize: Schema.optionalWith(Count("a positive integer", 1), { exact: true })
}).annotations(expectedShape("an object with \"path\""))

/**
 * The default trace store file, relative to the working directory.
 *
 * @since 0.2.0
 * @category defaults
 */
export const defaultStorePath = ".effect-llm-trace/traces.db"

const Tracing = Schema.Struct({
  store: Schema.optionalWith(TraceStoreSettings, { exact: true }),
  maxTraces: Schema.optionalWith(Count("a positive integer", 1), { exact: true }),
  maxChunkEvents: Schema.optionalWith(Count("a non-negative integer", 0), { exact: true }),
  // A smaller budget could not even hold the truncation note (`{"truncated":true,"bytes":N,"head":""}`).
  maxPayloadBytes: Schema.optionalWith(Count("an integer number of bytes, at least 64", 64), { exact: true }),
  captureContent: Schema.optionalWith(
    Schema.Literal("full", "none").annotations(expected(`"full" | "none"`)),
    { exact: true }
  )
}).annotations(expectedShape("an object"))

const MetricsSettings = Schema.Struct({
  enabled: Schema.optionalWith(Schema.Boolean.annotations(expected("true or false")), { exact: true }),
  maxAttributeValues: Schema.optionalWith(Count("a positive integer", 1), { exact: true })
}).annotations(expectedShape("an object with \"enabled\""))

/**
 * The whole config file. Defaults: `server` 127.0.0.1:8080, `replay: "always"`, no `auth`, `tracing` left to the
 * trace store's own defaults.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Config = Schema.Struct({
  server: Schema.optionalWith(Server, { exact: true, default: () => ({ host: "127.0.0.1", port: 8080 }) }),
  replay: Schema.optionalWith(
    Schema.Literal("always", "never").annotations(expected(`"always" | "never"`)),
    { exact: true, default: () => "always" as const }
  ),
  auth: Schema.optionalWith(Auth, { exact: true }),
  tracing: Schema.optionalWith(Tracing, { exact: true }),
  metrics: Schema.optionalWith(MetricsSettings, { exact: true }),
  endpoints: Endpoints
}).annotations(expectedShape("a JSON object with \"endpoints\""))

/**
 * @since 0.1.0
 * @category models
 */
export interface Config extends Schema.Schema.Type<typeof Config> {}

/**
 * The JSON shape of a config file (defaults not yet applied).
 *
 * @since 0.1.0
 * @category models
 */
export type Encoded = Schema.Schema.Encoded<typeof Config>

// ---------------------------------------------------------------------------------------------------------------
// Error messages
// ---------------------------------------------------------------------------------------------------------------

/** The field path of an issue; `(top level)` for the document itself. */
const formatPath = (path: ReadonlyArray<PropertyKey>): string => IssuePath.formatPath(path) || "(top level)"

/**
 * Built-in messages appear where an annotation cannot reach: a struct with defaults is a transformation, and its
 * "not an object" issue comes from the encoded side, which names Schema internals (`Struct (Encoded side)`).
 */
const plain = (message: string): string =>
  message
    .replace(/^Expected (?:Struct \(Encoded side\)|\{.*\}), actual (.*)$/s, "expected an object, got $1")
    .replace(/^Expected ReadonlyArray<.*>, actual (.*)$/s, "expected an array, got $1")
    .replace(/^Expected (.*), actual (.*)$/s, "expected $1, got $2")

const formatIssue = (issue: ParseResult.ArrayFormatterIssue): string => {
  switch (issue._tag) {
    case "Missing":
      return `${formatPath(issue.path)}: is required`
    case "Unexpected":
      return `${formatPath(issue.path)}: is not a known field (${issue.message.replace(/^is unexpected, expected: /, "expected one of ")})`
    default:
      return `${formatPath(issue.path)}: ${plain(issue.message)}`
  }
}

/**
 * One line per problem, joined into one paragraph; each names its field path.
 *
 * @since 0.1.0
 * @category errors
 */
export const formatParseError = (error: ParseResult.ParseError): string =>
  ParseResult.ArrayFormatter.formatErrorSync(error).map(formatIssue).join("; ")

const decodeOptions = { errors: "all", onExcessProperty: "error" } as const

/**
 * Decodes a parsed JSON value; the error message names every bad field.
 *
 * @since 0.1.0
 * @category decoding
 */
export const decode = (input: unknown): Either.Either<Config, string> =>
  Either.mapLeft(Schema.decodeUnknownEither(Config, decodeOptions)(input), formatParseError)

/**
 * The embedded config: one endpoint `echo` answered in process, so `npm start` works with no file and no key.
 *
 * @since 0.1.0
 * @category constructors
 */
export const defaultConfig: Config = Schema.decodeUnknownSync(Config)({
  endpoints: [{ name: "echo", provider: { kind: "echo" } }]
})

// ---------------------------------------------------------------------------------------------------------------
// Loading
// ---------------------------------------------------------------------------------------------------------------

/**
 * @since 0.1.0
 * @category models
 */
export interface LoadOptions {
  /** Command-line arguments after the script (`process.argv.slice(2)`). */
  readonly argv: ReadonlyArray<string>
  readonly env: Readonly<Record<string, string | undefined>>
}

/**
 * Where the config file comes from.
 *
 * @since 0.1.0
 * @category models
 */
export interface Source {
  readonly path: string
  /** Where the path came from, for messages. */
  readonly from: "--config" | "GATEWAY_CONFIG"
}

/**
 * The config file to read: the last `--config <file>` / `--config=<file>`, else `GATEWAY_CONFIG`; none means
 * {@link defaultConfig}.
 *
 * @since 0.1.0
 * @category loading
 */
export const configSource = (options: LoadOptions): Either.Either<Source | undefined, ConfigError> => {
  let path: string | undefined = undefined
  for (let i = 0; i < options.argv.length; i++) {
    const arg = options.argv[i]!
    if (arg.startsWith("--config=")) {
      path = arg.slice("--config=".length)
    } else if (arg === "--config") {
      const next = options.argv[i + 1]
      if (next === undefined || next.startsWith("--")) {
        return Either.left(new ConfigError({ reason: "InvalidArgument", message: "--config: expected a file path after --config" }))
      }
      path = next
      i++
    } else {
      continue
    }
    if (path === "") {
      return Either.left(new ConfigError({ reason: "InvalidArgument", message: "--config: expected a file path, got an empty string" }))
    }
  }
  if (path !== undefined) return Either.right({ path, from: "--config" })
  const fromEnv = options.env["GATEWAY_CONFIG"]
  return Either.right(fromEnv === undefined || fromEnv === "" ? undefined : { path: fromEnv, from: "GATEWAY_CONFIG" })
}

const portOverride = (config: Config, env: LoadOptions["env"]): Either.Either<Config, ConfigError> => {
  const raw = env["PORT"]
  if (raw === undefined || raw.trim() === "") return Either.right(config)
  const port = /^\s*\d{1,5}\s*$/.test(raw) ? Number(raw) : Number.NaN
  return port >= 0 && port <= 65535
    ? Either.right({ ...config, server: { ...config.server, port } })
    : Either.left(new ConfigError({ reason: "InvalidArgument", message: `PORT: expected an integer port from 0 to 65535, got ${show(raw)}` }))
}

const readSource = (source: Source) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const where = `config file ${show(source.path)} (from ${source.from})`
    const text = yield* fs.readFileString(source.path).pipe(
      Effect.mapError((error) =>
        error._tag === "SystemError" && error.reason === "NotFound"
          ? new ConfigError({ reason: "NotFound", message: `${where} not found` })
          : new ConfigError({ reason: "Unreadable", message: `${where} cannot be read: ${error.message}` })
      )
    )
    const json = yield* Effect.try({
      try: (): unknown => JSON.parse(text),
      catch: (error) =>
        new ConfigError({
          reason: "InvalidJson",
          message: `${where} is not valid JSON: ${error instanceof Error ? error.message : String(error)}`
        })
    })
    return yield* Either.mapLeft(decode(json), (problems) =>
      new ConfigError({ reason: "InvalidConfig", message: `${where} is invalid: ${problems}` }))
  })

/**
 * Loads the gateway config: the file from `--config <file>` (or `GATEWAY_CONFIG`), else {@link defaultConfig};
 * then `PORT`, when set, overrides `server.port`.
 *
 * @since 0.1.0
 * @category loading
 */
export const load = (options: LoadOptions): Effect.Effect<Config, ConfigError> =>
  Effect.gen(function*() {
    const source = yield* configSource(options)
    const config = source === undefined ? defaultConfig : yield* readSource(source)
    return yield* portOverride(config, options.env)
  }).pipe(Effect.provide(NodeFileSystem.layer))
