/**
 * The gateway on the path users hit: 20-event (~3.9 KB) streamed OpenAI chat calls (`bench/gateway/upstream.ts`)
 * over keep-alive sockets on 127.0.0.1, every answer compared byte for byte with what the upstream sent.
 *
 * Separate processes: this one (the client), the upstream, a plain `node:http` proxy (`bench/gateway/proxy.ts`,
 * the yardstick of what any proxy costs here) and the gateway as `npm start` runs it, once untraced and once
 * traced (`bench/gateway/gatewayServer.ts`: `src/gateway/cli.ts` plus IPC answers for its CPU use and heap).
 * Where `taskset` exists the servers under test share core 1 (one is loaded at a time) and the client and the
 * upstream core 0. "direct" is the upstream itself (on the client's core).
 *
 * - closed loop at concurrency 1, 16, 64, 256: req/s, p50/p99 latency to the end of the stream, and the server's
 *   CPU ms per request (`process.cpuUsage` of the server child over the measured window);
 * - open loop at a steady 50 req/s: p50/p99, and what each adds over going direct;
 * - memory per open stream: 1,000 streams held open at the upstream, the server's heap after a full GC against
 *   its heap before them;
 * - cold start (`./gateway/coldStart.ts`): a fresh gateway process until it listens, and its first call;
 * - failed streams (an error, a reset socket, or any byte different), which must be 0.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process"
import { once } from "node:events"
import { rmSync, writeFileSync } from "node:fs"
import type { Agent } from "node:http"
import { createServer } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { chatStream } from "./gateway/chatStream.js"
import * as ColdStart from "./gateway/coldStart.js"
import { type Call, closedLoop, keepAliveAgent, openLoop, type Outcome, post } from "./gateway/load.js"
import { loadLine, median, quantile, spread, verdict } from "./support.js"

/** 16 content chunks: 20 events, 3,939 bytes with `include_usage`. */
const CHUNKS = 16
export const expected = chatStream(CHUNKS, true)

export const hasTaskset = spawnSync("taskset", ["-p", String(process.pid)]).status === 0

export interface Server {
  readonly child: ChildProcess
  readonly url: string
}

/** `argv` run on the given cores (a `taskset -c` list) where `taskset` exists; as it is otherwise, or without cores. */
export const onCores = (cores: string | undefined, argv: ReadonlyArray<string>): [string, Array<string>] =>
  hasTaskset && cores !== undefined ? ["taskset", ["-c", cores, ...argv]] : [argv[0]!, argv.slice(1)]

const nodeCommand = (
  script: string,
  args: ReadonlyArray<string>,
  core: number | undefined,
  nodeFlags: ReadonlyArray<string>
): [string, Array<string>] =>
  onCores(core === undefined ? undefined : String(core), [process.execPath, "--expose-gc", ...nodeFlags, "--import", "tsx", script, ...args])

const spawnServer = (
  script: string,
  args: ReadonlyArray<string>,
  core: number | undefined,
  env = process.env,
  nodeFlags: ReadonlyArray<string> = []
) => {
  const [command, argv] = nodeCommand(join(import.meta.dirname, script), args, core, nodeFlags)
  const child = spawn(command, argv, { env, stdio: ["ignore", "pipe", "inherit", "ipc"] })
  child.on("exit", (code, signal) => {
    if (code !== 0 && signal !== "SIGTERM") console.error(`${script} exited: ${code ?? signal}`)
  })
  return child
}

/** Starts a script that prints its port on a line of its own once listening (V8's traces may come first). */
export const startScript = async (
  script: string,
  args: ReadonlyArray<string>,
  core: number | undefined,
  nodeFlags: ReadonlyArray<string> = []
): Promise<Server> => {
  const child = spawnServer(script, args, core, process.env, nodeFlags)
  let seen = ""
  for (;;) {
    const [data] = (await once(child.stdout!, "data")) as [Buffer]
    seen += data.toString()
    const port = /^(\d+)\r?\n/m.exec(seen)?.[1]
    if (port !== undefined) {
      child.stdout!.resume()
      return { child, url: `http://127.0.0.1:${port}` }
    }
  }
}

export const freePort = async (): Promise<number> => {
  const server = createServer().listen(0, "127.0.0.1")
  await once(server, "listening")
  const { port } = server.address() as { port: number }
  server.close()
  return port
}

