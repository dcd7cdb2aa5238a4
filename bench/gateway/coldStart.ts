/**
 * What a user meets first: a fresh gateway process (`node dist/gateway/cli.js`, as `npx effect-llm-trace` runs it,
 * without tsx, free to use every core: the bench pins itself and its other children to one), traced, with a new
 * store. Per process: ms from spawn until it accepts a TCP connection (probed every 5 ms; an HTTP probe would warm
 * the server's request path before the first call), then its first streamed chat call — the process's first HTTP
 * request — against the median of its next 20. The floor beside it: a bare `node -e 0` (spawn to exit) in the
 * same run.
 */
import { spawn } from "node:child_process"
import { once } from "node:events"
import { connect } from "node:net"
import { availableParallelism } from "node:os"
import { join } from "node:path"
import { benchEnv, body, expected, freePort, onCores, removeStore, writeConfig } from "../gateway.bench.js"
import { median } from "../support.js"
import { keepAliveAgent, post } from "./load.js"

const cli = join(import.meta.dirname, "..", "..", "dist", "gateway", "cli.js")

/** One fresh process's figures, in ms. */
export interface Cold {
  readonly nodeMs: number
  /** Spawn until the gateway accepts a connection (it listens once every layer is built). */
  readonly readyMs: number
  readonly firstCallMs: number
  readonly nextCallMs: number
}

/** `node …args` on every core (a child inherits the bench's own pinning otherwise). */
const unpinned = (args: ReadonlyArray<string>): [string, Array<string>] =>
  onCores(`0-${availableParallelism() - 1}`, [process.execPath, ...args])

const bareNode = async (): Promise<number> => {
  const start = performance.now()
  const child = spawn(...unpinned(["-e", "0"]), { stdio: "ignore" })
  await once(child, "exit")
  return performance.now() - start
}

/** Whether the port accepts a connection (closed at once, no request sent). */
const accepts = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port })
    socket.once("connect", () => {
      socket.destroy()
      resolve(true)
    })
    socket.once("error", () => resolve(false))
  })

const fresh = async (upstream: string): Promise<Omit<Cold, "nodeMs">> => {
  const port = await freePort()
  const { config, store } = writeConfig(upstream, true, port)
  const base = `http://127.0.0.1:${port}`
  const start = performance.now()
  const child = spawn(...unpinned([cli, "--config", config]), { env: benchEnv, stdio: ["ignore", "ignore", "inherit"] })
  try {
    while (!(await accepts(port))) {
      if (child.exitCode !== null) throw new Error(`the gateway exited: ${child.exitCode}`)
      if (performance.now() - start > 30_000) throw new Error("the gateway did not start in 30 s")
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
    const readyMs = performance.now() - start
    const agent = keepAliveAgent()
    const url = new URL(`${base}/gateway/openai/v1/chat/completions`)
    const calls = []
    for (let i = 0; i < 21; i++) calls.push(await post(agent, url, body(false), expected))
    agent.destroy()
    if (calls.some((c) => !c.exact)) throw new Error("a cold-start call was not answered exactly")
    return { readyMs, firstCallMs: calls[0]!.ms, nextCallMs: median(calls.slice(1).map((c) => c.ms)) }
  } finally {
    child.kill("SIGTERM")
    if (child.exitCode === null) await once(child, "exit")
    removeStore(store)
  }
}

/** `runs` fresh processes, one after another. */
export const measure = async (upstream: string, runs: number): Promise<Array<Cold>> => {
  const out: Array<Cold> = []
  for (let i = 0; i < runs; i++) out.push({ nodeMs: await bareNode(), ...(await fresh(upstream)) })
  return out
}
