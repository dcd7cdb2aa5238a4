// A/B of server CPU per request for gateway variants, each in its own process, interleaved.
import { once } from "node:events"
import { writeFileSync } from "node:fs"
import { body, expected, startScript } from "./gateway.bench.js"
import { closedLoop, keepAliveAgent, post } from "./gateway/load.js"
import { spawn } from "node:child_process"
const upstream = await startScript("gateway/upstream.ts", [], undefined)
const variants: Record<string, object> = {
  sqlite: { tracing: { store: { path: "/tmp/an/ab.db" } } },
  memory: { tracing: { store: { path: ":memory:" } } },
  "sqlite-nometrics": { tracing: { store: { path: "/tmp/an/ab2.db" } }, metrics: { enabled: false } },
  untraced: { untraced: true }
}
const results: Record<string, Array<number>> = {}
for (let round = 0; round < 3; round++) for (const [name, v] of Object.entries(variants)) {
  const { untraced, ...extra } = v as { untraced?: boolean }
  const port = 20000 + Math.floor(Math.random() * 20000)
  writeFileSync("/tmp/an/ab.json", JSON.stringify({ server: { host: "127.0.0.1", port }, ...extra, endpoints: [{ name: "bench", usageTracking: !untraced, provider: { kind: "openai", model: "gpt-bench", baseUrl: `${upstream.url}/v1`, apiKeyEnv: "BENCH_API_KEY" } }] }))
  for (const f of ["/tmp/an/ab.db", "/tmp/an/ab2.db"]) for (const s of ["", "-wal", "-shm"]) try { (await import("node:fs")).rmSync(f + s) } catch {}
  const child = spawn("taskset", ["-c", "1", process.execPath, "--expose-gc", "--import", "tsx", "bench/gateway/gatewayServer.ts", "--config", "/tmp/an/ab.json"], { env: { ...process.env, BENCH_API_KEY: "x" }, stdio: ["ignore", "ignore", "inherit", "ipc"] })
  const url = new URL(`http://127.0.0.1:${port}/gateway/openai/v1/chat/completions`)
  for (let i = 0; i < 200; i++) { if (await fetch(`http://127.0.0.1:${port}/api/traces?limit=1`).then((r) => r.ok, () => false)) break; await new Promise((r) => setTimeout(r, 50)) }
  const agent = keepAliveAgent()
  const call = () => post(agent, url, body(false), expected)
  const cpu = async () => { const r = once(child, "message"); child.send("cpu"); return ((await r)[0] as { cpuUs: number }).cpuUs }
  await closedLoop(16, 2, call)
  const c0 = await cpu()
  const out = await closedLoop(16, 4, call)
  const c1 = await cpu()
  ;(results[name] ??= []).push((c1 - c0) / 1000 / out.latencies.length)
  agent.destroy(); child.kill(); await once(child, "exit")
}
for (const [k, v] of Object.entries(results)) console.log(k.padEnd(18), v.map((x) => x.toFixed(3)).join(" "), "ms/req")
upstream.child.kill(); process.exit(0)
