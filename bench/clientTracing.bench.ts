/**
 * Per-call overhead of `ClientTracing.fetch()` against a plain `fetch`, each variant in a fresh process (so that
 * JIT state and heap do not carry over), calling a local upstream on 127.0.0.1 (in this parent process) over real
 * sockets: OpenAI chat calls, streamed (7 SSE events, usage included) and not (one JSON body), the body read whole
 * as an SDK does. Reported per call: the process's first call (cold), wall time (median and p90 over the calls of
 * a process after the warm-up) and the child's CPU time (user + system, divided by the calls: what tracing costs the
 * caller's process). The traced variant records
 * into the embedded store (no export); `enabled: false` is the switched-off path.
 *
 * `npx tsx bench/clientTracing.bench.ts [--rounds 5 --calls 2000] [--dist dist]`, or `npm run bench -- --only client`.
 * With `--dist <dir>` the children import the compiled package (`npm run build` writes `dist/`) instead of the
 * sources through tsx, whose esbuild `keepNames` wrappers make closure-heavy code (the SSE parser, the folds)
 * several times slower than it is in a real install: the figures to quote are the `--dist` ones.
 */
import { execFile } from "node:child_process"
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import { loadavg } from "node:os"
import { resolve } from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
import { parseArgs, promisify } from "node:util"
import { median, quantile } from "./support.js"

const variants = ["plain fetch", "ClientTracing.fetch()", "ClientTracing.fetch({ enabled: false })"] as const
type Variant = (typeof variants)[number]
const modes = ["stream", "json"] as const
type Mode = (typeof modes)[number]

interface Result {
  /** The process's first call: cold JIT, first connection, the tracing layer built on first use. */
  readonly firstUs: number
  readonly wallMedianUs: number
  readonly wallP90Us: number
  readonly cpuUs: number
}

// The upstream ------------------------------------------------------------------------------------------------------

const chunk = (fields: Record<string, unknown>) =>
  `data: ${JSON.stringify({ id: "chatcmpl-bench", object: "chat.completion.chunk", created: 1700000000, model: "gpt-bench", ...fields })}\n\n`

const streamBody = [
  chunk({ choices: [{ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null }] }),
  ...["Hel", "lo ", "wor", "ld"].map((t) => chunk({ choices: [{ index: 0, delta: { content: t }, finish_reason: null }] })),
  chunk({ choices: [{ index: 0, delta: {}, finish_reason: "stop" }] }),
  chunk({ choices: [], usage: { prompt_tokens: 9, completion_tokens: 4, total_tokens: 13 } }),
  "data: [DONE]\n\n"
].join("")

const jsonBody = JSON.stringify({
  id: "chatcmpl-bench",
  object: "chat.completion",
  created: 1700000000,
  model: "gpt-bench",
  choices: [{ index: 0, message: { role: "assistant", content: "Hello world" }, finish_reason: "stop" }],
  usage: { prompt_tokens: 9, completion_tokens: 4, total_tokens: 13 }
})

const startUpstream = () =>
  new Promise<{ readonly url: string; readonly close: () => void }>((resolve) => {
    const server = createServer((req, res) => {
      const parts: Array<Buffer> = []
      req.on("data", (b: Buffer) => parts.push(b))
      req.on("end", () => {
        const stream = JSON.parse(Buffer.concat(parts).toString("utf8")).stream === true
        res.writeHead(200, { "content-type": stream ? "text/event-stream" : "application/json" })
        res.end(stream ? streamBody : jsonBody)
      })
    })
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo
      resolve({
        url: `http://127.0.0.1:${port}/v1/chat/completions`,
        close: () => {
          server.closeAllConnections()
          server.close()
        }
      })
    })
  })

// One child process ---------------------------------------------------------------------------------------------

const child = async (variant: Variant, mode: Mode, url: string, calls: number, dist: string | undefined): Promise<Result> => {
  const { ClientTracing, Telemetry } = dist === undefined
    ? await import("../src/index.js")
    : await import(pathToFileURL(resolve(dist, "index.js")).href) as typeof import("../src/index.js")
  const fetch = variant === "plain fetch"
    ? Object.assign(globalThis.fetch, { shutdown: () => Promise.resolve() })
    : ClientTracing.fetch({
      telemetry: Telemetry.layer({ serviceName: "bench" }),
      ...(variant === "ClientTracing.fetch({ enabled: false })" ? { enabled: false } : {})
    })
  const body = JSON.stringify({
    model: "gpt-bench",
    stream: mode === "stream",
    ...(mode === "stream" ? { stream_options: { include_usage: true } } : {}),
    messages: [{ role: "user", content: "hello" }]
  })
  const call = async () => {
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: "Bearer sk-bench" },
      body
    })
    const text = await response.text()
    if (text.length < 10) throw new Error("short body")
  }
  const first = performance.now()
  await call()
  const firstUs = (performance.now() - first) * 1000
  for (let i = 1; i < Math.min(500, calls); i++) await call()
  const times: Array<number> = []
  const cpu = process.cpuUsage()
  for (let i = 0; i < calls; i++) {
    const start = performance.now()
    await call()
    times.push((performance.now() - start) * 1000)
  }
  const used = process.cpuUsage(cpu)
  await fetch.shutdown()
  return { firstUs, wallMedianUs: median(times), wallP90Us: quantile(times, 0.9), cpuUs: (used.user + used.system) / calls }
}

