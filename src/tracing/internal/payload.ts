/**
 * Payload attributes (`mlflow.spanInputs`, `mlflow.spanOutputs`, chunk events) as JSON within a byte budget. A
 * value over the budget becomes a small JSON document that says so — `{"truncated":true,"bytes":N,"head":"…"}` —
 * never a cut string that no longer parses.
 *
 * @internal
 */

/** @internal */
export const defaultMaxPayloadBytes = 256 * 1024

/** Room kept for the envelope around `head` (keys, byte count, escapes of the cut text). @internal */
const envelope = 64

/** JSON of `value`; undefined for what JSON cannot encode (cycles, BigInt, undefined). Never throws. @internal */
export const toJson = (value: unknown): string | undefined => {
  try {
    return JSON.stringify(value)
  } catch {
    return undefined
  }
}

/**
 * `json` itself when it fits in `maxBytes` UTF-8 bytes, else the truncation document holding its head. The byte
 * length is only computed when the UTF-16 length could exceed the budget (a UTF-16 unit is 1–3 UTF-8 bytes).
 * The result is within the budget whenever the budget can hold the note itself (at least 64 bytes, the gateway
 * config's minimum); below that the note with an empty head is returned.
 *
 * @internal
 */
export const fit = (json: string, maxBytes: number): string => {
  if (json.length * 3 <= maxBytes) return json
  const bytes = Buffer.byteLength(json, "utf8")
  if (bytes <= maxBytes) return json
  // A head of at most a third of the room in UTF-16 units stays under the budget once escaped (≤ 6 bytes per
  // unit for control characters is covered by the divisor on the typical text; re-check and halve otherwise).
  let room = Math.max(0, Math.floor((maxBytes - envelope) / 3))
  for (;;) {
    const out = JSON.stringify({ truncated: true, bytes, head: json.slice(0, room) })
    if (room === 0 || Buffer.byteLength(out, "utf8") <= maxBytes) return out
    room = Math.floor(room / 2)
  }
}

/** {@link toJson} then {@link fit}; undefined when the value is not JSON-serialisable. @internal */
export const encode = (value: unknown, maxBytes: number): string | undefined => {
  const json = toJson(value)
  return json === undefined ? undefined : fit(json, maxBytes)
}
