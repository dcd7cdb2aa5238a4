/**
 * The path of a Schema issue as a reader writes it: `["endpoints", 0, "provider", "kind"]` →
 * `endpoints[0].provider.kind`; keys that are not identifiers are quoted (`["a b"]`). Empty for the top level.
 *
 * @internal
 */
const identifier = /^[A-Za-z_$][A-Za-z0-9_$]*$/

/** @internal */
export const formatPath = (path: ReadonlyArray<PropertyKey>): string => {
  let out = ""
  for (const key of path) {
    if (typeof key === "number") out += `[${key}]`
    else if (typeof key === "string" && identifier.test(key)) out += out === "" ? key : `.${key}`
    else out += `[${JSON.stringify(String(key))}]`
  }
  return out
}
