/**
 * What the young-generation GC copies per request, which is what sets the gateway's p99 at a steady load: each
 * server runs with `--trace-gc-nvp` on core 1 and serves `--calls` streamed chat calls at 50 req/s; every
 * scavenge (minor GC) in that window reports its pause and the bytes that survived it. Servers, one step apart:
 * the plain `node:http` proxy, the same through undici, the same in one Effect fiber per request
 * (`./proxy.ts`'s modes), that once more without V8's allocation-site pretenuring (the gateway's CLI turns it off),
 * then the gateway untraced and traced. Standalone:
 * `npx tsx bench/gateway/scavenge.ts [--calls 1500]`.
 */
import { once } from "node:events"
import { parseArgs } from "node:util"
import { body, expected, type Server, startGateway, startScript } from "../gateway.bench.js"
import { keepAliveAgent, openLoop, post } from "./load.js"
import { loadLine, median } from "../support.js"

interface Scavenge {
  readonly pauseMs: number
  readonly survivedBytes: number
}

/** The scavenges a `--trace-gc-nvp` child prints while `recording()` holds. */
const scavenges = (server: Server, recording: () => boolean): Array<Scavenge> => {
  const found: Array<Scavenge> = []
  let partial = ""
  server.child.stdout!.on("data", (data: Buffer) => {
    const lines = (partial + data.toString()).split("\n")
    partial = lines.pop() ?? ""
    for (const line of lines) {
      if (!recording() || !line.includes(" gc=s ")) continue
      const field = (name: string) => Number(new RegExp(` ${name}=([0-9.]+)`).exec(line)?.[1])
      found.push({ pauseMs: field("pause"), survivedBytes: field("new_space_survived") })
    }
  })
  return found
}

const measure = async (name: string, server: Server, path: string, calls: number) => {
  let recording = false
  const seen = scavenges(server, () => recording)
  const agent = keepAliveAgent()
  const url = new URL(`${server.url}${path}`)
  const call = () => post(agent, url, body(false), expected)
  await openLoop(50, 100, call)
  // Two full GCs (the IPC "heap" question) first: what starting up left young is not this window's to copy.
  const collected = once(server.child, "message")
  server.child.send("heap")
  await collected
  recording = true
  const outcome = await openLoop(50, calls, call)
  recording = false
  agent.destroy()
  // The next server starts on the same core: this one must be gone first (the gateway drains its store on exit).
  const exited = once(server.child, "exit")
  server.child.kill("SIGTERM")
  await exited
  const survived = seen.reduce((sum, s) => sum + s.survivedBytes, 0)
  return {
    name,
    scavenges: seen.length,
    pauseMs: seen.length === 0 ? Number.NaN : median(seen.map((s) => s.pauseMs)),
    maxPauseMs: Math.max(0, ...seen.map((s) => s.pauseMs)),
    survivedKb: seen.length === 0 ? Number.NaN : median(seen.map((s) => s.survivedBytes)) / 1024,
    perCallKb: survived / 1024 / calls,
    failed: outcome.failed
  }
}

const { values } = parseArgs({ options: { calls: { type: "string", default: "1500" } } })
const calls = Number(values.calls)
const flags = ["--trace-gc-nvp"]
const upstream = await startScript("gateway/upstream.ts", [], 0)
const rows = [
  await measure("plain `node:http` proxy", await startScript("gateway/proxy.ts", [upstream.url], 1, flags), "/v1/chat/completions", calls),
  await measure("the same through undici", await startScript("gateway/proxy.ts", [upstream.url, "undici"], 1, flags), "/v1/chat/completions", calls),
  await measure("the same in one Effect fiber per request", await startScript("gateway/proxy.ts", [upstream.url, "effect"], 1, flags), "/v1/chat/completions", calls),
  await measure(
    "the same, V8 without allocation-site pretenuring (as the gateway runs)",
    await startScript("gateway/proxy.ts", [upstream.url, "effect"], 1, [...flags, "--no-allocation-site-pretenuring"]),
    "/v1/chat/completions",
    calls
  ),
  await measure("gateway, untraced", await startGateway(upstream.url, false, flags), "/gateway/openai/v1/chat/completions", calls),
  await measure("gateway, traced", await startGateway(upstream.url, true, flags), "/gateway/openai/v1/chat/completions", calls)
]
upstream.child.kill("SIGTERM")

const fmt = (x: number, digits = 1) => (Number.isNaN(x) ? "–" : x.toFixed(digits))
console.log(`\n## gateway: scavenges at a steady 50 req/s, ${calls} calls per server (${loadLine()})`)
console.log("| server | scavenges | pause median / max (ms) | survived per scavenge (KB) | survived per call (KB) | failed |")
console.log("| --- | ---: | ---: | ---: | ---: | ---: |")
for (const r of rows) {
  console.log(`| ${r.name} | ${r.scavenges} | ${fmt(r.pauseMs)} / ${fmt(r.maxPauseMs)} | ${fmt(r.survivedKb, 0)} | ${fmt(r.perCallKb, 2)} | ${r.failed} |`)
}
process.exit(0)
