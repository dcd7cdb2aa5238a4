/**
 * The `effect-llm-trace` command as a child process (`node --import tsx src/gateway/cli.ts`), for tests that
 * need the real thing: exit status, stdout/stderr, signals. The environment is the test's minus every upstream
 * key and `OTEL_*`/`GATEWAY_CONFIG`/`PORT` variable, plus what the test passes.
 */
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import { type ChildProcess, spawn } from "node:child_process"
import { fileURLToPath } from "node:url"

export const cliPath = fileURLToPath(new URL("../../src/gateway/cli.ts", import.meta.url))

const inherited = (): Record<string, string> => {
  const env: Record<string, string> = {}
  for (const [key, value] of Object.entries(process.env)) {
    if (value === undefined || /^(OTEL_|GATEWAY_CONFIG$|PORT$)|_API_KEY$/.test(key)) continue
    env[key] = value
  }
  return env
}

export interface Finished {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: string
  readonly stderr: string
}

export interface Running {
  readonly child: ChildProcess
  readonly stdout: () => string
  readonly stderr: () => string
  /** Resolves with the first stdout match of `pattern` (fails if the process exits first). */
  readonly waitFor: (pattern: RegExp) => Effect.Effect<RegExpExecArray, Error>
  readonly exited: Effect.Effect<Finished>
}

/**
 * Starts the command from the sources (or, with `options.cwd`, the program named by `args[0]`, e.g. an installed
 * bin); the process is killed when the scope closes (if still running).
 */
export const start = (
  args: ReadonlyArray<string>,
  env: Readonly<Record<string, string>> = {},
  options?: { readonly cwd: string }
): Effect.Effect<Running, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const [command, ...rest] = options === undefined ? [process.execPath, "--import", "tsx", cliPath, ...args] : args
      const child = spawn(command!, rest, {
        env: { ...inherited(), ...env },
        stdio: ["ignore", "pipe", "pipe"],
        ...(options === undefined ? {} : { cwd: options.cwd })
      })
      let stdout = ""
      let stderr = ""
      child.stdout!.setEncoding("utf8").on("data", (text: string) => (stdout += text))
      child.stderr!.setEncoding("utf8").on("data", (text: string) => (stderr += text))
      const done = new Promise<Finished>((resolve) =>
        child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }))
      )
      const running: Running = {
        child,
        stdout: () => stdout,
        stderr: () => stderr,
        waitFor: (pattern) =>
          Effect.async<RegExpExecArray, Error>((resume) => {
            const check = () => {
              const match = pattern.exec(stdout)
              if (match !== null) {
                cleanup()
                resume(Effect.succeed(match))
              }
            }
            const onClose = () => {
              cleanup()
              resume(Effect.fail(new Error(`exited before ${pattern}: ${stdout}${stderr}`)))
            }
            const cleanup = () => {
              child.stdout!.off("data", check)
              child.off("close", onClose)
            }
            child.stdout!.on("data", check)
            child.on("close", onClose)
            check()
            return Effect.sync(cleanup)
          }),
        exited: Effect.promise(() => done)
      }
      return running
    }),
    ({ child }) => Effect.sync(() => child.exitCode === null && child.signalCode === null && child.kill("SIGKILL"))
  )

/** Runs the command to its end. */
export const run = (args: ReadonlyArray<string>, env: Readonly<Record<string, string>> = {}): Effect.Effect<Finished> =>
  Effect.scoped(Effect.flatMap(start(args, env), (running) => running.exited))
