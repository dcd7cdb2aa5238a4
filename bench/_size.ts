import { body, expected, startGateway, startScript } from "./gateway.bench.js"
import { keepAliveAgent, post } from "./gateway/load.js"
const upstream = await startScript("gateway/upstream.ts", [], undefined)
const gw = await startGateway(upstream.url, true)
const agent = keepAliveAgent()
const url = new URL(`${gw.url}/gateway/openai/v1/chat/completions`)
await post(agent, url, body(false), expected)
await new Promise((r) => setTimeout(r, 300))
const list = await (await fetch(`${gw.url}/api/traces?limit=1`)).json() as { traces: Array<{ traceId: string }> }
const trace = await (await fetch(`${gw.url}/api/traces/${list.traces[0]!.traceId}`)).json() as { spans: Array<unknown> }
for (const s of trace.spans) console.log(JSON.stringify(s).length, JSON.stringify(s).slice(0, 3000))
gw.child.kill(); upstream.child.kill(); process.exit(0)
