/**
 * Splitting bytes into chunks, for split-boundary tests: every chunking of the same bytes must give the same result.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { FastCheck } from "effect"

export const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text)

/** Cuts `bytes` at the given offsets (any order, duplicates and out-of-range offsets ignored). */
export const splitAt = (bytes: Uint8Array, cuts: ReadonlyArray<number>): Array<Uint8Array> => {
  const points = [...new Set(cuts.filter((c) => c > 0 && c < bytes.length))].sort((a, b) => a - b)
  const chunks: Array<Uint8Array> = []
  let start = 0
  for (const p of points) {
    chunks.push(bytes.subarray(start, p))
    start = p
  }
  chunks.push(bytes.subarray(start))
  return chunks
}

/** Every way to cut `bytes` in two (including the empty halves at both ends). */
export const everyTwoWaySplit = (bytes: Uint8Array): Array<Array<Uint8Array>> =>
  Array.from({ length: bytes.length + 1 }, (_, i) => [bytes.subarray(0, i), bytes.subarray(i)])

export const byteByByte = (bytes: Uint8Array): Array<Uint8Array> => Array.from(bytes, (b) => Uint8Array.of(b))

/** Random cut points for a byte array of length `length` (0 to `max` cuts, possibly dense). */
export const cutsArbitrary = (length: number, max = 64): FastCheck.Arbitrary<Array<number>> =>
  FastCheck.array(FastCheck.integer({ min: 0, max: Math.max(0, length) }), { maxLength: max })

/** A deterministic pseudo-random chunking (for loops that need many chunkings without FastCheck). */
export const randomChunking = (bytes: Uint8Array, seed: number, maxChunk = 64): Array<Uint8Array> => {
  let s = seed >>> 0 || 1
  const next = () => {
    s ^= s << 13
    s ^= s >>> 17
    s ^= s << 5
    return s >>> 0
  }
  const chunks: Array<Uint8Array> = []
  let i = 0
  while (i < bytes.length) {
    const size = 1 + (next() % maxChunk)
    chunks.push(bytes.subarray(i, Math.min(bytes.length, i + size)))
    i += size
  }
  return chunks
}

/** `../shared/fixtures` beside the repository, when present (CI); undefined on a fresh clone. */
export const sharedFixturesDir: string | undefined = (() => {
  const dir = fileURLToPath(new URL("../../../shared/fixtures", import.meta.url))
  return existsSync(dir) ? dir : undefined
})()

/**
 * Registers `suites` over `../shared/fixtures` only when it exists (CI); a fresh clone gets a "NOT RUN" line
 * instead of skipped tests (a skipped `describe` would still run its collector over a missing folder).
 */
export const withSharedFixtures = (what: string, suites: (dir: string) => void): void => {
  if (sharedFixturesDir === undefined) console.warn(`${what} over ../shared/fixtures: NOT RUN — ../shared/fixtures not found`)
  else suites(sharedFixturesDir)
}

/** The `.sse` files of one provider folder under `dir`, as [name, bytes]. */
export const readSseFiles = (dir: string): Array<readonly [string, Uint8Array]> =>
  readdirSync(dir)
    .filter((f) => f.endsWith(".sse"))
    .sort()
    .map((f) => [f, new Uint8Array(readFileSync(`${dir}/${f}`))] as const)