// The comparison ------------------------------------------------------------------------------------------------

const self = fileURLToPath(import.meta.url)

// Asynchronously: the upstream lives in this process, whose event loop must keep answering.
const measureInChild = async (variant: Variant, mode: Mode, url: string, calls: number, dist: string | undefined): Promise<Result> => {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ["--import", "tsx", self, "--child", variant, "--mode", mode, "--url", url, "--calls", String(calls), ...(dist === undefined ? [] : ["--dist", dist])],
    { encoding: "utf8" }
  )
  return JSON.parse(stdout.trim().split("\n").at(-1)!) as Result
}

const fmt = (xs: ReadonlyArray<number>) =>
  `${median(xs).toFixed(0)} (${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)})`

export const run = async (options: { readonly rounds: number; readonly calls: number; readonly dist?: string | undefined }) => {
  const upstream = await startUpstream()
  const load = loadavg()[0]!.toFixed(1)
  const results = new Map<string, Array<Result>>()
  try {
    for (let round = 0; round < options.rounds; round++) {
      for (const mode of modes) {
        for (const variant of variants) {
          const key = `${variant}|${mode}`
          results.set(key, [...results.get(key) ?? [], await measureInChild(variant, mode, upstream.url, options.calls, options.dist)])
        }
      }
    }
  } finally {
    upstream.close()
  }
  console.log(
    `\nClient tracing: one OpenAI chat call through fetch to a local upstream, µs per call (${options.calls} sequential calls per process after 500 warm-up; ${options.rounds} fresh processes per row: median (min–max)); node ${process.version}, ${options.dist === undefined ? "sources through tsx" : `compiled (${options.dist})`}, load ${load} at start`
  )
  console.log("| variant | response | first call, wall | wall, median | wall, p90 | CPU of the caller's process |")
  console.log("| --- | --- | ---: | ---: | ---: | ---: |")
  for (const mode of modes) {
    for (const variant of variants) {
      const list = results.get(`${variant}|${mode}`)!
      console.log(`| ${variant} | ${mode} | ${fmt(list.map((r) => r.firstUs))} | ${fmt(list.map((r) => r.wallMedianUs))} | ${fmt(list.map((r) => r.wallP90Us))} | ${fmt(list.map((r) => r.cpuUs))} |`)
    }
  }
  for (const mode of modes) {
    const of = (variant: Variant, pick: (r: Result) => number) => median(results.get(`${variant}|${mode}`)!.map(pick))
    const wall = of("ClientTracing.fetch()", (r) => r.wallMedianUs) - of("plain fetch", (r) => r.wallMedianUs)
    const cpu = of("ClientTracing.fetch()", (r) => r.cpuUs) - of("plain fetch", (r) => r.cpuUs)
    const off = of("ClientTracing.fetch({ enabled: false })", (r) => r.cpuUs) - of("plain fetch", (r) => r.cpuUs)
    const first = of("ClientTracing.fetch()", (r) => r.firstUs) - of("plain fetch", (r) => r.firstUs)
    console.log(
      `${mode}: tracing adds ${wall.toFixed(0)} µs wall and ${cpu.toFixed(0)} µs CPU per call; switched off, ${off.toFixed(0)} µs CPU; ` +
        `to a process's first call, ${(first / 1000).toFixed(1)} ms`
    )
  }
  console.log(`load at end ${loadavg()[0]!.toFixed(1)}`)
}

const { values } = parseArgs({
  options: {
    child: { type: "string" },
    mode: { type: "string" },
    url: { type: "string" },
    calls: { type: "string" },
    rounds: { type: "string" },
    dist: { type: "string" }
  },
  strict: false
})

const isMain = process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]
if (isMain && typeof values.child === "string") {
  const dist = typeof values.dist === "string" ? values.dist : undefined
  const result = await child(values.child as Variant, values.mode as Mode, String(values.url), Number(values.calls), dist)
  console.log(JSON.stringify(result))
  process.exit(0)
} else if (isMain) {
  await run({
    rounds: Number(values.rounds ?? 5),
    calls: Number(values.calls ?? 2000),
    dist: typeof values.dist === "string" ? values.dist : undefined
  })
}
