/**
 * The `effect-llm-trace` command: its command line (pure), the startup checks and report (pure, with a
 * ConfigProvider), and the real process: exit statuses, one-line failures, the report, and a graceful stop that
 * lets streams finish, cuts those past the grace period and flushes their spans.
 */
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import { assert, describe, expect, it } from "@effect/vitest"
import { ConfigProvider, Effect, Either, Exit, FastCheck, Layer, Option } from "effect"
import { writeFileSync } from "node:fs"
import { createServer } from "node:http"
import { tmpdir } from "node:os"
import { join } from "node:path"
import packageJson from "../../package.json" with { type: "json" }
import * as GatewayConfig from "../../src/gateway/GatewayConfig.js"
import * as CliArgs from "../../src/gateway/internal/cliArgs.js"
import * as Startup from "../../src/gateway/Startup.js"
import * as Telemetry from "../../src/tracing/Telemetry.js"
import * as Cli from "../support/cli.js"
import * as Receiver from "../support/otlpReceiver.js"

const withEnv = (env: Record<string, string>) =>
  Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env))))

const decode = (input: GatewayConfig.Encoded) => Either.getOrThrowWith(GatewayConfig.decode(input), (e) => new Error(e))

const configFile = (config: GatewayConfig.Encoded): string => {
  const path = join(tmpdir(), `effect-llm-trace-cli-${process.pid}-${Math.random().toString(36).slice(2)}.json`)
  writeFileSync(path, JSON.stringify(config))
  return path
}

describe("command line", () => {
  it("no arguments: run with the defaults; --help and --version win", () => {
    expect(CliArgs.parse([])).toEqual({ _tag: "Run", flags: {} })
    for (const argv of [["--help"], ["-h"], ["--port", "9000", "--help"], ["-hv"]]) {
      expect(CliArgs.parse(argv)).toEqual({ _tag: "Help" })
    }
    for (const argv of [["--version"], ["-v"], ["--config", "x.json", "-v"]]) {
      expect(CliArgs.parse(argv)).toEqual({ _tag: "Version" })
    }
  })

  it("every flag, in its long, short and = forms; the last repeat wins", () => {
    expect(CliArgs.parse(["--config", "gw.json", "--host", "0.0.0.0", "--port", "9000", "--log-level", "debug"])).toEqual({
      _tag: "Run",
      flags: { config: "gw.json", host: "0.0.0.0", port: 9000, logLevel: "debug" }
    })
    expect(CliArgs.parse(["-c", "a.json", "--config=b.json", "-p", "1", "--port=2"])).toEqual({
      _tag: "Run",
      flags: { config: "b.json", port: 2 }
    })
  })

  it.prop("any port 0..65535 parses in each form", [FastCheck.integer({ min: 0, max: 65535 })], ([port]) => {
    for (const argv of [["--port", `${port}`], [`--port=${port}`], [`-p${port}`], ["-p", `${port}`]]) {
      expect(CliArgs.parse(argv)).toEqual({ _tag: "Run", flags: { port } })
    }
  })

  it("bad command lines: one line with a hint, naming the option", () => {
    const message = (argv: Array<string>) => {
      const command = CliArgs.parse(argv)
      assert(command._tag === "Usage")
      expect(command.message).not.toContain("\n")
      return command.message
    }
    const hint = "; see effect-llm-trace --help"
    expect(message(["--prot", "9000"])).toBe(`unknown option --prot (did you mean --port?)${hint}`)
    expect(message(["--log", "debug"])).toBe(`unknown option --log (did you mean --log-level?)${hint}`)
    expect(message(["--verbose"])).toBe(`unknown option --verbose${hint}`)
    expect(message(["-x"])).toBe(`unknown option -x${hint}`)
    expect(message(["serve"])).toBe(`unexpected argument "serve"${hint}`)
    expect(message(["--config"])).toBe(`--config needs a value${hint}`)
    expect(message(["--config", "--port", "9"])).toBe(`--config needs a value${hint}`)
    expect(message(["--config="])).toBe(`--config: expected a value, got an empty string${hint}`)
    expect(message(["--help=yes"])).toBe(`--help takes no value${hint}`)
    for (const port of ["65536", "abc", "80.5", "-1"]) expect(message(["--port", port])).toMatch(/^--port/)
    expect(message(["--port", "65536"])).toBe(`--port: expected an integer from 0 to 65535, got "65536"${hint}`)
    expect(message(["--log-level", "loud"])).toBe(
      `--log-level: expected one of all, trace, debug, info, warning, error, fatal, none, got "loud"${hint}`
    )
  })

  it("the help names every option", () => {
    for (const option of ["--config", "--host", "--port", "--log-level", "--help", "--version"]) {
      expect(CliArgs.help).toContain(option)
    }
  })
})

