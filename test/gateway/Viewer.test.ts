/**
 * The web viewer, in a real headless Chromium (Debian's `chromium` through `playwright-core`) against the real
 * gateway and its real trace API: calls through the official SDKs, then the pages as a user sees them. Where no
 * Chromium exists, the browser suite is not registered and says so; the HTTP checks run everywhere.
 */
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServer from "@effect/platform/HttpServer"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import { afterAll, assert, beforeAll, describe, expect, it } from "@effect/vitest"
import { Context, Effect, Layer, type Scope } from "effect"
import { createServer } from "node:http"
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import type { Browser, Page } from "playwright-core"
import * as Echo from "../../src/gateway/Echo.js"
import * as Viewer from "../../src/gateway/Viewer.js"
import * as Attributes from "../../src/tracing/Attributes.js"
import type { StoredSpan } from "../../src/tracing/TraceStore.js"
import { eventually, type Harness, rawExchange, withGateway } from "../support/gateway.js"
import * as Scenario from "../support/viewer.js"

/** The API's summary of a trace (the viewer's source), as far as these tests read it. */
interface Summary {
  readonly traceId: string
  readonly kind: "gateway" | "replay"
  readonly endpoint: string | null
  readonly status: "ok" | "error" | "unset"
  readonly statusCode: number | null
  readonly models: ReadonlyArray<string>
  readonly streamed: boolean
  readonly tokens: { readonly input: number; readonly output: number }
  readonly spanCount: number
}
interface TraceBody {
  readonly traceId: string
  readonly spans: ReadonlyArray<StoredSpan>
}
interface UsageBody {
  readonly groups: ReadonlyArray<{ readonly key: string; readonly calls: number; readonly errors: number; readonly tokens: { readonly input: number; readonly output: number } }>
}

const list = (h: Harness, query = "") =>
  Effect.map(h.get<{ readonly traces: ReadonlyArray<Summary> }>(`/api/traces?limit=100${query}`), (r) => r.body.traces)

/** Waits until the API lists every gateway call of the scenario (traces are written off the request path). */
const stored = (h: Harness, calls: Scenario.Calls) =>
  eventually(Effect.map(list(h, "&kind=gateway"), (traces) =>
    Object.entries(calls.byEndpoint).every(([endpoint, n]) => traces.filter((t) => t.endpoint === endpoint).length === n) &&
    traces.filter((t) => t.status === "error").length >= calls.failed))

// The product's store (a SQLite file, here in a fresh temp dir); a few chunk events per streamed span, so that the
// span details show events.
const storeDirs: Array<string> = []
const config = (up: Parameters<typeof Scenario.endpoints>[0]) => {
  const dir = mkdtempSync(join(tmpdir(), "viewer-store-"))
  storeDirs.push(dir)
  return { endpoints: Scenario.endpoints(up), tracing: { maxChunkEvents: 3, store: { path: join(dir, "traces.db") } } }
}
afterAll(() => {
  for (const dir of storeDirs) rmSync(dir, { recursive: true, force: true })
})

/** A gateway with the scenario's calls made and stored, for `test`. */
const withScenario = <A, E>(test: (h: Harness, calls: Scenario.Calls) => Effect.Effect<A, E, Scope.Scope>) =>
  withGateway(config, (h) =>
    Effect.scoped(Effect.gen(function*() {
      const calls = yield* Scenario.makeCalls(h.url)
      yield* stored(h, calls)
      return yield* test(h, calls)
    })), Scenario.upstreamReplies)

const port = (url: string) => Number(new URL(url).port)

// HTTP: what the gateway serves (no browser needed) ----------------------------------------------------------

