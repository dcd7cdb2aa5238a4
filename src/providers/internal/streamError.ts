/**
 * Errors a provider reports inside a 200 stream, read into an {@link StreamError} whatever their shape: each
 * provider nests its error object its own way, and a proxy may send plain text instead.
 *
 * @internal
 */
import { isRecord, nonEmpty } from "../../internal/json.js"
import type { StreamError } from "../Api.js"

/** The message of an error object: its `message`, else the whole object as JSON. */
const messageOf = (error: Record<string, unknown>): string =>
  typeof error["message"] === "string" ? error["message"] : JSON.stringify(error)

/** An error that is not an object: its text, type `"error"`. */
const untyped = (error: unknown): StreamError => ({
  type: "error",
  message: typeof error === "string" ? error : JSON.stringify(error)
})

/**
 * An OpenAI error object (`{"type", "code", "message"}` from `{"error": …}`, or a bare string): `type`, else
 * `code`, else `"error"`. Chat Completions and Responses share it.
 *
 * @internal
 */
export const fromOpenAi = (error: unknown): StreamError => {
  if (!isRecord(error)) return untyped(error)
  const type = nonEmpty(error["type"]) ? error["type"] : nonEmpty(error["code"]) ? error["code"] : "error"
  return { type, message: messageOf(error) }
}

/**
 * An Anthropic error event's payload (`{"type":"error","error":{"type","message"}}`, or anything else an
 * `error` event carried).
 *
 * @internal
 */
export const fromAnthropic = (payload: unknown): StreamError => {
  const inner = isRecord(payload) ? payload["error"] : undefined
  const error = isRecord(inner) || typeof inner === "string" ? inner : payload
  if (!isRecord(error)) return untyped(error)
  return { type: nonEmpty(error["type"]) ? error["type"] : "error", message: messageOf(error) }
}

/**
 * A Google error object (`{"code", "message", "status"}` from `{"error": …}`): `status`, else the code, else
 * `"error"`.
 *
 * @internal
 */
export const fromGoogle = (error: unknown): StreamError => {
  if (!isRecord(error)) return untyped(error)
  const code = error["code"]
  return {
    type: nonEmpty(error["status"]) ? error["status"] : typeof code === "number" ? String(code) : "error",
    message: messageOf(error)
  }
}
