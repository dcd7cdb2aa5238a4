/**
 * The package as a consumer gets it. `npm pack`, then the tarball installed by path into a new project together
 * with the Effect 3 peers (README's install line, with the exact versions of this checkout so that the npm cache
 * serves everything: `--prefer-offline`, no network needed); there, every public module is imported from the root
 * and from its subpath, `internal/` and the CLI entry must not resolve, README's TypeScript blocks typecheck
 * against the installed declarations, the library snippet runs against a local echo server, and the installed
 * `effect-llm-trace` command answers `--help` and `--version`.
 *
 * The exports map is checked against `src/index.ts` both ways, so a new public module cannot be forgotten.
 */
import { Effect } from "effect"
import { execFile } from "node:child_process"
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs"
import { rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join, relative } from "node:path"
import { fileURLToPath } from "node:url"
import { promisify } from "node:util"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import * as Cli from "../support/cli.js"

const root = fileURLToPath(new URL("../..", import.meta.url))
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
  readonly name: string
  readonly version: string
  readonly bin: Readonly<Record<string, string>>
  readonly exports: Readonly<Record<string, { readonly types: string; readonly default: string } | string>>
  readonly sideEffects: ReadonlyArray<string>
  readonly scripts: Readonly<Record<string, string>>
  readonly dependencies: Readonly<Record<string, string>>
  readonly peerDependencies: Readonly<Record<string, string>>
  readonly devDependencies: Readonly<Record<string, string>>
}

const run = promisify(execFile)

/** npm's own variables from an enclosing `npm test` would change what a nested npm does. */
const cleanEnv = (extra: Readonly<Record<string, string>> = {}): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = {}
  for (const [key, value] of Object.entries(process.env)) {
    if (!/^npm_/i.test(key) && !/_API_KEY$/.test(key) && !key.startsWith("OTEL_")) env[key] = value
  }
  return { ...env, ...extra }
}

const npm = (args: ReadonlyArray<string>, cwd: string) =>
  run("npm", [...args], { cwd, env: cleanEnv(), maxBuffer: 64 << 20 })

/** `export * as Name from "./path.js"` of `src/index.ts`: the public modules and their files. */
const publicModules = (): ReadonlyMap<string, string> =>
  new Map(
    [...readFileSync(join(root, "src/index.ts"), "utf8").matchAll(/^export \* as (\w+) from "\.\/(.+)\.js"$/gm)]
      .map((m) => [m[1]!, m[2]!])
  )

const walk = (dir: string): Array<string> =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? walk(join(dir, entry.name)) : [join(dir, entry.name)]
  )

/** The README's TypeScript blocks that follow a `<!-- marker…-->` line. */
const readmeBlocks = (marker: string): Array<string> =>
  [...readFileSync(join(root, "README.md"), "utf8").matchAll(new RegExp(`<!-- ${marker}[^\\n]*-->\\n\`\`\`ts\\n([\\s\\S]*?)\`\`\`\\n`, "g"))]
    .map((m) => m[1]!)

describe("the exports map", () => {
  it("lists exactly the namespaces of src/index.ts, each at its own file, with declarations", () => {
    const modules = publicModules()
    expect(modules.size).toBeGreaterThan(20)
    const expected: Record<string, unknown> = { ".": { types: "./dist/index.d.ts", default: "./dist/index.js" } }
    for (const [name, path] of modules) {
      expected[`./${name}`] = { types: `./dist/${path}.d.ts`, default: `./dist/${path}.js` }
    }
    expected["./package.json"] = "./package.json"
    expect(pkg.exports).toEqual(expected)
  })

  it("the CLI is the bin, the only module with side effects", () => {
    expect(pkg.bin).toEqual({ "effect-llm-trace": "dist/gateway/cli.js" })
    expect(pkg.sideEffects).toEqual(["./dist/gateway/cli.js"])
    expect(readFileSync(join(root, "src/gateway/cli.ts"), "utf8").startsWith("#!/usr/bin/env node\n")).toBe(true)
    // git installs and `npm pack` build dist/ through `prepare`.
    expect(pkg.scripts["prepare"]).toBe("npm run build")
  })

  it("the Effect family is peers (kept as devDependencies for this checkout), not dependencies", () => {
    for (const name of ["effect", "@effect/platform", "@effect/platform-node", "@effect/opentelemetry"]) {
      expect(pkg.peerDependencies[name]).toMatch(/^\^\d/)
      expect(pkg.devDependencies[name]).toBe(pkg.peerDependencies[name])
      expect(pkg.dependencies[name]).toBeUndefined()
    }
  })
})

