/**
 * The gateway against going straight to the same upstream, over real sockets on 127.0.0.1. Separate processes:
 * this one (the client), the upstream (`bench/gateway/upstream.ts`), a plain `node:http` proxy as the yardstick of
 * what any proxy costs on this machine (`bench/gateway/proxy.ts`), and the gateway exactly as `npm start` runs it
 * (`src/gateway/cli.ts` with a config pointing at the upstream), so no server shares an event loop with the
 * client. The gateway serves the same upstream untraced (`usageTracking: false`) and traced (OpenAI chat fold,
 * `include_usage` on, spans into its TraceStore).
 *
 * - time to first byte: sequential small streams, every target interleaved; added = traced gateway − direct;
 * - throughput: one large stream per run, interleaved, MB/s received by the client;
 * - concurrency: N streams at once, every byte compared with what the upstream sent; the gateway's peak RSS.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { once } from "node:events"
import { readFileSync, writeFileSync } from "node:fs"
import { Agent, request } from "node:http"
import { createServer } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { chatStream, chunksFor } from "./gateway/chatStream.js"
import { median, quantile } from "./support.js"

interface Call {
  readonly ttfbMs: number
  readonly totalMs: number
  readonly bytes: number
  /** Whether every byte matched the expected stream, and none was missing. */
  readonly exact: boolean
}

/** POSTs `body` and streams the answer, comparing it slice by slice with `expected` (nothing is kept). */
const post = (agent: Agent, url: URL, body: string, expected: Buffer): Promise<Call> =>
  new Promise((resolve, reject) => {
    const start = performance.now()
    const req = request(url, { method: "POST", agent, headers: { "content-type": "application/json" } }, (res) => {
      let ttfbMs = -1
      let offset = 0
      let exact = res.statusCode === 200
      res.on("data", (chunk: Buffer) => {
        if (ttfbMs < 0) ttfbMs = performance.now() - start
        if (exact && !chunk.equals(expected.subarray(offset, offset + chunk.length))) exact = false
        offset += chunk.length
      })
      res.on("end", () =>
        resolve({ ttfbMs, totalMs: performance.now() - start, bytes: offset, exact: exact && offset === expected.length })
      )
      res.on("error", reject)
    })
    req.on("error", reject)
    req.end(body)
  })

const requestBody = (model: string, chunks: number) =>
  JSON.stringify({
    model,
    stream: true,
    stream_options: { include_usage: true },
    max_tokens: chunks,
    messages: [{ role: "user", content: "Benchmark the gateway." }]
  })

const freePort = async (): Promise<number> => {
  const server = createServer().listen(0, "127.0.0.1")
  await once(server, "listening")
  const { port } = server.address() as { port: number }
  server.close()
  return port
}

const tsx = (script: string, args: ReadonlyArray<string>, env: NodeJS.ProcessEnv): ChildProcess =>
  spawn(process.execPath, ["--import", "tsx", script, ...args], { env, stdio: ["ignore", "pipe", "inherit"] })

/** Starts a script that prints its port once listening. */
const startScript = async (script: string, args: ReadonlyArray<string> = []): Promise<{ readonly child: ChildProcess; readonly url: string }> => {
  const child = tsx(join(import.meta.dirname, script), args, process.env)
  const [line] = (await once(child.stdout!, "data")) as [Buffer]
  return { child, url: `http://127.0.0.1:${line.toString().trim()}` }
}

/** The gateway as `npm start` runs it; its request log is discarded (a terminal would slow it, not the gateway). */
const startGateway = async (upstream: string): Promise<{ readonly child: ChildProcess; readonly url: string }> => {
  const port = await freePort()
  const config = join(tmpdir(), `effect-llm-trace-bench-${process.pid}.json`)
  writeFileSync(
    config,
    JSON.stringify({
      server: { host: "127.0.0.1", port },
      endpoints: ["bench", "bench-untraced"].map((name) => ({
        name,
        usageTracking: name === "bench",
        provider: { kind: "openai", model: "gpt-bench", baseUrl: `${upstream}/v1`, apiKeyEnv: "BENCH_API_KEY" }
      }))
    })
  )
  const child = tsx(join(import.meta.dirname, "../src/gateway/cli.ts"), ["--config", config], {
    ...process.env,
    BENCH_API_KEY: "sk-bench"
  })
  child.stdout!.resume()
  const url = `http://127.0.0.1:${port}`
  for (let i = 0; i < 200; i++) {
    const ready = await fetch(`${url}/api/traces?limit=1`).then((r) => r.ok, () => false)
    if (ready) return { child, url }
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error("the gateway did not start")
}

/** The resident set size of a process, in MB (Linux `/proc`; NaN elsewhere). */
const rssMb = (pid: number): number => {
  try {
    const kb = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1]
    return kb === undefined ? Number.NaN : Number(kb) / 1024
  } catch {
    return Number.NaN
  }
}

interface Target {
  readonly name: string
  readonly url: URL
  /** The body's `model`: the upstream's model directly, else the gateway endpoint. */
  readonly model: string
}

const fmt = (x: number, digits = 2) => x.toFixed(digits)

