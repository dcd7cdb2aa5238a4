/**
 * What a benchmark server child answers on its IPC channel (when spawned with one): `"cpu"` → the CPU it has
 * used (µs, `process.cpuUsage()`), `"heap"` → its heap after two full GCs (needs `--expose-gc`). Other messages
 * go to `onMessage`.
 */
export const serveBenchIpc = (onMessage: (message: unknown) => void = () => {}): void => {
  if (process.send === undefined) return
  process.on("message", (message: unknown) => {
    if (message === "cpu") {
      const { user, system } = process.cpuUsage()
      process.send!({ cpuUs: user + system })
    } else if (message === "heap") {
      const collect = (globalThis as { gc?: () => void }).gc
      collect?.()
      collect?.()
      const { heapUsed, external, arrayBuffers } = process.memoryUsage()
      process.send!({ heapUsed, external, arrayBuffers })
    } else {
      onMessage(message)
    }
  })
}
