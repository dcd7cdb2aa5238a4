/**
 * `npm run bench [-- --only sse,folds --mib 64 --runs 5]`: every benchmark, each printing MB/s and ratios against a
 * peer run in this same process. Run with `--expose-gc` (the npm script does) so heap figures start from a
 * collected heap.
 */
import { parseArgs } from "node:util"
import * as SseBench from "./sse.bench.js"

const { values } = parseArgs({
  options: {
    only: { type: "string" },
    mib: { type: "string" },
    runs: { type: "string" }
  }
})

const only = values.only?.split(",")
const wants = (name: string) => only === undefined || only.includes(name)
const runs = Number(values.runs ?? 5)

if (wants("sse")) await SseBench.run({ mib: Number(values.mib ?? 64), runs })