export const run = async (options: {
  readonly mib: number
  readonly runs: number
  readonly concurrency: number
  readonly requests: number
}) => {
  const upstream = await startScript("gateway/upstream.ts")
  const proxy = await startScript("gateway/proxy.ts", [upstream.url])
  const gateway = await startGateway(upstream.url)
  const agent = new Agent({ keepAlive: true, maxSockets: Number.POSITIVE_INFINITY })
  const gatewayUrl = new URL(`${gateway.url}/gateway/openai/v1/chat/completions`)
  const targets: ReadonlyArray<Target> = [
    { name: "direct", url: new URL(`${upstream.url}/v1/chat/completions`), model: "gpt-bench" },
    { name: "plain node:http proxy", url: new URL(`${proxy.url}/v1/chat/completions`), model: "gpt-bench" },
    { name: "gateway, untraced", url: gatewayUrl, model: "bench-untraced" },
    { name: "gateway, traced", url: gatewayUrl, model: "bench" }
  ]
  try {
    let inexact = 0
    /** One call of `chunks` content chunks to each target in turn, `times` times after `warmup` discarded rounds. */
    const rounds = async (chunks: number, times: number, warmup: number, measure: (call: Call) => number) => {
      const expected = chatStream(chunks, true)
      const results = targets.map((): Array<number> => [])
      for (let i = 0; i < times + warmup; i++) {
        for (const [k, t] of targets.entries()) {
          const call = await post(agent, t.url, requestBody(t.model, chunks), expected)
          if (!call.exact) inexact++
          if (i >= warmup) results[k]!.push(measure(call))
        }
      }
      return results
    }
    const ttfb = await rounds(8, options.requests, 50, (call) => call.ttfbMs)
    const rates = await rounds(chunksFor(options.mib * 1024 * 1024), options.runs, 1, (c) => c.bytes / 1048576 / (c.totalMs / 1000))

    // Concurrency: N streams at once, every byte checked; the gateway's RSS sampled throughout.
    const each = chunksFor(64 * 1024)
    const eachBytes = chatStream(each, true)
    const waves: Array<{ readonly seconds: number; readonly lost: number; readonly rss: readonly [number, number] }> = []
    for (const t of targets) {
      const pid = (t.url === gatewayUrl ? gateway : proxy).child.pid!
      const rss: [number, number] = [rssMb(pid), rssMb(pid)]
      const sampler = setInterval(() => {
        rss[1] = Math.max(rss[1], rssMb(pid))
      }, 20)
      const start = performance.now()
      const calls = await Promise.all(Array.from({ length: options.concurrency }, () =>
        post(agent, t.url, requestBody(t.model, each), eachBytes).catch(() => undefined)))
      const seconds = (performance.now() - start) / 1000
      clearInterval(sampler)
      rss[1] = Math.max(rss[1], rssMb(pid))
      waves.push({ seconds, lost: calls.filter((c) => c === undefined || !c.exact).length, rss })
    }

    console.log(
      `\nGateway vs direct, OpenAI chat streams with include_usage (${options.requests} sequential small calls for TTFB; ` +
        `${options.mib} MiB streams × ${options.runs} runs for throughput; ${options.concurrency} concurrent 64 KiB streams)`
    )
    console.log(`| measure | ${targets.map((t) => t.name).join(" | ")} | traced vs direct | target |`)
    console.log(`| --- |${targets.map(() => " ---: |").join("")} ---: | --- |`)
    const row = (measure: string, values: ReadonlyArray<number>, digits: number, versus: string, target = "") =>
      console.log(`| ${measure} | ${values.map((v) => fmt(v, digits)).join(" | ")} | ${versus} | ${target} |`)
    const medTtfb = ttfb.map(median)
    const p99Ttfb = ttfb.map((xs) => quantile(xs, 0.99))
    const mbs = rates.map(median)
    const last = targets.length - 1
    row("time to first byte, median (ms)", medTtfb, 2, `+${fmt(medTtfb[last]! - medTtfb[0]!)} ms`, "added < 1 ms")
    row("time to first byte, p99 (ms)", p99Ttfb, 2, `+${fmt(p99Ttfb[last]! - p99Ttfb[0]!)} ms`)
    row("streamed MB/s (median)", mbs, 0, `${fmt(mbs[last]! / mbs[0]!)}×`, "≥ 0.8×")
    row(`${options.concurrency} concurrent streams, wall (s)`, waves.map((w) => w.seconds), 2, `${fmt(waves[0]!.seconds / waves[last]!.seconds)}×`)
    row(`lost or altered streams (of ${options.concurrency})`, waves.map((w) => w.lost), 0, "", "0")
    console.log(
      `| proxy RSS during the wave, before → peak (MB) | – | ${waves.slice(1).map((w) => `${fmt(w.rss[0], 0)} → ${fmt(w.rss[1], 0)}`).join(" | ")} | | |`
    )
    if (inexact > 0) console.log(`WARNING: ${inexact} sequential calls did not return exactly the upstream's bytes`)
  } finally {
    agent.destroy()
    gateway.child.kill("SIGTERM")
    for (const p of [upstream, proxy]) p.child.kill("SIGTERM")
    await Promise.all([gateway, upstream, proxy].map((p) => once(p.child, "exit")))
  }
}
