/**
 * The gateway exactly as `npm start` runs it (`src/gateway/cli.ts`, same command line), plus the benchmark's IPC
 * answers (`./ipc.ts`: its CPU use and its heap after a full GC).
 */
import { serveBenchIpc } from "./ipc.js"

serveBenchIpc()
await import("../../src/gateway/cli.js")
