/**
 * The JSONPath subset of Vertex `streamFunctionCallArguments` (`functionCall.partialArgs[].jsonPath`): parsed into
 * segments, and used to place each fragment's value in the assembled `args`.
 *
 * @internal
 */
import type { Json } from "../../internal/json.js"

/** @internal */
export type Segment = string | number

/**
 * The segments of a JSONPath (RFC 9535) of the simple kind Vertex sends: `$`, then `.name`, `['name']`,
 * `["name"]` or `[0]`. Undefined for anything else, and for `__proto__` (never a path into a prototype).
 *
 * @internal
 */
export const parseJsonPath = (path: string): ReadonlyArray<Segment> | undefined => {
  if (!path.startsWith("$")) return undefined
  const segments: Array<Segment> = []
  let i = 1
  while (i < path.length) {
    const c = path[i]
    if (c === ".") {
      let j = i + 1
      while (j < path.length && path[j] !== "." && path[j] !== "[") j++
      if (j === i + 1) return undefined
      segments.push(path.slice(i + 1, j))
      i = j
    } else if (c === "[") {
      const close = path.indexOf("]", i)
      if (close === -1) return undefined
      const inner = path.slice(i + 1, close)
      if (/^\d+$/.test(inner)) segments.push(Number(inner))
      else if (/^'[^']*'$|^"[^"]*"$/.test(inner)) segments.push(inner.slice(1, -1))
      else return undefined
      i = close + 1
    } else {
      return undefined
    }
  }
  return segments.some((s) => s === "__proto__") ? undefined : segments
}

/**
 * Sets (or appends to, for a continued string) the value at `path`, creating objects and arrays on the way.
 *
 * @internal
 */
export const setAt = (root: Json, path: ReadonlyArray<Segment>, value: unknown, append: boolean): void => {
  if (path.length === 0) return
  let node: Json | Array<unknown> = root
  for (let k = 0; k < path.length - 1; k++) {
    const key = path[k]!
    const next: unknown = (node as Record<Segment, unknown>)[key]
    if (typeof next === "object" && next !== null) {
      node = next as Json | Array<unknown>
    } else {
      const child = typeof path[k + 1] === "number" ? [] : {}
      ;(node as Record<Segment, unknown>)[key] = child
      node = child
    }
  }
  const key = path[path.length - 1]!
  const current = (node as Record<Segment, unknown>)[key]
  ;(node as Record<Segment, unknown>)[key] = append && typeof current === "string" && typeof value === "string"
    ? current + value
    : value
}
