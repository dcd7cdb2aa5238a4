/**
 * `npm start` until the gateway lands: decodes a generated OpenAI-like stream through `Sse.decode` and prints
 * what came out.
 */
import { Chunk, Console, Effect, Stream } from "effect"
import * as Sse from "../src/Sse.js"
import { chunked } from "./support.js"
import { syntheticChatStream } from "./sse.bench.js"

const bytes = syntheticChatStream(1024 * 1024)
const program = Stream.fromChunks(...chunked(bytes, 1000).map(Chunk.of)).pipe(
  Sse.decode(),
  Stream.runFold({ events: 0, chars: 0 }, (acc, e) => ({ events: acc.events + 1, chars: acc.chars + e.data.length })),
  Effect.flatMap((r) => Console.log(`decoded ${r.events} events (${r.chars} chars of data) from ${bytes.length} bytes`))
)
Effect.runPromise(program)
