/**
 * The gateway's command line, parsed with `node:util` `parseArgs` and checked here, so that `--help`, `--version`
 * and a bad flag answer before any of the gateway is loaded. Pure: no I/O.
 *
 * @internal
 */
import { parseArgs } from "node:util"

/** @internal */
export const logLevels = ["all", "trace", "debug", "info", "warning", "error", "fatal", "none"] as const

/** @internal */
export type LogLevelName = typeof logLevels[number]

/** @internal */
export interface Flags {
  readonly config?: string
  readonly host?: string
  readonly port?: number
  readonly logLevel?: LogLevelName
}

/** @internal */
export type Command =
  | { readonly _tag: "Help" }
  | { readonly _tag: "Version" }
  | { readonly _tag: "Run"; readonly flags: Flags }
  /** A bad command line: `message` is one line, with a hint. */
  | { readonly _tag: "Usage"; readonly message: string }

/** @internal */
export const name = "effect-llm-trace"

const options = {
  config: { type: "string", short: "c" },
  host: { type: "string" },
  port: { type: "string", short: "p" },
  "log-level": { type: "string" },
  help: { type: "boolean", short: "h" },
  version: { type: "boolean", short: "v" }
} as const

type OptionName = keyof typeof options

const isOption = (key: string): key is OptionName => Object.hasOwn(options, key)

/** @internal */
export const help = `Usage: ${name} [options]

The effect-llm-trace gateway: OpenAI, Anthropic and Gemini APIs passed through to their providers, every call
traced. Without a config it serves the embedded "echo" endpoint (no key, no network).

Options:
  -c, --config <file>      gateway config (JSON); default: $GATEWAY_CONFIG, else one "echo" endpoint
      --host <address>     listen address (default: the config's server.host, 127.0.0.1)
  -p, --port <port>        listen port, 0 for any free one (default: $PORT, else server.port, 8080)
      --log-level <level>  ${logLevels.join(" | ")} (default: info)
  -h, --help               print this help
  -v, --version            print the version

Environment:
  OPENAI_API_KEY, ANTHROPIC_API_KEY, GEMINI_API_KEY   upstream keys (or each endpoint's provider.apiKeyEnv);
                                                      the gateway does not start when one it needs is unset
  OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, OTEL_EXPORTER_OTLP_PROTOCOL,
  OTEL_EXPORTER_OTLP_HEADERS, OTEL_SERVICE_NAME       export spans over OTLP/HTTP as well
  GATEWAY_CONFIG, PORT                                 as --config and --port

Ctrl-C or SIGTERM: stop accepting, let requests in flight finish (server.shutdownGraceMs, default 10 s), flush
spans, exit. Exit status: 0 stopped, 1 could not start, 2 bad command line.
`

const hint = `see ${name} --help`

/** The known option closest to an unknown one (same prefix, or at most two edits apart). */
const suggest = (unknown: string): string | undefined => {
  const distance = (a: string, b: string): number => {
    let previous = Array.from({ length: b.length + 1 }, (_, j) => j)
    for (let i = 1; i <= a.length; i++) {
      const current = [i]
      for (let j = 1; j <= b.length; j++) {
        current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1))
      }
      previous = current
    }
    return previous[b.length]!
  }
  let best: { readonly name: string; readonly score: number } | undefined
  for (const known of Object.keys(options)) {
    const score = known.startsWith(unknown) || unknown.startsWith(known) ? 0 : distance(unknown, known)
    if (score <= 2 && (best === undefined || score < best.score)) best = { name: known, score }
  }
  return best?.name
}

const usage = (message: string): Command => ({ _tag: "Usage", message: `${message}; ${hint}` })

const parsePort = (raw: string): number | undefined => {
  const port = /^\d{1,5}$/.test(raw) ? Number(raw) : Number.NaN
  return port >= 0 && port <= 65535 ? port : undefined
}

const isLogLevel = (value: string): value is LogLevelName => (logLevels as ReadonlyArray<string>).includes(value)

/**
 * Parses the arguments after the script. `--help` and `--version` win over everything else (as long as the rest
 * parses); the last of a repeated option wins.
 *
 * @internal
 */
export const parse = (argv: ReadonlyArray<string>): Command => {
  const { tokens } = parseArgs({ args: [...argv], options, strict: false, allowPositionals: true, tokens: true })
  const values: { -readonly [K in OptionName]?: string | true } = {}
  for (const token of tokens) {
    if (token.kind === "positional") return usage(`unexpected argument ${JSON.stringify(token.value)}`)
    if (token.kind === "option-terminator") continue
    const { name: key, rawName, value, inlineValue } = token
    if (!isOption(key)) {
      const close = suggest(key)
      return usage(`unknown option ${rawName}${close === undefined ? "" : ` (did you mean --${close}?)`}`)
    }
    if (options[key].type === "boolean") {
      if (value !== undefined) return usage(`${rawName} takes no value`)
      values[key] = true
    } else if (value === undefined || (!inlineValue && value.startsWith("-") && value !== "-")) {
      return usage(`${rawName} needs a value`)
    } else if (value.trim() === "") {
      return usage(`${rawName}: expected a value, got an empty string`)
    } else {
      values[key] = value
    }
  }
  if (values.help === true) return { _tag: "Help" }
  if (values.version === true) return { _tag: "Version" }
  const flags: { -readonly [K in keyof Flags]: Flags[K] } = {}
  if (typeof values.config === "string") flags.config = values.config
  if (typeof values.host === "string") flags.host = values.host
  if (typeof values.port === "string") {
    const port = parsePort(values.port)
    if (port === undefined) return usage(`--port: expected an integer from 0 to 65535, got ${JSON.stringify(values.port)}`)
    flags.port = port
  }
  const level = values["log-level"]
  if (typeof level === "string") {
    if (!isLogLevel(level)) return usage(`--log-level: expected one of ${logLevels.join(", ")}, got ${JSON.stringify(level)}`)
    flags.logLevel = level
  }
  return { _tag: "Run", flags }
}
