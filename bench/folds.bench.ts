/**
 * Provider folds, bytes → final response, against each official SDK's accumulator on the same bytes in this
 * process (see bench/folds/*.ts for how each SDK is fed).
 */
import * as AnthropicGemini from "./folds/anthropic-gemini.js"
import * as OpenAi from "./folds/openai.js"
import { type Measurement, printTable, ratio } from "./support.js"

const find = (rows: ReadonlyArray<Measurement>, prefix: string, kind: string): Measurement => {
  const row = rows.find((r) => r.name.startsWith(prefix) && r.name.includes(kind))
  if (row === undefined) throw new Error(`no bench row ${prefix} ${kind}`)
  return row
}

export const run = async (options: { readonly mib: number; readonly runs: number }) => {
  const rows = [...(await OpenAi.bench(options)), ...(await AnthropicGemini.bench(options))]
  printTable(`Folds, bytes → aggregate: ${options.mib} MiB per provider, 16 KiB chunks, node ${process.version}`, rows)
  for (const provider of ["openai-chat", "openai-responses", "anthropic", "gemini"]) {
    const ours = find(rows, provider, "ours aggregate")
    const peer = rows.find((r) => r.name.startsWith(provider) && !r.name.includes("ours"))
    if (peer !== undefined) console.log(ratio(`${provider}: ours / ${peer.name.slice(provider.length + 2)}`, ours, peer, 2))
  }
}