/** The gateway's config for a bench run, and a new (empty) trace store file beside it. */
export const writeConfig = (upstream: string, traced: boolean, port: number): { readonly config: string; readonly store: string } => {
  const config = join(tmpdir(), `effect-llm-trace-bench-${process.pid}-${port}-${traced ? "traced" : "untraced"}.json`)
  // A new trace store file per start: every run measures the same store (an empty one), not one grown by earlier runs.
  const store = join(tmpdir(), `effect-llm-trace-bench-${process.pid}-${port}.db`)
  removeStore(store)
  writeFileSync(
    config,
    JSON.stringify({
      server: { host: "127.0.0.1", port },
      tracing: { store: { path: store } },
      endpoints: [{
        name: "bench",
        usageTracking: traced,
        provider: { kind: "openai", model: "gpt-bench", baseUrl: `${upstream}/v1`, apiKeyEnv: "BENCH_API_KEY" }
      }]
    })
  )
  return { config, store }
}

/** Removes a trace store file and its WAL. */
export const removeStore = (store: string): void => {
  for (const suffix of ["", "-wal", "-shm"]) rmSync(store + suffix, { force: true })
}

/** The upstream key the bench's gateways read (`apiKeyEnv`). */
export const benchEnv = { ...process.env, BENCH_API_KEY: "sk-bench" }

