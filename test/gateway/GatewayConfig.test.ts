import { afterAll, describe, expect, it } from "@effect/vitest"
import { Effect, Either, FastCheck, Schema } from "effect"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as GatewayConfig from "../../src/gateway/GatewayConfig.js"

const dir = mkdtempSync(join(tmpdir(), "gateway-config-test-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

let files = 0
/** Writes `content` (JSON-encoded unless already a string) to a fresh file and returns its path. */
const file = (content: unknown): string => {
  const path = join(dir, `config-${++files}.json`)
  writeFileSync(path, typeof content === "string" ? content : JSON.stringify(content))
  return path
}

const minimal = { endpoints: [{ name: "chat", provider: { kind: "openai" } }] }

const decodeError = (input: unknown): string => {
  const result = GatewayConfig.decode(input)
  if (Either.isRight(result)) throw new Error(`expected an error for ${JSON.stringify(input)}`)
  return result.left
}

const loadError = (options: GatewayConfig.LoadOptions) => Effect.flip(GatewayConfig.load(options))

/** No stack frames, no multi-line dumps: one paragraph. */
const expectHumanMessage = (message: string) => {
  expect(message).not.toMatch(/\n|\bat .+:\d+:\d+|Error:/)
}

describe("Config schema", () => {
  it("applies the defaults", () => {
    const config = Either.getOrThrow(GatewayConfig.decode(minimal))
    expect(config).toEqual({
      server: { host: "127.0.0.1", port: 8080 },
      replay: "always",
      endpoints: [{ name: "chat", id: "chat", usageTracking: true, provider: { kind: "openai" } }]
    })
    expect(config.auth).toBeUndefined()
  })

  it("keeps every field given", () => {
    const input = {
      server: { host: "0.0.0.0", port: 0 },
      replay: "never",
      auth: { keys: [{ key: "k1", username: "alice", userId: "u-1" }, { key: "k2", username: "bob" }] },
      tracing: { maxTraces: 10, maxChunkEvents: 3 },
      endpoints: [
        { name: "chat", id: "ep-chat", usageTracking: false, provider: { kind: "openai", model: "gpt-4o-mini", baseUrl: "http://127.0.0.1:1/v1", apiKeyEnv: "MY_KEY" } },
        { name: "slow-echo", provider: { kind: "echo", delayMs: 25 } }
      ]
    }
    const config = Either.getOrThrow(GatewayConfig.decode(input))
    expect(config).toEqual({ ...input, endpoints: [input.endpoints[0], { ...input.endpoints[1], id: "slow-echo", usageTracking: true }] })
  })

  it("defaultConfig: one echo endpoint on 127.0.0.1:8080, and it round-trips through the Schema", () => {
    expect(GatewayConfig.defaultConfig.server).toEqual({ host: "127.0.0.1", port: 8080 })
    expect(GatewayConfig.defaultConfig.replay).toBe("always")
    expect(GatewayConfig.defaultConfig.endpoints).toEqual([{ name: "echo", id: "echo", usageTracking: true, provider: { kind: "echo" } }])
    const encoded = Schema.encodeSync(GatewayConfig.Config)(GatewayConfig.defaultConfig)
    expect(Either.getOrThrow(GatewayConfig.decode(JSON.parse(JSON.stringify(encoded))))).toEqual(GatewayConfig.defaultConfig)
  })

  const withEndpoint = (endpoint: Record<string, unknown>) => ({ endpoints: [{ name: "a", provider: { kind: "echo" } }, endpoint] })
  const cases: ReadonlyArray<readonly [string, unknown, string]> = [
    ["unknown provider kind", withEndpoint({ name: "b", provider: { kind: "foo" } }),
      `endpoints[1].provider.kind: expected "openai" | "anthropic" | "gemini" | "echo", got "foo"`],
    ["missing provider", withEndpoint({ name: "b" }), "endpoints[1].provider: is required"],
    ["provider not an object", withEndpoint({ name: "b", provider: "echo" }), `endpoints[1].provider: expected an object`],
    ["endpoint not an object", { endpoints: [4] }, "endpoints[0]: expected an object, got 4"],
    ["name with a slash", withEndpoint({ name: "a/b", provider: { kind: "echo" } }), `endpoints[1].name: expected`],
    ["empty name", withEndpoint({ name: "", provider: { kind: "echo" } }), `endpoints[1].name: expected`],
    ["empty id", withEndpoint({ name: "b", id: "", provider: { kind: "echo" } }), `endpoints[1].id: expected a non-empty string, got ""`],
    ["usageTracking not a boolean", withEndpoint({ name: "b", usageTracking: "yes", provider: { kind: "echo" } }), `endpoints[1].usageTracking: expected true or false, got "yes"`],
    ["bad baseUrl", withEndpoint({ name: "b", provider: { kind: "openai", baseUrl: "ftp://x" } }), `endpoints[1].provider.baseUrl: expected an http(s) URL`],
    ["bad apiKeyEnv", withEndpoint({ name: "b", provider: { kind: "openai", apiKeyEnv: "MY-KEY" } }), `endpoints[1].provider.apiKeyEnv: expected an environment variable name`],
    ["negative delayMs", withEndpoint({ name: "b", provider: { kind: "echo", delayMs: -5 } }), `endpoints[1].provider.delayMs: expected a non-negative integer number of milliseconds, got -5`],
    ["unknown provider field", withEndpoint({ name: "b", provider: { kind: "echo", modle: "x" } }), `endpoints[1].provider.modle: is not a known field`],
    ["unknown endpoint field", withEndpoint({ name: "b", usagetracking: false, provider: { kind: "echo" } }), `endpoints[1].usagetracking: is not a known field`],
    ["port out of range", { ...minimal, server: { port: 70000 } }, `server.port: expected an integer port from 0 to 65535, got 70000`],
    ["port as a string", { ...minimal, server: { port: "80" } }, `server.port: expected an integer port from 0 to 65535, got "80"`],
    ["empty host", { ...minimal, server: { host: "" } }, `server.host: expected a non-empty string, got ""`],
    ["bad replay", { ...minimal, replay: "sometimes" }, `replay: expected "always" | "never", got "sometimes"`],
    ["auth without keys", { ...minimal, auth: {} }, "auth.keys: is required"],
    ["auth key without username", { ...minimal, auth: { keys: [{ key: "k" }] } }, "auth.keys[0].username: is required"],
    ["tracing.maxTraces zero", { ...minimal, tracing: { maxTraces: 0 } }, "tracing.maxTraces: expected a positive integer, got 0"],
    ["tracing.maxChunkEvents fractional", { ...minimal, tracing: { maxChunkEvents: 1.5 } }, "tracing.maxChunkEvents: expected a non-negative integer, got 1.5"],
    ["no endpoints", { endpoints: [] }, "endpoints: expected at least one endpoint"],
    ["endpoints missing", {}, "endpoints: is required"],
    ["endpoints not an array", { endpoints: {} }, "endpoints: expected an array"],
    ["not an object", [1], "(top level): expected an object, got [1]"],
    ["unknown top-level field", { ...minimal, endpionts: [] }, "endpionts: is not a known field"]
  ]
  for (const [name, input, mention] of cases) {
    it(`names the field: ${name}`, () => {
      const message = decodeError(input)
      expect(message).toContain(mention)
      expectHumanMessage(message)
    })
  }

  it("reports every bad field at once", () => {
    const message = decodeError({ server: { port: -1 }, replay: 1, endpoints: [{ name: "a", provider: { kind: "x" } }] })
    for (const path of ["server.port:", "replay:", "endpoints[0].provider.kind:"]) expect(message).toContain(path)
  })

  const Name = FastCheck.stringMatching(/^[a-z0-9][a-z0-9._-]{0,8}$/)
  const Kind = FastCheck.constantFrom("openai", "anthropic", "gemini", "echo")

  it.prop("a bad kind at any position names endpoints[i].provider.kind and the value", {
    names: FastCheck.uniqueArray(Name, { minLength: 1, maxLength: 6 }),
    kinds: FastCheck.array(Kind, { minLength: 6, maxLength: 6 }),
    at: FastCheck.nat(),
    bad: FastCheck.string().filter((s) => !["openai", "anthropic", "gemini", "echo"].includes(s))
  }, ({ at, bad, kinds, names }) => {
    const i = at % names.length
    const endpoints = names.map((name, j) => ({ name, provider: { kind: j === i ? bad : kinds[j] } }))
    const message = decodeError({ endpoints })
    expect(message).toContain(`endpoints[${i}].provider.kind: expected "openai" | "anthropic" | "gemini" | "echo", got ${JSON.stringify(bad)}`)
  }, { fastCheck: { numRuns: 200 } })

  it.prop("endpoint names must be unique: the repeat is named with its first use", {
    names: FastCheck.uniqueArray(Name, { minLength: 2, maxLength: 6 }),
    a: FastCheck.nat(),
    b: FastCheck.nat()
  }, ({ a, b, names }) => {
    const first = a % names.length
    const second = b % names.length === first ? (first + 1) % names.length : b % names.length
    const [i, j] = first < second ? [first, second] : [second, first]
    const endpoints = names.map((name, k) => ({ name: k === j ? names[i] : name, provider: { kind: "echo" } }))
    const message = decodeError({ endpoints })
    expect(message).toContain(`endpoints[${j}].name: duplicate endpoint name ${JSON.stringify(names[i])} (already used by endpoints[${i}])`)
  }, { fastCheck: { numRuns: 200 } })

  it("ids must be unique too (an explicit id may collide with a defaulted one)", () => {
    const message = decodeError({ endpoints: [{ name: "a", provider: { kind: "echo" } }, { name: "b", id: "a", provider: { kind: "echo" } }] })
    expect(message).toContain(`endpoints[1].id: duplicate endpoint id "a" (already used by endpoints[0])`)
  })

  it("auth keys are secrets: errors about them never print the key", () => {
    const duplicate = decodeError({ ...minimal, auth: { keys: [{ key: "sk-very-secret", username: "a" }, { key: "sk-very-secret", username: "b" }] } })
    expect(duplicate).toContain("auth.keys[1].key: duplicate key")
    expect(duplicate).not.toContain("sk-very-secret")
    const wrongType = decodeError({ ...minimal, auth: { keys: [{ key: 123456789, username: "a" }] } })
    expect(wrongType).toContain("auth.keys[0].key: expected a non-empty string, got a number")
    expect(wrongType).not.toContain("123456789")
  })
})

describe("GatewayConfig.load", () => {
  it.effect("no file: the embedded default config", () =>
    Effect.gen(function*() {
      expect(yield* GatewayConfig.load({ argv: [], env: {} })).toEqual(GatewayConfig.defaultConfig)
      expect(yield* GatewayConfig.load({ argv: [], env: { GATEWAY_CONFIG: "" } })).toEqual(GatewayConfig.defaultConfig)
    }))

  it.effect("--config <file>, --config=<file> and GATEWAY_CONFIG", () =>
    Effect.gen(function*() {
      const path = file({ ...minimal, server: { port: 1234 } })
      for (const options of [{ argv: ["--config", path], env: {} }, { argv: [`--config=${path}`], env: {} }, { argv: [], env: { GATEWAY_CONFIG: path } }]) {
        const config = yield* GatewayConfig.load(options)
        expect(config.server.port).toBe(1234)
        expect(config.endpoints.map((e) => e.name)).toEqual(["chat"])
      }
    }))

  it.effect("--config wins over GATEWAY_CONFIG", () =>
    Effect.gen(function*() {
      const fromArg = file({ endpoints: [{ name: "from-arg", provider: { kind: "echo" } }] })
      const fromEnv = file({ endpoints: [{ name: "from-env", provider: { kind: "echo" } }] })
      const config = yield* GatewayConfig.load({ argv: ["--other", "x", "--config", fromArg], env: { GATEWAY_CONFIG: fromEnv } })
      expect(config.endpoints.map((e) => e.name)).toEqual(["from-arg"])
      // GATEWAY_CONFIG is not even read when --config is given: a missing env file is no error.
      const ignored = yield* GatewayConfig.load({ argv: ["--config", fromArg], env: { GATEWAY_CONFIG: join(dir, "missing.json") } })
      expect(ignored.endpoints.map((e) => e.name)).toEqual(["from-arg"])
    }))

  it.effect("PORT overrides the port, of a file or of the default", () =>
    Effect.gen(function*() {
      const path = file({ ...minimal, server: { host: "0.0.0.0", port: 1234 } })
      const config = yield* GatewayConfig.load({ argv: ["--config", path], env: { PORT: "9090" } })
      expect(config.server).toEqual({ host: "0.0.0.0", port: 9090 })
      expect((yield* GatewayConfig.load({ argv: [], env: { PORT: "0" } })).server.port).toBe(0)
      expect((yield* GatewayConfig.load({ argv: [], env: { PORT: "" } })).server.port).toBe(8080)
    }))

  it.effect("a bad PORT is a ConfigError naming PORT", () =>
    Effect.gen(function*() {
      for (const port of ["abc", "70000", "-1", "80.5", "1e3"]) {
        const error = yield* loadError({ argv: [], env: { PORT: port } })
        expect(error._tag).toBe("ConfigError")
        expect(error.reason).toBe("InvalidArgument")
        expect(error.message).toBe(`PORT: expected an integer port from 0 to 65535, got ${JSON.stringify(port)}`)
      }
    }))

  it.effect("a missing file names the path and where it came from", () =>
    Effect.gen(function*() {
      const missing = join(dir, "does-not-exist.json")
      const fromArg = yield* loadError({ argv: ["--config", missing], env: {} })
      expect(fromArg.reason).toBe("NotFound")
      expect(fromArg.message).toBe(`config file ${JSON.stringify(missing)} (from --config) not found`)
      const fromEnv = yield* loadError({ argv: [], env: { GATEWAY_CONFIG: missing } })
      expect(fromEnv.message).toBe(`config file ${JSON.stringify(missing)} (from GATEWAY_CONFIG) not found`)
    }))

  it.effect("invalid JSON is a ConfigError with the parser's reason, not a stack trace", () =>
    Effect.gen(function*() {
      for (const text of ["{ \"endpoints\": [", "", "{'a': 1}", "{} trailing"]) {
        const path = file(text)
        const error = yield* loadError({ argv: ["--config", path], env: {} })
        expect(error.reason).toBe("InvalidJson")
        expect(error.message).toContain(`config file ${JSON.stringify(path)} (from --config) is not valid JSON: `)
        expectHumanMessage(error.message)
      }
    }))

  it.effect("an invalid config names the file and the field", () =>
    Effect.gen(function*() {
      const path = file({ endpoints: [{ name: "x", provider: { kind: "foo" } }] })
      const error = yield* loadError({ argv: ["--config", path], env: { PORT: "1" } })
      expect(error.reason).toBe("InvalidConfig")
      expect(error.message).toBe(
        `config file ${JSON.stringify(path)} (from --config) is invalid: endpoints[0].provider.kind: expected "openai" | "anthropic" | "gemini" | "echo", got "foo"`
      )
    }))

  it.effect("a directory is unreadable, not a crash", () =>
    Effect.gen(function*() {
      const error = yield* loadError({ argv: ["--config", dir], env: {} })
      expect(error._tag).toBe("ConfigError")
      expect(["Unreadable", "InvalidJson"]).toContain(error.reason)
      expectHumanMessage(error.message)
    }))

  it.effect("--config without a path is an argument error", () =>
    Effect.gen(function*() {
      for (const argv of [["--config"], ["--config", "--verbose"], ["--config="]]) {
        const error = yield* loadError({ argv, env: {} })
        expect(error.reason).toBe("InvalidArgument")
        expect(error.message).toMatch(/^--config: expected a file path/)
      }
    }))
})