describe("Viewer: routes", () => {
  it.live("pages, script and stylesheet with their content types, the CSP and nosniff; behind the gateway's Host guard", () =>
    withGateway(config, (h) =>
      Effect.gen(function*() {
        const expected: ReadonlyArray<readonly [string, string]> = [
          ["/", "text/html"],
          ["/traces/0123456789abcdef0123456789abcdef", "text/html"],
          ["/usage", "text/html"],
          ["/viewer/app.js", "text/javascript"],
          ["/viewer/style.css", "text/css"]
        ]
        for (const [path, type] of expected) {
          const response = yield* Effect.promise(() => fetch(h.url + path))
          const text = yield* Effect.promise(() => response.text())
          expect(response.status, path).toBe(200)
          expect(response.headers.get("content-type"), path).toBe(`${type}; charset=utf-8`)
          expect(response.headers.get("content-security-policy"), path).toBe(Viewer.contentSecurityPolicy)
          expect(response.headers.get("x-content-type-options"), path).toBe("nosniff")
          expect(text.length, path).toBeGreaterThan(100)
        }
        // The trace id in the URL is never written into the page: the shell is the same for any id.
        const hostile = yield* Effect.promise(() => fetch(`${h.url}/traces/%3Cscript%3Ealert(1)%3C%2Fscript%3E`).then((r) => r.text()))
        const plain = yield* Effect.promise(() => fetch(`${h.url}/traces/x`).then((r) => r.text()))
        expect(hostile).toBe(plain)
        // The same guard as the API: a page from another Host name (DNS rebinding) gets nothing.
        const rebound = yield* rawExchange(port(h.url), "GET / HTTP/1.1\r\nhost: evil.example\r\nconnection: close\r\n\r\n")
        expect(rebound.text).toMatch(/^HTTP\/1\.1 421 /)
        const missing = yield* Effect.promise(() => fetch(`${h.url}/viewer/nothing.js`))
        expect(missing.status).toBe(404)
        expect(missing.headers.get("content-type")).toContain("application/json")
      }), Scenario.upstreamReplies))
})

describe("Viewer: mounted in your own server", () => {
  it.live("under a prefix, beside your routes: the prefix redirects to its slash form, and the page's relative links resolve there", () =>
    Effect.scoped(Effect.gen(function*() {
      const mine = HttpRouter.empty.pipe(
        HttpRouter.get("/hello", HttpServerResponse.text("mine")),
        HttpRouter.mount("/llm", Viewer.router)
      )
      const context = yield* Layer.build(HttpServer.serve(mine).pipe(Layer.provideMerge(NodeHttpServer.layer(createServer, { port: 0, host: "127.0.0.1" }))))
      const address = Context.get(context, HttpServer.HttpServer).address
      assert(address._tag === "TcpAddress")
      const base = `http://127.0.0.1:${address.port}`
      const get = (path: string) => Effect.promise(() => fetch(base + path, { redirect: "manual" }))
      expect(yield* Effect.promise(() => fetch(`${base}/hello`).then((r) => r.text()))).toBe("mine")
      const bare = yield* get("/llm?status=error")
      expect(bare.status).toBe(308)
      expect(bare.headers.get("location")).toBe("./llm/?status=error")
      const page = yield* get("/llm/")
      expect(page.status).toBe(200)
      const html = yield* Effect.promise(() => page.text())
      const links = [...html.matchAll(/(?:href|src)="([^"]+)"/g)].map((m) => m[1]!).filter((l) => !l.startsWith("data:"))
      expect(links.length).toBeGreaterThanOrEqual(4)
      for (const link of links.filter((l) => !l.includes("api/"))) {
        const resolved = new URL(link, `${base}/llm/`)
        expect(resolved.pathname.startsWith("/llm/"), link).toBe(true)
        expect((yield* get(resolved.pathname)).status, link).toBe(200)
      }
      // A trace page is one level down: its links climb back to the prefix.
      const trace = yield* Effect.promise(() => fetch(`${base}/llm/traces/abc`).then((r) => r.text()))
      const up = [...trace.matchAll(/(?:href|src)="(\.\.\/[^"]*)"/g)].map((m) => m[1]!)
      expect(up.length).toBeGreaterThanOrEqual(4)
      for (const link of up) expect(new URL(link, `${base}/llm/traces/abc`).pathname.startsWith("/llm/"), link).toBe(true)
    })))
})