/** The gateway as `npm start` runs it, one endpoint; its startup report and request log are discarded. */
export const startGateway = async (
  upstream: string,
  traced: boolean,
  nodeFlags: ReadonlyArray<string> = []
): Promise<Server> => {
  const port = await freePort()
  const { config, store } = writeConfig(upstream, traced, port)
  const child = spawnServer("gateway/gatewayServer.ts", ["--config", config], 1, benchEnv, nodeFlags)
  child.stdout!.resume()
  child.once("exit", () => removeStore(store))
  const url = `http://127.0.0.1:${port}`
  for (let i = 0; i < 400; i++) {
    const ready = await fetch(`${url}/api/traces?limit=1`).then((r) => r.ok, () => false)
    if (ready) return { child, url }
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error("the gateway did not start")
}

/** Asks a server child over IPC (see `bench/gateway/ipc.ts`). */
const ask = async <A>(server: Server, question: "cpu" | "heap"): Promise<A> => {
  const reply = once(server.child, "message")
  server.child.send(question)
  return (await reply)[0] as A
}

interface Target {
  readonly name: string
  readonly server: Server
  readonly url: URL
}

export const body = (hold: boolean) =>
  JSON.stringify({
    model: "bench",
    stream: true,
    stream_options: { include_usage: true },
    max_tokens: CHUNKS,
    messages: [{ role: "user", content: "Benchmark the gateway." }],
    ...(hold ? { bench_hold: true } : {})
  })

const fmt = (x: number, digits = 2) => x.toFixed(digits)

export interface Options {
  /** Rounds of the closed-loop measurements (medians and ranges over them). */
  readonly rounds: number
  /** Seconds measured per target and concurrency (after a warm-up of a third of it). */
  readonly seconds: number
  /** Calls at the steady 50 req/s, per target. */
  readonly steadyCalls: number
  /** Streams held open for the memory figure. */
  readonly openStreams: number
  /** Fresh gateway processes for the cold-start figures. */
  readonly coldRuns: number
}

export const run = async (options: Options) => {
  const concurrencies = [1, 16, 64, 256] as const
  if (hasTaskset) spawnSync("taskset", ["-a", "-p", "-c", "0", String(process.pid)])
  const upstream = await startScript("gateway/upstream.ts", [], 0)
  const proxy = await startScript("gateway/proxy.ts", [upstream.url], 1)
  const untraced = await startGateway(upstream.url, false)
  const traced = await startGateway(upstream.url, true)
  const agent: Agent = keepAliveAgent()
  const gatewayPath = "/gateway/openai/v1/chat/completions"
  const targets: ReadonlyArray<Target> = [
    { name: "direct", server: upstream, url: new URL(`${upstream.url}/v1/chat/completions`) },
    { name: "plain node:http proxy", server: proxy, url: new URL(`${proxy.url}/v1/chat/completions`) },
    { name: "gateway, untraced", server: untraced, url: new URL(`${untraced.url}${gatewayPath}`) },
    { name: "gateway, traced", server: traced, url: new URL(`${traced.url}${gatewayPath}`) }
  ]
  const call = (t: Target) => (): Promise<Call> => post(agent, t.url, body(false), expected)
  let failed = 0
  const tally = (o: Outcome) => {
    failed += o.failed
    return o
  }
  try {
    // Warm-up: every server's JIT before anything is measured.
    for (const t of targets) tally(await closedLoop(16, Math.max(2, options.seconds), call(t)))

    // Closed loop: per (concurrency, target), per round: req/s, p50, p99, server CPU ms per request.
    type Point = { readonly rps: number; readonly p50: number; readonly p99: number; readonly cpuMs: number; readonly failed: number }
    const points = new Map<string, Array<Point>>()
    for (let round = 0; round < options.rounds; round++) {
      for (const c of concurrencies) {
        for (const t of targets) {
          tally(await closedLoop(c, options.seconds / 3, call(t)))
          const before = await ask<{ cpuUs: number }>(t.server, "cpu")
          const start = performance.now()
          const o = tally(await closedLoop(c, options.seconds, call(t)))
          const seconds = (performance.now() - start) / 1000
          const after = await ask<{ cpuUs: number }>(t.server, "cpu")
          const done = o.latencies.length
          const key = `${t.name}|${c}`
          points.set(key, [...(points.get(key) ?? []), {
            rps: done / seconds,
            p50: quantile(o.latencies, 0.5),
            p99: quantile(o.latencies, 0.99),
            cpuMs: (after.cpuUs - before.cpuUs) / 1000 / Math.max(1, done),
            failed: o.failed
          }])
        }
      }
    }

    // Open loop at 50 req/s.
    const steady = []
    for (const t of targets) {
      tally(await openLoop(50, Math.min(50, options.steadyCalls), call(t)))
      steady.push(tally(await openLoop(50, options.steadyCalls, call(t))).latencies)
    }

    // Memory per open stream.
    const memory: Array<{ readonly name: string; readonly kb: number; readonly failed: number }> = []
    for (const t of targets.slice(1)) {
      const before = await ask<{ heapUsed: number }>(t.server, "heap")
      let started = 0
      let allStarted: () => void = () => {}
      const streaming = new Promise<void>((resolve) => allStarted = resolve)
      const onFirstByte = () => {
        if (++started === options.openStreams) allStarted()
      }
      const calls = Array.from({ length: options.openStreams }, () => post(agent, t.url, body(true), expected, onFirstByte))
      const all = Promise.all(calls)
      await Promise.race([streaming, all])
      const during = await ask<{ heapUsed: number }>(t.server, "heap")
      upstream.child.send("release")
      const results = await all
      const lost = results.filter((r) => !r.exact).length
      failed += lost
      memory.push({ name: t.name, kb: (during.heapUsed - before.heapUsed) / 1024 / options.openStreams, failed: lost })
    }

    // Cold start: fresh processes, after everything else (the servers above are idle by then).
    const cold = await ColdStart.measure(upstream.url, options.coldRuns)

    // Report.
    console.log(
      `\nGateway: 20-event (${expected.length} B) streamed chat calls, keep-alive; servers under test ` +
        `${hasTaskset ? "pinned to core 1, client and upstream to core 0" : "not pinned (no taskset)"}; ` +
        `${options.rounds} round(s) × ${options.seconds} s per cell, median (min–max) over rounds; ${loadLine()}`
    )
    console.log("| target | concurrency | req/s | p50 (ms) | p99 (ms) | server CPU ms / req | failed |")
    console.log("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for (const c of concurrencies) {
      for (const t of targets) {
        const ps = points.get(`${t.name}|${c}`)!
        console.log(
          `| ${t.name} | ${c} | ${spread(ps.map((p) => p.rps))} | ${spread(ps.map((p) => p.p50), 2)} | ` +
            `${spread(ps.map((p) => p.p99), 2)} | ${spread(ps.map((p) => p.cpuMs), 3)} | ${ps.reduce((n, p) => n + p.failed, 0)} |`
        )
      }
    }
    const rps = (name: string, c: number) => median(points.get(`${name}|${c}`)!.map((p) => p.rps))
    console.log("\nreq/s ratios to the plain proxy:")
    console.log(`| target | ${concurrencies.map((c) => `c=${c}`).join(" | ")} |`)
    console.log(`| --- |${concurrencies.map(() => " ---: |").join("")}`)
    for (const t of targets) {
      console.log(`| ${t.name} | ${concurrencies.map((c) => `${fmt(rps(t.name, c) / rps(targets[1]!.name, c))}×`).join(" | ")} |`)
    }

    console.log(`\nSteady 50 req/s, ${options.steadyCalls} calls per target: latency to the end of the stream, added = target − direct`)
    console.log("| target | p50 (ms) | p99 (ms) | added p50 (ms) | added p99 (ms) |")
    console.log("| --- | ---: | ---: | ---: | ---: |")
    const p = (xs: ReadonlyArray<number>, q: number) => quantile(xs, q)
    for (const [k, t] of targets.entries()) {
      const xs = steady[k]!
      console.log(
        `| ${t.name} | ${fmt(p(xs, 0.5))} | ${fmt(p(xs, 0.99))} | ${fmt(p(xs, 0.5) - p(steady[0]!, 0.5))} | ` +
          `${fmt(p(xs, 0.99) - p(steady[0]!, 0.99))} |`
      )
    }

    console.log(`\nMemory per open stream: ${options.openStreams} streams held open, server heap after a full GC`)
    console.log("| target | KB per open stream | failed |")
    console.log("| --- | ---: | ---: |")
    for (const m of memory) console.log(`| ${m.name} | ${fmt(m.kb, 1)} | ${m.failed} |`)

    console.log(
      `\nCold start: a fresh \`node dist/gateway/cli.js\` (no tsx, on every core), traced, new store; ${cold.length} processes, median (min–max)`
    )
    console.log("| | ms |")
    console.log("| --- | ---: |")
    console.log(`| bare \`node -e 0\`, spawn to exit (the floor) | ${spread(cold.map((c) => c.nodeMs), 1)} |`)
    console.log(`| gateway, spawn until it accepts connections | ${spread(cold.map((c) => c.readyMs), 1)} |`)
    console.log(`| its first streamed call (its first HTTP request) | ${spread(cold.map((c) => c.firstCallMs), 2)} |`)
    console.log(`| its next 20 calls, median | ${spread(cold.map((c) => c.nextCallMs), 2)} |`)

    const [, proxyName, untracedName, tracedName] = targets.map((t) => t.name) as [string, string, string, string]
    console.log("")
    console.log(verdict("traced req/s at c=64 / proxy", rps(tracedName, 64) / rps(proxyName, 64), 0.25))
    console.log(verdict("untraced req/s at c=64 / proxy", rps(untracedName, 64) / rps(proxyName, 64), 0.4))
    console.log(verdict("traced / untraced req/s at c=64 (tracing costs ≤ 25 %)", rps(tracedName, 64) / rps(untracedName, 64), 0.75))
    // Less sensitive to other processes on the server's core than req/s: what one core could serve, from CPU per request.
    const perCore = (name: string) => 1000 / median(points.get(`${name}|64`)!.map((x) => x.cpuMs))
    console.log(
      `CPU-bound req/s per core at c=64 (1000 / server CPU ms per request): proxy ${fmt(perCore(proxyName), 0)}, ` +
        `untraced ${fmt(perCore(untracedName), 0)} (${fmt(perCore(untracedName) / perCore(proxyName))}×), ` +
        `traced ${fmt(perCore(tracedName), 0)} (${fmt(perCore(tracedName) / perCore(proxyName))}×)`
    )
    const addedP99 = p(steady[3]!, 0.99) - p(steady[0]!, 0.99)
    console.log(`added p99 at 50 req/s, traced: ${fmt(addedP99)} ms (target < 2 ms: ${addedP99 < 2 ? "met" : "MISSED"})`)
    const tracedKb = memory[2]!.kb
    console.log(`traced memory per open stream: ${fmt(tracedKb, 1)} KB (target ≤ 30 KB: ${tracedKb <= 30 ? "met" : "MISSED"})`)
    console.log(`failed streams, all phases: ${failed} (target 0: ${failed === 0 ? "met" : "MISSED"})`)
  } finally {
    agent.destroy()
    const servers = [traced, untraced, proxy, upstream]
    for (const s of servers) s.child.kill("SIGTERM")
    await Promise.all(servers.map((s) => s.child.exitCode === null ? once(s.child, "exit") : undefined))
  }
}