describe.sequential("the packed package, installed in a new project", () => {
  let work = ""
  let consumer = ""
  let files: ReadonlyArray<string> = []

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), "effect-llm-trace-pack-"))
    consumer = join(work, "consumer")
    // `npm ci` (CI) has just run `prepare`; rebuild only when a source is newer than the build, so that the test
    // packs what the sources say without building twice.
    const sources = walk(join(root, "src"))
    let built: ReadonlyArray<string> = []
    try {
      built = walk(join(root, "dist")).filter((f) => f.endsWith(".js"))
    } catch {
      // no dist/ yet
    }
    const oldestBuild = Math.min(...built.map((f) => statSync(f).mtimeMs))
    const stale = built.length !== sources.length || sources.some((f) => statSync(f).mtimeMs >= oldestBuild)
    if (stale) await npm(["run", "build"], root)

    const { stdout } = await npm(["pack", "--ignore-scripts", "--json", "--pack-destination", work], root)
    const [packed] = JSON.parse(stdout) as Array<{ filename: string; files: Array<{ path: string }> }>
    files = packed!.files.map((f) => f.path)

    const versionOf = (name: string) =>
      (JSON.parse(readFileSync(join(root, "node_modules", name, "package.json"), "utf8")) as { version: string }).version
    const peers = Object.keys(pkg.peerDependencies).map((name) => `${name}@${versionOf(name)}`)
    mkdirSync(consumer)
    writeFileSync(join(consumer, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }))
    await npm(
      ["install", join(work, packed!.filename), ...peers, "--prefer-offline", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error"],
      consumer
    )
  }, 300_000)

  // Asynchronously: removing a whole node_modules synchronously would block the test worker for seconds.
  afterAll(() => work === "" ? undefined : rm(work, { recursive: true, force: true }), 120_000)

  it("the tarball holds dist/ with every public module and its declarations, and no tests", () => {
    for (const path of publicModules().values()) {
      expect(files).toContain(`dist/${path}.js`)
      expect(files).toContain(`dist/${path}.d.ts`)
    }
    expect(files).toContain("dist/index.d.ts")
    expect(files).toContain("dist/gateway/cli.js")
    expect(files.filter((f) => /^(test|bench|scratch)\/|\.test\.|node_modules/.test(f))).toEqual([])
  })

  it("dist (code and declarations) imports only packages it declares (dependencies or peers) and Node built-ins", () => {
    const declared = new Set([...Object.keys(pkg.dependencies), ...Object.keys(pkg.peerDependencies)])
    const undeclared = new Set<string>()
    for (const file of walk(join(consumer, "node_modules", pkg.name, "dist")).filter((f) => /\.(js|d\.ts)$/.test(f))) {
      // Static imports and re-exports start a line (doc comments, which may show imports, start with ` *`).
      const text = readFileSync(file, "utf8")
      const imports = /^(?:import|export)\b[^;]*?\bfrom\s*"([^"]+)"|^import\s*"([^"]+)"|\bimport\(\s*"([^"]+)"\s*\)/gm
      for (const match of text.matchAll(imports)) {
        const specifier = match[1] ?? match[2] ?? match[3]!
        if (specifier.startsWith(".") || specifier.startsWith("node:")) continue
        const name = specifier.startsWith("@") ? specifier.split("/").slice(0, 2).join("/") : specifier.split("/")[0]!
        if (!declared.has(name)) undeclared.add(`${name} (${relative(consumer, file)})`)
      }
    }
    expect([...undeclared]).toEqual([])
  })

  it("every public module imports from the root and from its subpath, as the same module; internals do not", async () => {
    const names = [...publicModules().keys()]
    const script = `
      const root = await import("${pkg.name}")
      const report = { missing: [], differ: [], resolvable: [] }
      for (const name of ${JSON.stringify(names)}) {
        if (!(name in root)) report.missing.push(name)
        const sub = await import("${pkg.name}/" + name)
        if (Object.keys(sub).join() !== Object.keys(root[name] ?? {}).join()) report.differ.push(name)
        else if (Object.keys(sub).some((k) => sub[k] !== root[name][k])) report.differ.push(name)
      }
      for (const path of ["internal/sseParser", "internal/sseParser.js", "dist/internal/sseParser.js", "gateway/main", "gateway/cli", "dist/gateway/cli.js", "Sse.js"]) {
        try { await import("${pkg.name}/" + path); report.resolvable.push(path) }
        catch (e) { if (e.code !== "ERR_PACKAGE_PATH_NOT_EXPORTED") report.resolvable.push(path + ": " + e.code) }
      }
      console.log(JSON.stringify(report))`
    const { stdout } = await run(process.execPath, ["--input-type=module", "-e", script], { cwd: consumer, env: cleanEnv() })
    expect(JSON.parse(stdout)).toEqual({ missing: [], differ: [], resolvable: [] })
  }, 60_000)

  it("README's TypeScript blocks typecheck against the installed declarations; the library snippet runs", async () => {
    const [snippet] = readmeBlocks("library-snippet")
    const typechecked = readmeBlocks("typechecked")
    expect(snippet).toContain(`from "${pkg.name}"`)
    expect(typechecked.length).toBeGreaterThan(0)
    writeFileSync(join(consumer, "snippet.ts"), snippet!)
    typechecked.forEach((block, i) => writeFileSync(join(consumer, `typechecked-${i}.ts`), block))
    writeFileSync(
      join(consumer, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          target: "ES2022",
          module: "NodeNext",
          moduleResolution: "NodeNext",
          strict: true,
          exactOptionalPropertyTypes: true,
          noUncheckedIndexedAccess: true,
          skipLibCheck: true,
          outDir: "out",
          // A consumer has its own @types/node; this one is the checkout's.
          typeRoots: [join(root, "node_modules/@types")],
          types: ["node"]
        },
        include: ["*.ts"]
      })
    )
    const tsc = join(root, "node_modules/typescript/bin/tsc")
    const typecheck = await run(process.execPath, [tsc, "-p", consumer], { cwd: consumer, env: cleanEnv() }).then(
      () => "",
      (error: { stdout: string }) => error.stdout
    )
    expect(typecheck).toBe("")

    // No key: the snippet calls the installed gateway's echo endpoint, the way README tells a reader to run it.
    const result = await Effect.runPromise(Effect.scoped(Effect.gen(function*() {
      const gateway = yield* Cli.start([join(consumer, "node_modules/.bin/effect-llm-trace"), "--port", "0"], {}, {
        cwd: consumer
      })
      const url = (yield* gateway.waitFor(/listening {2}(http:\/\/\S+)/))[1]!
      const output = yield* Effect.promise(() =>
        run(process.execPath, [join(consumer, "out/snippet.js")], {
          cwd: consumer,
          env: cleanEnv({ OPENAI_BASE_URL: `${url}/gateway/openai/v1` })
        })
      )
      gateway.child.kill("SIGTERM")
      return { ...output, gateway: yield* gateway.exited }
    })))
    expect(result.stderr).toMatch(
      /^trace [0-9a-f]{32}\n└─ provider\/openai\/echo {2}[\d.]+ ms {2}OK {2}model=echo {2}tokens \d+→\d+ {2}ttft [\d.]+ ms\n$/
    )
    expect(result.stdout).toMatch(/^\d+ bytes of events; provider\/openai\/echo: \{"input_tokens":\d+,"output_tokens":\d+,/)
    // The gateway logged the call (no credentials sent: the snippet has no key) and stopped cleanly.
    expect(result.gateway.stdout).toMatch(/POST \/gateway\/openai\/v1\/chat\/completions endpoint=echo status=200/)
    expect(result.gateway.code).toBe(0)
  }, 120_000)

  it("the installed effect-llm-trace command answers --version and --help", async () => {
    const bin = join(consumer, "node_modules/.bin/effect-llm-trace")
    const [version, help] = await Promise.all([
      run(bin, ["--version"], { cwd: consumer, env: cleanEnv() }),
      run("npx", ["--offline", "effect-llm-trace", "--help"], { cwd: consumer, env: cleanEnv() })
    ])
    expect(version.stdout).toBe(`${pkg.version}\n`)
    expect(help.stdout).toMatch(/^Usage: effect-llm-trace \[options\]\n/)
  }, 60_000)
})