describe("Startup", () => {
  const config = decode({
    tracing: { maxTraces: 50 },
    endpoints: [
      { name: "chat", provider: { kind: "openai", model: "gpt-5-mini" } },
      { name: "claude", usageTracking: false, provider: { kind: "anthropic", model: "claude-sonnet-4-6", apiKeyEnv: "MY_KEY" } },
      { name: "local", provider: { kind: "gemini", baseUrl: "http://127.0.0.1:9000/v1beta" } },
      { name: "echo", provider: { kind: "echo" } }
    ]
  })

  it("the report: config source, each endpoint, the store, the exporter, the listen URL", () => {
    expect(Startup.report({
      version: "1.2.3",
      config,
      source: { path: "gw.json", from: "--config" },
      otlp: Option.some({ url: "https://user:pw@otel.example:4318/v1/traces?token=x", protocol: "http/json" }),
      address: { _tag: "TcpAddress", hostname: "127.0.0.1", port: 8080 }
    })).toBe([
      "effect-llm-trace 1.2.3 gateway",
      "  config     gw.json (from --config)",
      "  endpoints  chat → openai/gpt-5-mini @ api.openai.com, traced",
      "             claude → anthropic/claude-sonnet-4-6 @ api.anthropic.com, not traced",
      "             local → gemini/local @ 127.0.0.1:9000, traced",
      "             echo → echo/echo (in process), traced",
      "  traces     .effect-llm-trace/traces.db (kept 7 days, 1 GiB at most): GET /api/traces",
      "  export     OTLP http/json → https://otel.example:4318/v1/traces",
      "  listening  http://127.0.0.1:8080",
      "  viewer     http://127.0.0.1:8080/ (traces, usage)"
    ].join("\n"))
    const builtIn = Startup.report({
      version: "1.2.3",
      config: GatewayConfig.defaultConfig,
      source: undefined,
      otlp: Option.none(),
      address: { _tag: "TcpAddress", hostname: "::1", port: 0 }
    })
    expect(builtIn).toContain(`  config     built in: one "echo" endpoint (use --config <file> for your own)`)
    expect(builtIn).toContain("  export     none (set OTEL_EXPORTER_OTLP_ENDPOINT to send spans over OTLP)")
    expect(builtIn).toContain("  listening  http://[::1]:0")
  })

  it.effect("keys: every unset or blank key variable is named with its endpoint; echo needs none", () =>
    Effect.gen(function*() {
      expect(Option.getOrNull(Startup.keyVariable({ kind: "openai" }))).toBe("OPENAI_API_KEY")
      expect(Option.getOrNull(Startup.keyVariable({ kind: "gemini", apiKeyEnv: "G" }))).toBe("G")
      expect(Option.isNone(Startup.keyVariable({ kind: "echo" }))).toBe(true)

      const error = yield* Effect.flip(Startup.checkKeys(config).pipe(withEnv({ MY_KEY: "  " })))
      expect(error.reason).toBe("MissingKey")
      expect(error.message).toBe(
        `upstream keys not set: OPENAI_API_KEY (endpoint "chat", openai), MY_KEY (endpoint "claude", anthropic), ` +
          `GEMINI_API_KEY (endpoint "local", gemini); export them, or point the endpoint's provider.apiKeyEnv at ` +
          `the variable that holds the key`
      )
      const one = yield* Effect.flip(Startup.checkKeys(config).pipe(withEnv({ OPENAI_API_KEY: "sk", MY_KEY: "k" })))
      expect(one.message).toMatch(/^upstream key not set: GEMINI_API_KEY \(endpoint "local", gemini\); export it,/)
      yield* Startup.checkKeys(config).pipe(withEnv({ OPENAI_API_KEY: "sk", MY_KEY: "k", GEMINI_API_KEY: "g" }))
      yield* Startup.checkKeys(GatewayConfig.defaultConfig).pipe(withEnv({}))
    }))

  it.effect("a bad OTEL_* variable is one line naming it", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(Telemetry.otlpFromEnv.pipe(
        withEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318", OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: "grpc" })
      ))
      expect(Startup.environmentError(error).message).toBe(
        "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: OTLP over gRPC is not supported: use http/protobuf (the default) or http/json"
      )
    }))

  it.scopedLive("a port in use is one line naming the address", () =>
    Effect.gen(function*() {
      const taken = createServer()
      yield* Effect.acquireRelease(
        Effect.async<void>((resume) => void taken.listen(0, "127.0.0.1", () => resume(Effect.void))),
        () => Effect.async<void>((resume) => void taken.close(() => resume(Effect.void)))
      )
      const port = (taken.address() as { port: number }).port
      const exit = yield* Effect.exit(Layer.build(NodeHttpServer.layer(createServer, { host: "127.0.0.1", port })))
      assert(Exit.isFailure(exit))
      const error = Option.getOrThrow(Exit.causeOption(exit).pipe(Option.flatMap((cause) => Option.fromNullable(
        cause._tag === "Fail" ? cause.error : undefined
      ))))
      assert(error._tag === "ServeError")
      expect(Startup.listenError(error, { host: "127.0.0.1", port }).message).toBe(
        `cannot listen on 127.0.0.1:${port}: address already in use (EADDRINUSE); stop the other process or choose ` +
          `another port with --port`
      )
    }))
})

