/**
 * Case-insensitive reads of request headers, whatever their container (`@effect/platform` `Headers`, Node's
 * `IncomingHttpHeaders`, a plain record). Only the named header is ever read.
 *
 * @internal
 */

/** @internal */
export type HeadersInput = Readonly<Record<string, string | ReadonlyArray<string> | undefined>>

/**
 * All values of header `name` (any key casing; array values flattened), in key order.
 *
 * @internal
 */
export const values = (headers: HeadersInput, name: string): Array<string> => {
  const wanted = name.toLowerCase()
  const out: Array<string> = []
  for (const key of Object.keys(headers)) {
    if (key.length !== wanted.length || key.toLowerCase() !== wanted) continue
    const value = headers[key]
    if (typeof value === "string") out.push(value)
    else if (value !== undefined) out.push(...value)
  }
  return out
}

/**
 * Header `name` joined per HTTP list rules (`, `), or undefined when absent.
 *
 * @internal
 */
export const get = (headers: HeadersInput, name: string): string | undefined => {
  const all = values(headers, name)
  return all.length === 0 ? undefined : all.join(", ")
}
