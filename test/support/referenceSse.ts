/**
 * A deliberately naive reference implementation of the WHATWG event-stream rules, used only as a test oracle:
 * decode the whole byte stream first, then walk it one character at a time. Slow and obviously correct.
 */
import type * as Sse from "../../src/Sse.js"

export interface ReferenceResult {
  readonly events: Array<Sse.Event>
  readonly lastEventId: string
  readonly retry: number | undefined
}

const splitLines = (text: string): { readonly lines: Array<string>; readonly rest: string | undefined } => {
  const lines: Array<string> = []
  let line = ""
  for (let i = 0; i < text.length; i++) {
    const c = text[i]
    if (c === "\r") {
      lines.push(line)
      line = ""
      if (text[i + 1] === "\n") i++
    } else if (c === "\n") {
      lines.push(line)
      line = ""
    } else {
      line += c
    }
  }
  return { lines, rest: line === "" ? undefined : line }
}

export const reference = (bytes: Uint8Array, dispatchIncompleteAtEnd: boolean): ReferenceResult => {
  const text = new TextDecoder("utf-8").decode(bytes) // strips one leading BOM, U+FFFD for bad bytes
  const { lines, rest } = splitLines(text)
  const events: Array<Sse.Event> = []
  let data: Array<string> = []
  let type = ""
  let idBuffer = ""
  let lastEventId = ""
  let retry: number | undefined = undefined
  let reconnection: number | undefined = undefined
  const dispatch = () => {
    lastEventId = idBuffer
    if (data.length > 0) events.push({ event: type || "message", data: data.join("\n"), id: lastEventId, retry })
    data = []
    type = ""
    retry = undefined
  }
  const process = (line: string) => {
    if (line === "") return dispatch()
    if (line.startsWith(":")) return
    const colon = line.indexOf(":")
    const name = colon === -1 ? line : line.slice(0, colon)
    let value = colon === -1 ? "" : line.slice(colon + 1)
    if (value.startsWith(" ")) value = value.slice(1)
    if (name === "data") data.push(value)
    else if (name === "event") type = value
    else if (name === "id") {
      if (!value.includes("\0")) idBuffer = value
    } else if (name === "retry") {
      if (/^[0-9]+$/.test(value)) {
        retry = Number(value)
        reconnection = retry
      }
    }
  }
  for (const line of lines) process(line)
  if (dispatchIncompleteAtEnd) {
    if (rest !== undefined) process(rest)
    dispatch()
  }
  return { events, lastEventId, retry: reconnection }
}
