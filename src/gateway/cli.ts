#!/usr/bin/env node
/**
 * The `effect-llm-trace` command (`npx effect-llm-trace`, `npm start`): runs the gateway. `--help`, `--version`
 * and a bad command line are answered here, before any of the gateway is loaded.
 *
 * @internal
 */
import { readFileSync } from "node:fs"
import { setFlagsFromString } from "node:v8"
import * as CliArgs from "./internal/cliArgs.js"

// `../../package.json` from both `src/gateway/cli.ts` and `dist/gateway/cli.js`.
const version = (): string =>
  (JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { readonly version: string })
    .version

const command = CliArgs.parse(process.argv.slice(2))
switch (command._tag) {
  case "Help":
    process.stdout.write(CliArgs.help)
    break
  case "Version":
    process.stdout.write(`${version()}\n`)
    break
  case "Usage":
    process.stderr.write(`${CliArgs.name}: ${command.message}\n`)
    process.exitCode = 2
    break
  case "Run": {
    // V8 pretenures an allocation site once enough of its objects outlive a minor GC (as a burst of requests in
    // flight makes them). The gateway's per-request objects are then born in the old generation, die there young,
    // and keep everything they point to alive through every minor GC until the next full one. Measured
    // (`bench/gateway/scavenge.ts`, and traced c=64: +17 % req/s, -15 % CPU per request), set before the gateway
    // loads; a process that mounts the gateway itself passes it to `node`.
    setFlagsFromString("--no-allocation-site-pretenuring")
    const Main = await import("./main.js")
    Main.run(command.flags, version())
  }
}