describe("the effect-llm-trace process", () => {
  it.live("--help and --version answer on stdout and exit 0; a bad flag is one line and exit 2", () =>
    Effect.gen(function*() {
      const [help, version, bad] = yield* Effect.all([
        Cli.run(["--help"]),
        Cli.run(["--version"]),
        Cli.run(["--prot", "9000"])
      ], { concurrency: "unbounded" })
      expect(help).toMatchObject({ code: 0, stderr: "" })
      expect(help.stdout).toBe(CliArgs.help)
      expect(version).toEqual({ code: 0, signal: null, stdout: `${packageJson.version}\n`, stderr: "" })
      expect(bad).toEqual({
        code: 2,
        signal: null,
        stdout: "",
        stderr: "effect-llm-trace: unknown option --prot (did you mean --port?); see effect-llm-trace --help\n"
      })
    }))

  it.live("fail fast, one line on stderr, exit 1: unset key, port in use, bad OTEL_* variable", () =>
    Effect.gen(function*() {
      const keys = configFile({ endpoints: [{ name: "chat", provider: { kind: "openai", model: "gpt-5-mini" } }] })
      const taken = createServer()
      yield* Effect.promise(() => new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve)))
      const port = (taken.address() as { port: number }).port
      const [missing, inUse, otel] = yield* Effect.all([
        Cli.run(["--config", keys]),
        Cli.run(["--port", `${port}`]),
        Cli.run([], { OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:4318", OTEL_EXPORTER_OTLP_PROTOCOL: "grpc" })
      ], { concurrency: "unbounded" }).pipe(Effect.ensuring(Effect.sync(() => taken.close())))
      expect(missing).toEqual({
        code: 1,
        signal: null,
        stdout: "",
        stderr: `effect-llm-trace: upstream key not set: OPENAI_API_KEY (endpoint "chat", openai); export it, or ` +
          `point the endpoint's provider.apiKeyEnv at the variable that holds the key\n`
      })
      expect(inUse).toEqual({
        code: 1,
        signal: null,
        stdout: "",
        stderr: `effect-llm-trace: cannot listen on 127.0.0.1:${port}: address already in use (EADDRINUSE); stop ` +
          `the other process or choose another port with --port\n`
      })
      expect(otel).toEqual({
        code: 1,
        signal: null,
        stdout: "",
        stderr: "effect-llm-trace: OTEL_EXPORTER_OTLP_PROTOCOL: OTLP over gRPC is not supported: use http/protobuf " +
          "(the default) or http/json\n"
      })
    }))

  it.scopedLive(
    "serves with a startup report; SIGTERM lets a stream finish, cuts one past the grace period, flushes both spans",
    () =>
      Effect.gen(function*() {
        const receiver = yield* Receiver.make
        const config = configFile({
          server: { shutdownGraceMs: 1500 },
          endpoints: [{ name: "slow", provider: { kind: "echo", delayMs: 150 } }]
        })
        const gateway = yield* Cli.start(["--config", config, "--port", "0"], {
          OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: receiver.url
        })
        const url = (yield* gateway.waitFor(/listening {2}(http:\/\/\S+)/))[1]!
        expect(gateway.stdout()).toBe([
          `effect-llm-trace ${packageJson.version} gateway`,
          `  config     ${config} (from --config)`,
          "  endpoints  slow → echo/slow (in process), traced",
          "  traces     .effect-llm-trace/traces.db (kept 7 days, 1 GiB at most): GET /api/traces",
          `  export     OTLP http/protobuf → ${receiver.url}`,
          `  listening  ${url}`,
          `  viewer     ${url}/ (traces, usage)\n`
        ].join("\n"))

        const chat = (words: number) =>
          Effect.promise(async () => {
            const response = await fetch(`${url}/gateway/openai/v1/chat/completions`, {
              method: "POST",
              headers: { "content-type": "application/json" },
              body: JSON.stringify({
                model: "slow",
                stream: true,
                messages: [{ role: "user", content: Array.from({ length: words }, (_, i) => `w${i}`).join(" ") }]
              })
            })
            return response.text().then((text) => ({ complete: text.includes("data: [DONE]") }), () => ({ complete: false }))
          })
        // ~0.9 s of stream, within the grace period; ~6 s, past it.
        const short = yield* Effect.fork(chat(6))
        const long = yield* Effect.fork(chat(40))
        yield* Effect.sleep("400 millis")
        gateway.child.kill("SIGTERM")
        const finished = yield* gateway.exited

        expect(yield* short.await.pipe(Effect.flatten)).toEqual({ complete: true })
        expect(yield* long.await.pipe(Effect.flatten)).toEqual({ complete: false })
        expect(finished.code).toBe(0)
        expect(finished.stderr).toBe("")
        const log = finished.stdout
        expect(log).toMatch(/INFO \(#\d+\): shutting down\n/)
        expect(log).toMatch(/draining: no new connections; waiting up to 1\.5 s for 2 requests in flight/)
        expect(log).toMatch(/WARN \(#\d+\): grace period over: interrupting 1 request still in flight \(of 2\)/)
        expect(log).toMatch(/INFO \(#\d+\): stopped; spans flushed\n$/)
        // Both calls' spans reached the backend before the process ended; the cut one as cancelled.
        const providers = receiver.spans().filter((span) => span.name === "provider/echo/slow")
        expect(providers.length).toBe(2)
        expect(providers.map((span) => span.status.code).sort()).toEqual([1, 2])
        const cut = providers.find((span) => span.status.code === 2)!
        expect(cut.attributes["error.type"]).toBe("cancelled")
      })
  )

  it.scopedLive("a stdout that goes away (a closed pipe) ends the request log, not the process", () =>
    Effect.gen(function*() {
      const config = configFile({
        tracing: { store: { path: ":memory:" } },
        endpoints: [{ name: "echo", provider: { kind: "echo" } }]
      })
      const gateway = yield* Cli.start(["--config", config, "--port", "0"])
      const url = (yield* gateway.waitFor(/listening {2}(http:\/\/\S+)/))[1]!
      const chat = Effect.promise(() =>
        fetch(`${url}/gateway/openai/v1/chat/completions`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ model: "echo", messages: [{ role: "user", content: "hi" }] })
        }).then((response) => response.status)
      )
      gateway.child.stdout!.destroy()
      // Each request's log line is written (to the closed pipe) within 200 ms: EPIPE.
      for (let i = 0; i < 3; i++) {
        expect(yield* chat).toBe(200)
        yield* Effect.sleep("300 millis")
      }
      expect(gateway.child.exitCode).toBeNull()
      expect(gateway.child.signalCode).toBeNull()
    }))
})
