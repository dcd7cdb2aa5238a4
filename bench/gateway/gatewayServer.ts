/**
 * The gateway exactly as `npx effect-llm-trace` runs it (`dist/gateway/cli.js`, same command line), plus the benchmark's IPC
 * answers (`./ipc.ts`: its CPU use and its heap after a full GC).
 */
import { serveBenchIpc } from "./ipc.js"

serveBenchIpc()
// The compiled CLI, as `npx effect-llm-trace` runs it (`npm run bench` builds dist/ first).
await import(new URL("../../dist/gateway/cli.js", import.meta.url).href)
