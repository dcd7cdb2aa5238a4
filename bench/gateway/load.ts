/**
 * The benchmark's client side: streamed chat calls over keep-alive sockets, each answer compared byte for byte
 * with what the upstream sent; closed-loop load at a fixed concurrency, open-loop load at a fixed rate, and
 * streams held open.
 */
import { Agent, request } from "node:http"

/** One finished call: latency to the end of its stream, and whether it returned exactly the expected bytes. */
export interface Call {
  readonly ms: number
  readonly exact: boolean
}

/** POSTs `body` and streams the answer, comparing it slice by slice with `expected` (nothing is kept). */
export const post = (
  agent: Agent,
  url: URL,
  body: string,
  expected: Buffer,
  onFirstByte?: () => void
): Promise<Call> =>
  new Promise((resolve) => {
    const start = performance.now()
    const failed = () => resolve({ ms: performance.now() - start, exact: false })
    const req = request(url, { method: "POST", agent, headers: { "content-type": "application/json" } }, (res) => {
      let offset = 0
      let exact = res.statusCode === 200
      res.on("data", (chunk: Buffer) => {
        if (offset === 0) onFirstByte?.()
        if (exact && !chunk.equals(expected.subarray(offset, offset + chunk.length))) exact = false
        offset += chunk.length
      })
      res.on("end", () => resolve({ ms: performance.now() - start, exact: exact && offset === expected.length }))
      res.on("error", failed)
    })
    req.on("error", failed)
    req.end(body)
  })

/** What a run of calls gave: latencies of the exact ones, and how many were not exact (failed or altered). */
export interface Outcome {
  readonly latencies: Array<number>
  failed: number
}

const record = (outcome: Outcome, call: Call): void => {
  if (call.exact) outcome.latencies.push(call.ms)
  else outcome.failed++
}

/** `concurrency` callers, each calling again as soon as its call ends, for `seconds`. */
export const closedLoop = async (
  concurrency: number,
  seconds: number,
  call: () => Promise<Call>
): Promise<Outcome> => {
  const outcome: Outcome = { latencies: [], failed: 0 }
  const end = performance.now() + seconds * 1000
  const caller = async () => {
    while (performance.now() < end) record(outcome, await call())
  }
  await Promise.all(Array.from({ length: concurrency }, caller))
  return outcome
}

/** `count` calls started `1000 / rate` ms apart whatever the previous ones do (latency from each call's start). */
export const openLoop = async (rate: number, count: number, call: () => Promise<Call>): Promise<Outcome> => {
  const outcome: Outcome = { latencies: [], failed: 0 }
  const start = performance.now()
  const calls: Array<Promise<void>> = []
  for (let i = 0; i < count; i++) {
    const due = start + (i * 1000) / rate
    const wait = due - performance.now()
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait))
    calls.push(call().then((c) => record(outcome, c)))
  }
  await Promise.all(calls)
  return outcome
}

/** A keep-alive agent with no socket limit, as a client pool would use. */
export const keepAliveAgent = (): Agent => new Agent({ keepAlive: true, maxSockets: Number.POSITIVE_INFINITY })
