/**
 * `npm run screenshots`: the README's pictures of the web viewer. Starts the real gateway on an ephemeral port of
 * 127.0.0.1 (echo endpoints, one failing upstream), makes the test scenario's calls through the official SDKs,
 * then writes `docs/viewer-list.png`, `docs/viewer-trace.png` and `docs/viewer-usage.png` from a headless
 * Chromium (`command -v chromium`). `--rounds N --every S`: the scenario N times, S seconds apart (default 2, 1),
 * so that the usage chart has bars over time (e.g. `--rounds 6 --every 60` for six minutes).
 */
import * as HttpServer from "@effect/platform/HttpServer"
import { Context, Effect, Layer, Logger, LogLevel, Schema } from "effect"
import { mkdirSync, mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { parseArgs } from "node:util"
import * as GatewayConfig from "../src/gateway/GatewayConfig.js"
import * as Server from "../src/gateway/Server.js"
import * as Upstreams from "../test/support/upstreams.js"
import * as Scenario from "../test/support/viewer.js"

const { values } = parseArgs({ options: { rounds: { type: "string" }, every: { type: "string" } } })
const rounds = Math.max(1, Number(values.rounds ?? 2))
const everySeconds = Math.max(0, Number(values.every ?? 1))

const docs = fileURLToPath(new URL("./", import.meta.url))

interface Listed {
  readonly traceId: string
  readonly endpoint: string | null
  readonly streamed: boolean
  readonly kind: string
}

const program = Effect.gen(function*() {
  const executablePath = Scenario.chromiumPath
  if (executablePath === undefined) return yield* Effect.dieMessage("chromium not found (command -v chromium)")
  const upstream = yield* Upstreams.start(Scenario.upstreamReplies)
  // The product's store, a SQLite file, in a temp dir (never the working directory's default store).
  const store = join(mkdtempSync(join(tmpdir(), "viewer-shots-")), "traces.db")
  const config = Schema.decodeUnknownSync(GatewayConfig.Config)({ endpoints: Scenario.endpoints(upstream), server: { port: 0 }, tracing: { store: { path: store } } })
  const context = yield* Layer.build(Server.layer(config))
  const address = Context.get(context, HttpServer.HttpServer).address
  if (address._tag !== "TcpAddress") return yield* Effect.dieMessage("expected a TCP address")
  const url = `http://${address.hostname}:${address.port}`
  for (let round = 0; round < rounds; round++) {
    if (round > 0) yield* Effect.sleep(`${everySeconds} seconds`)
    yield* Scenario.makeCalls(url)
  }
  const traces = yield* Effect.promise(async () => {
    for (let i = 0; i < 100; i++) {
      const body = (await fetch(`${url}/api/traces?kind=gateway&limit=100`).then((r) => r.json())) as { readonly traces: ReadonlyArray<Listed> }
      if (body.traces.length >= 7 * rounds) return body.traces
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    throw new Error("the scenario's traces were not stored within 10 s")
  })
  const streamed = traces.find((t) => t.endpoint === "support-bot" && t.streamed)
  if (streamed === undefined) return yield* Effect.dieMessage("no streamed support-bot trace")
  mkdirSync(docs, { recursive: true })
  yield* Effect.promise(async () => {
    const browser = await Scenario.launch(executablePath)
    try {
      const page = await browser.newPage({ viewport: { width: 1360, height: 760 }, colorScheme: "light" })
      await page.goto(`${url}/`)
      await page.locator("tr.trace-row").nth(traces.length - 1).waitFor()
      await page.screenshot({ path: `${docs}viewer-list.png` })
      await page.goto(`${url}/traces/${streamed.traceId}`)
      // The gateway span (selected first): its inputs and outputs as chat messages.
      await page.locator(".span-row").nth(1).waitFor()
      await page.screenshot({ path: `${docs}viewer-trace.png`, fullPage: true, clip: { x: 0, y: 0, width: 1360, height: 1100 } })
      await page.goto(`${url}/usage?range=${rounds * everySeconds > 600 ? "1h" : "15m"}`)
      await page.locator("svg[data-chart=calls]").waitFor()
      await page.screenshot({ path: `${docs}viewer-usage.png`, fullPage: true })
    } finally {
      await browser.close()
    }
  })
  yield* Effect.sync(() => console.log(`wrote ${docs}viewer-{list,trace,usage}.png`))
})

Effect.runPromise(Effect.scoped(program).pipe(Logger.withMinimumLogLevel(LogLevel.Error))).catch((error: unknown) => {
  console.error(error)
  process.exitCode = 1
})