// The browser ------------------------------------------------------------------------------------------------

/** Polls `check` in the test (the page's CSP forbids string evaluation there) every 50 ms, up to `ms`. */
const until = async (what: string, check: () => Promise<boolean>, ms = 15_000): Promise<void> => {
  const deadline = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not reached within ${ms} ms: ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

/** A PNG: its signature and more than a header's worth of bytes. */
const expectPng = (path: string) => {
  const bytes = readFileSync(path)
  expect(bytes.subarray(0, 8).toString("hex")).toBe("89504e470d0a1a0a")
  expect(statSync(path).size).toBeGreaterThan(5_000)
}

Scenario.withChromium("Viewer in Chromium", (executablePath) => {
  describe("Viewer in a headless Chromium, against the real gateway", () => {
    let browser: Browser
    const shots = mkdtempSync(join(tmpdir(), "viewer-shots-"))
    beforeAll(async () => {
      browser = await Scenario.launch(executablePath)
    })
    afterAll(async () => {
      await browser?.close()
      rmSync(shots, { recursive: true, force: true })
    })

    /** A page that fails the test on any script error or console error (a CSP violation is one). */
    const open = (allowed: RegExp | undefined = undefined) =>
      Effect.acquireRelease(
        Effect.promise(async () => {
          const page = await browser.newPage({ viewport: { width: 1280, height: 800 } })
          const problems: Array<string> = []
          page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`))
          page.on("console", (m) => {
            if (m.type() === "error" && (allowed === undefined || !allowed.test(m.text()))) problems.push(`console: ${m.text()}`)
          })
          return { page, problems }
        }),
        ({ page }) => Effect.promise(() => page.close())
      )

    const rows = (page: Page) => page.locator("tr.trace-row")
    const cellOf = (page: Page, traceId: string, cls: string) => page.locator(`tr[data-trace-id="${traceId}"] td.${cls}`).innerText()

    it.live("the list shows the calls just made with their summaries, and filters by status, endpoint and model", () =>
      withScenario((h, calls) =>
        Effect.gen(function*() {
          const all = yield* list(h)
          const { page, problems } = yield* open()
          yield* Effect.promise(async () => {
            await page.goto(`${h.url}/`)
            await until("every trace listed", async () => (await rows(page).count()) >= all.length)
            expect(await rows(page).count()).toBe(all.length)
            // Every row says what the API says, newest first.
            expect(await rows(page).evaluateAll((trs) => trs.map((tr) => tr.getAttribute("data-trace-id")))).toEqual(all.map((t) => t.traceId))
            for (const t of all) {
              const tr = page.locator(`tr[data-trace-id="${t.traceId}"]`)
              expect(await tr.getAttribute("data-status")).toBe(t.status)
              expect(await tr.getAttribute("data-kind")).toBe(t.kind)
              expect(await cellOf(page, t.traceId, "tokens-in")).toBe(t.tokens.input.toLocaleString("en-US"))
              expect(await cellOf(page, t.traceId, "tokens-out")).toBe(t.tokens.output.toLocaleString("en-US"))
              expect(await cellOf(page, t.traceId, "model")).toBe(t.models.length === 0 ? "–" : t.models.join(", "))
            }
            // The streamed support call: echo's honest token counts, the stream tag and a TTFT.
            const system = "You are a helpful support agent."
            const user = "My order #1042 has not arrived yet, can you check it?"
            const streamed = all.find((t) => t.endpoint === "support-bot" && t.streamed && t.kind === "gateway")!
            expect(await cellOf(page, streamed.traceId, "tokens-in")).toBe(String(Echo.countTokens(system) + Echo.countTokens(user)))
            expect(await cellOf(page, streamed.traceId, "tokens-out")).toBe(String(Echo.countTokens(user)))
            expect(await cellOf(page, streamed.traceId, "endpoint")).toContain("stream")
            expect(await cellOf(page, streamed.traceId, "ttft")).toMatch(/\d+(\.\d+)? ms$/)
            expect(await cellOf(page, streamed.traceId, "model")).toBe("gpt-4o-mini")
            const limited = all.find((t) => t.endpoint === "rate-limited")!
            expect(await cellOf(page, limited.traceId, "status")).toContain("429")
            await page.screenshot({ path: join(shots, "list.png"), fullPage: true })
          })
          const errors = yield* list(h, "&status=error")
          const summarizer = yield* list(h, "&endpoint=summarizer")
          const gemini = yield* list(h, "&model=gemini-2.5-flash")
          expect(errors.length).toBeGreaterThanOrEqual(calls.failed)
          expect(summarizer.length).toBe(1)
          yield* Effect.promise(async () => {
            const ids = () => rows(page).evaluateAll((trs) => trs.map((tr) => tr.getAttribute("data-trace-id")))
            const settled = (expected: ReadonlyArray<string>) =>
              until(`rows ${expected.join(",")}`, async () => JSON.stringify(await ids()) === JSON.stringify(expected))
            await page.selectOption("select[name=status]", "error")
            await settled(errors.map((t) => t.traceId))
            expect(await rows(page).evaluateAll((trs) => trs.every((tr) => tr.getAttribute("data-status") === "error"))).toBe(true)
            expect(new URL(page.url()).searchParams.get("status")).toBe("error")
            await page.selectOption("select[name=status]", "")
            await page.fill("input[name=endpoint]", "summarizer")
            await settled(summarizer.map((t) => t.traceId))
            await page.fill("input[name=endpoint]", "")
            await page.fill("input[name=model]", "gemini-2.5-flash")
            await settled(gemini.map((t) => t.traceId))
            expect((await ids()).length).toBe(gemini.length)
            // The filters live in the URL: a reload keeps them.
            await page.reload()
            await settled(gemini.map((t) => t.traceId))
            expect(await page.inputValue("input[name=model]")).toBe("gemini-2.5-flash")
          })
          expect(problems).toEqual([])
          expectPng(join(shots, "list.png"))
        })))

    it.live("new calls appear without a reload (auto-refresh), marked as new", () =>
      withScenario((h) =>
        Effect.gen(function*() {
          const before = yield* list(h)
          const { page, problems } = yield* open()
          yield* Effect.promise(async () => {
            await page.goto(`${h.url}/`)
            await until("every trace listed", async () => (await rows(page).count()) === before.length)
          })
          yield* Effect.promise(() =>
            fetch(`${h.url}/gateway/anthropic/v1/messages`, {
              method: "POST",
              headers: { "content-type": "application/json" },
              body: JSON.stringify({ model: "summarizer", max_tokens: 10, messages: [{ role: "user", content: "one more call" }] })
            }).then((r) => r.text())
          )
          yield* Effect.promise(async () => {
            await until("the new call listed", async () => (await rows(page).count()) === before.length + 1)
            const fresh = page.locator("tr.trace-row.fresh")
            expect(await fresh.count()).toBe(1)
            expect(await fresh.locator("td.endpoint").innerText()).toContain("summarizer")
            // The newest is on top.
            expect(await rows(page).first().getAttribute("data-trace-id")).toBe(await fresh.getAttribute("data-trace-id"))
          })
          expect(problems).toEqual([])
        })))

    it.live("from an empty list, a burst larger than a page arrives by refresh, and the older traces load by cursor", () =>
      withGateway(config, (h) =>
        Effect.scoped(Effect.gen(function*() {
          const { page, problems } = yield* open()
          yield* Effect.promise(async () => {
            await page.goto(`${h.url}/`)
            await page.locator("tr.empty").waitFor()
            // Paused while the burst is stored, so that the next refresh sees all of it at once.
            await page.uncheck("input[name=auto]")
          })
          const burst = 57
          yield* Effect.forEach(Array.from({ length: burst }, (_, i) => i), (i) =>
            Effect.promise(() =>
              fetch(`${h.url}/gateway/openai/v1/chat/completions`, {
                method: "POST",
                headers: { "content-type": "application/json" },
                body: JSON.stringify({ model: "summarizer", messages: [{ role: "user", content: `call number ${i}` }] })
              }).then((r) => r.text())
            ), { concurrency: 8 })
          yield* eventually(Effect.map(list(h, "&endpoint=summarizer"), (t) => t.length === burst))
          yield* Effect.promise(async () => {
            // The first page (50) arrives by refresh, with the way to the rest (no gap between them).
            await page.check("input[name=auto]")
            await until("a page by refresh", async () => (await rows(page).count()) === 50 && await page.locator("button.more").isVisible())
            await page.click("button.more")
            await until("every trace after Load older", async () => (await rows(page).count()) === burst)
            const ids = await rows(page).evaluateAll((trs) => trs.map((tr) => tr.getAttribute("data-trace-id")))
            expect(new Set(ids).size).toBe(burst)
            expect(await page.locator("button.more").isVisible()).toBe(false)
          })
          expect(problems).toEqual([])
        })), Scenario.upstreamReplies))

    it.live("a trace: waterfall rows nested by parent with status colours and the TTFT marker; span details with usage and messages; untrusted text stays text", () =>
      withScenario((h) =>
        Effect.gen(function*() {
          const all = yield* list(h, "&kind=gateway")
          const streamed = all.find((t) => t.endpoint === "support-bot" && t.streamed)!
          const hostile = all.find((t) => t.endpoint === "support-bot" && !t.streamed)!
          const failed = all.find((t) => t.endpoint === "rate-limited")!
          const trace = (yield* h.get<TraceBody>(`/api/traces/${streamed.traceId}`)).body
          const { page, problems } = yield* open()
          yield* Effect.promise(async () => {
            await page.goto(`${h.url}/`)
            // Anywhere on the row opens the trace.
            await page.click(`tr[data-trace-id="${streamed.traceId}"] td.model`)
            await page.waitForURL(`**/traces/${streamed.traceId}`)
            await page.locator(".span-row").first().waitFor()
            const spanRows = page.locator(".span-row")
            expect(await spanRows.count()).toBe(trace.spans.length)
            const gateway = trace.spans.find((s) => s.parentSpanId === null)!
            const provider = trace.spans.find((s) => s.parentSpanId === gateway.spanId && s.name.startsWith("provider/"))!
            const row = (s: StoredSpan) => page.locator(`.span-row[data-span-id="${s.spanId}"]`)
            expect(await row(gateway).getAttribute("data-depth")).toBe("0")
            expect(await row(provider).getAttribute("data-depth")).toBe("1")
            expect(await row(gateway).locator(".bar").getAttribute("class")).toContain("bar-ok")
            // The first-chunk marker sits on the streamed provider span, inside its bar.
            expect(await row(provider).locator(".ttft-mark").count()).toBe(1)
            const bar = (await row(provider).locator(".bar").boundingBox())!
            const mark = (await row(provider).locator(".ttft-mark").boundingBox())!
            expect(mark.x).toBeGreaterThanOrEqual(bar.x - 1)
            expect(mark.x).toBeLessThanOrEqual(bar.x + bar.width + 1)
            await row(provider).click()
            const details = page.locator("section.details")
            expect(await details.locator("h2").innerText()).toContain(provider.name)
            const chunks = provider.events.filter((e) => e.name.startsWith("mlflow.chunk.item."))
            expect(chunks.length).toBe(3)
            expect(await details.locator(".events > ol > li").count()).toBe(provider.events.length)
            expect(await details.locator(".events .event-name").first().innerText()).toBe(provider.events[0]!.name)
            const usage = await details.locator(".usage-table").innerText()
            expect(usage).toContain(String(provider.attributes[Attributes.GenAiUsageInputTokens]))
            expect(usage).toContain(String(provider.attributes[Attributes.GenAiUsageOutputTokens]))
            // The gateway span's inputs as chat messages: system, then user.
            await row(gateway).click()
            const roles = await details.locator("[data-payload=inputs] .msg").evaluateAll((ms) => ms.map((m) => m.getAttribute("data-role")))
            expect(roles).toEqual(["system", "user"])
            expect(await details.locator("[data-payload=outputs] .msg .part").first().innerText()).toBe("My order #1042 has not arrived yet, can you check it?")
            await page.screenshot({ path: join(shots, "trace.png"), fullPage: true })

            // Attribute values are untrusted: markup in a prompt is shown, never run.
            await page.goto(`${h.url}/traces/${hostile.traceId}`)
            await page.locator(".span-row").first().click()
            const text = await page.locator("[data-payload=inputs] .msg[data-role=user] .part").innerText()
            expect(text).toBe(Scenario.hostileText)
            expect(await page.locator("main img, main script").count()).toBe(0)
            expect(await page.evaluate(() => "__pwned" in globalThis)).toBe(false)

            // A failed call: its rows are red.
            await page.goto(`${h.url}/traces/${failed.traceId}`)
            await page.locator(".span-row").first().waitFor()
            expect(await page.locator(".span-row").first().getAttribute("data-status")).toBe("error")
            expect(await page.locator(".span-row .bar-error").count()).toBeGreaterThan(0)
          })
          expect(problems).toEqual([])
          expectPng(join(shots, "trace.png"))
        })))

    it.live("a replayed copy in the caller's trace: its root's parent is the caller's span, and it links to the gateway trace", () =>
      withScenario((h) =>
        Effect.gen(function*() {
          yield* eventually(Effect.map(h.get(`/api/traces/${Scenario.callerTraceId}`), (r) => r.status === 200))
          const copy = (yield* h.get<TraceBody>(`/api/traces/${Scenario.callerTraceId}`)).body
          const linked = copy.spans.map((s) => s.attributes[Attributes.LinkedGatewayTraceId]).find((v) => typeof v === "string")
          const { page, problems } = yield* open()
          yield* Effect.promise(async () => {
            await page.goto(`${h.url}/?kind=replay`)
            await page.click(`tr[data-trace-id="${Scenario.callerTraceId}"] td.time a`)
            await page.locator(".span-row").first().waitFor()
            expect(await page.locator(".span-row").count()).toBe(copy.spans.length)
            expect(await page.locator(".span-row").first().getAttribute("data-depth")).toBe("0")
            expect(await page.locator("[data-fact=Kind]").innerText()).toBe("replay")
            await page.click("a.linked")
            await page.waitForURL(`**/traces/${String(linked)}`)
            await page.locator(".span-row").first().waitFor()
            expect(await page.locator("[data-fact=Kind]").innerText()).toBe("gateway")
          })
          expect(problems).toEqual([])
        })))

    it.live("an unknown trace id (markup in it too): the API's 404 message on the page, no script error; a malformed one: a JSON 404", () =>
      withGateway(config, (h) =>
        Effect.scoped(Effect.gen(function*() {
          const { page, problems } = yield* open(/status of 404/)
          yield* Effect.promise(async () => {
            for (const id of ["0123456789abcdef0123456789abcdef", "%3Cb%3Ebold%3C%2Fb%3E"]) {
              await page.goto(`${h.url}/traces/${id}`)
              await page.locator("p.error").waitFor()
              expect(await page.locator("p.error").innerText(), id).toMatch(/^Could not load: no trace /)
              expect(await page.locator("main b").count(), id).toBe(0)
            }
            // A malformed %-escape does not reach the page: the router answers its JSON 404.
            const malformed = await page.goto(`${h.url}/traces/%E0%A4%A`)
            expect(malformed?.status()).toBe(404)
            expect(malformed?.headers()["content-type"]).toContain("application/json")
          })
          expect(problems).toEqual([])
        })), Scenario.upstreamReplies))

    it.live("usage: calls, errors and tokens per endpoint and per model, as the API counts them, and the charts", () =>
      withScenario((h, calls) =>
        Effect.gen(function*() {
          const since = new Date(Date.now() - 3_600_000).toISOString()
          const byEndpoint = (yield* h.get<UsageBody>(`/api/usage?groupBy=endpoint&bucket=minute&since=${since}`)).body
          const byModel = (yield* h.get<UsageBody>(`/api/usage?groupBy=model&bucket=minute&since=${since}`)).body
          const { page, problems } = yield* open()
          yield* Effect.promise(async () => {
            await page.goto(`${h.url}/usage`)
            await page.locator("tr.usage-row").first().waitFor()
            for (const [endpoint, n] of Object.entries(calls.byEndpoint)) {
              expect(await page.locator(`tr.usage-row[data-key="${endpoint}"] td.calls`).innerText(), endpoint).toBe(String(n))
            }
            for (const g of byEndpoint.groups) {
              const tr = page.locator(`tr.usage-row[data-key="${g.key}"]`)
              expect(await tr.locator("td.calls").innerText()).toBe(g.calls.toLocaleString("en-US"))
              expect(await tr.locator("td.errors").innerText()).toBe(g.errors.toLocaleString("en-US"))
              expect(await tr.locator("td.tokens").innerText()).toBe((g.tokens.input + g.tokens.output).toLocaleString("en-US"))
            }
            expect(await page.locator(`tr.usage-row[data-key="rate-limited"] td.errors`).innerText()).toBe("1")
            // The charts: stacked bars whose values add up to the calls and tokens counted.
            const sum = (chart: string) =>
              page.locator(`svg[data-chart=${chart}] rect.bar-rect`).evaluateAll((rs) => rs.reduce((s, r) => s + Number(r.getAttribute("data-value")), 0))
            expect(await sum("calls")).toBe(byEndpoint.groups.reduce((s, g) => s + g.calls, 0))
            expect(await sum("tokens")).toBe(byEndpoint.groups.reduce((s, g) => s + g.tokens.input + g.tokens.output, 0))
            await page.screenshot({ path: join(shots, "usage.png"), fullPage: true })
            await page.selectOption("select[name=groupBy]", "model")
            await page.locator(`tr.usage-row[data-key="gpt-4o-mini"]`).waitFor()
            const keys = await page.locator("tr.usage-row").evaluateAll((trs) => trs.map((tr) => tr.getAttribute("data-key")))
            expect([...keys].sort()).toEqual(byModel.groups.map((g) => g.key).sort())
          })
          expect(problems).toEqual([])
          expectPng(join(shots, "usage.png"))
        })))

    it.live("with gateway keys: the page asks for a key, and with it shows the traces (the API's own authentication)", () =>
      withGateway((up) => ({ ...config(up), auth: { keys: [{ key: "gw-viewer-key", username: "alice" }] } }), (h) =>
        Effect.scoped(Effect.gen(function*() {
          const calls = yield* Scenario.makeCalls(h.url, "gw-viewer-key")
          expect((yield* h.get("/api/traces")).status).toBe(401)
          // The 401 of the first read is expected in the console.
          const { page, problems } = yield* open(/status of 401/)
          yield* Effect.promise(async () => {
            await page.goto(`${h.url}/`)
            await page.locator("form.key-form").waitFor()
            expect(await rows(page).count()).toBe(0)
            await page.fill("form.key-form input[name=key]", "gw-viewer-key")
            await page.click("form.key-form button")
            const made = Object.values(calls.byEndpoint).reduce((a, b) => a + b, 0)
            await until("the traces listed", async () => (await rows(page).count()) >= made)
            expect(await page.locator("form.key-form").count()).toBe(0)
          })
          expect(problems).toEqual([])
        })), Scenario.upstreamReplies))
  })
})
