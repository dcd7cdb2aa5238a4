/**
 * A CPU profile of the gateway under load: `npx tsx bench/gateway/profile.ts [traced|untraced] [seconds] [dir]`.
 * Starts the upstream and the gateway (with `--cpu-prof`), drives 16 concurrent 20-event streamed calls for the
 * given seconds after a warm-up, stops the gateway (the profile is written on exit) and prints the heaviest
 * functions by self time, then by file.
 */
import { once } from "node:events"
import { readdirSync, readFileSync, statSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { body, expected, startGateway, startScript } from "../gateway.bench.js"
import { closedLoop, keepAliveAgent, post } from "./load.js"

interface ProfileNode {
  readonly id: number
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number }
}

const [mode = "traced", secondsArg = "10", dir = join(tmpdir(), "effect-llm-trace-profile")] = process.argv.slice(2)

const upstream = await startScript("gateway/upstream.ts", [], undefined)
const gateway = await startGateway(upstream.url, mode === "traced", ["--cpu-prof", `--cpu-prof-dir=${dir}`])
const agent = keepAliveAgent()
const url = new URL(`${gateway.url}/gateway/openai/v1/chat/completions`)
const call = () => post(agent, url, body(false), expected)
await closedLoop(16, 3, call)
const outcome = await closedLoop(16, Number(secondsArg), call)
agent.destroy()
gateway.child.kill("SIGTERM")
upstream.child.kill("SIGTERM")
await once(gateway.child, "exit")
console.log(`${outcome.latencies.length} calls, ${outcome.failed} failed`)

// The gateway's main thread: the largest profile it wrote (tsx's loader thread writes a small one too).
const written = readdirSync(dir).filter((f) => f.includes(`.${gateway.child.pid}.`) && f.endsWith(".cpuprofile"))
const newest = written.map((f) => join(dir, f)).sort((a, b) => statSync(b).size - statSync(a).size)[0]!
const profile = JSON.parse(readFileSync(newest, "utf8")) as {
  readonly nodes: ReadonlyArray<ProfileNode>
  readonly samples: ReadonlyArray<number>
  readonly timeDeltas: ReadonlyArray<number>
}
const byId = new Map(profile.nodes.map((n) => [n.id, n]))
const selfByFunction = new Map<string, number>()
const selfByFile = new Map<string, number>()
let total = 0
profile.samples.forEach((id, i) => {
  const dt = profile.timeDeltas[i] ?? 0
  const { functionName, url: file, lineNumber } = byId.get(id)!.callFrame
  const short = file.replace(/^.*node_modules\//, "").replace(/^.*wt-[^/]+\//, "")
  const key = `${functionName || "(anonymous)"} ${short}:${lineNumber + 1}`
  selfByFunction.set(key, (selfByFunction.get(key) ?? 0) + dt)
  const pkg = short.startsWith("@") || !short.includes("/") ? short.split("/").slice(0, 2).join("/") : short
  selfByFile.set(pkg, (selfByFile.get(pkg) ?? 0) + dt)
  total += dt
})
const top = (m: Map<string, number>, n: number) =>
  [...m].sort((a, b) => b[1] - a[1]).slice(0, n).map(([k, t]) => `${((100 * t) / total).toFixed(1).padStart(5)} % ${k}`).join("\n")
console.log(`profile: ${newest}\n\nself time by function:\n${top(selfByFunction, 30)}\n\nby file:\n${top(selfByFile, 25)}`)
process.exit(0)
