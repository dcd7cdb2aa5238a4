/**
 * The viewer's stylesheet (served as `viewer/style.css`). System fonts, light and dark schemes, no external
 * resources.
 *
 * @internal
 */
export const css = String.raw`
:root {
  color-scheme: light dark;
  --bg: #ffffff; --fg: #111827; --muted: #6b7280; --line: #e5e7eb; --panel: #f9fafb; --accent: #2563eb;
  --ok: #16a34a; --error: #dc2626; --unset: #9ca3af; --ttft: #f59e0b; --sel: #dbeafe; --fresh: #fef9c3;
  --mono: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
}
@media (prefers-color-scheme: dark) {
  :root { --bg: #0b0f17; --fg: #e5e7eb; --muted: #9ca3af; --line: #1f2937; --panel: #111827; --accent: #60a5fa;
    --sel: #1e3a5f; --fresh: #3f3a12; }
}
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; background: var(--bg); color: var(--fg); }
header.top { display: flex; align-items: center; gap: 1.5em; padding: 0.6em 1.2em; border-bottom: 1px solid var(--line); background: var(--panel); }
header.top .brand { font-weight: 600; }
header.top nav a { margin-right: 1em; color: var(--muted); text-decoration: none; }
header.top nav a[aria-current="page"] { color: var(--fg); font-weight: 600; border-bottom: 2px solid var(--accent); }
main { padding: 1em 1.2em 3em; }
a { color: var(--accent); }
code, pre, .mono { font-family: var(--mono); font-size: 12.5px; }
pre { margin: 0; white-space: pre-wrap; word-break: break-word; }
.muted { color: var(--muted); }
.error { color: var(--error); }
.filters { display: flex; flex-wrap: wrap; align-items: flex-end; gap: 0.8em 1.2em; margin-bottom: 1em; }
.field { display: flex; flex-direction: column; gap: 0.2em; font-size: 12px; color: var(--muted); }
.field.auto { flex-direction: row; align-items: center; gap: 0.4em; }
.field input, .field select { font: inherit; font-size: 14px; padding: 0.3em 0.5em; min-width: 10em; color: var(--fg); background: var(--bg); border: 1px solid var(--line); border-radius: 4px; }
.field.auto input { min-width: 0; }
.count { margin-left: auto; color: var(--muted); }
.key-form { display: flex; gap: 0.5em; align-items: center; padding: 0.6em; margin-bottom: 1em; border: 1px solid var(--ttft); border-radius: 4px; }
table { border-collapse: collapse; }
table.traces, table.usage-groups { width: 100%; }
table.traces th, table.traces td, table.usage-groups th, table.usage-groups td { padding: 0.35em 0.6em; border-bottom: 1px solid var(--line); text-align: left; white-space: nowrap; }
table.traces th, table.usage-groups th { font-size: 12px; color: var(--muted); font-weight: 500; }
table.traces tr.trace-row { cursor: pointer; }
table.traces tr.trace-row:hover { background: var(--panel); }
table.traces tr.fresh { background: var(--fresh); }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.model { max-width: 18em; overflow: hidden; text-overflow: ellipsis; }
.tag { margin-left: 0.4em; padding: 0 0.4em; font-size: 11px; border: 1px solid var(--line); border-radius: 3px; color: var(--muted); }
.code, .error-type { margin-left: 0.4em; font-size: 12px; color: var(--muted); }
.badge { display: inline-block; min-width: 3.2em; padding: 0 0.45em; border-radius: 3px; font-size: 12px; text-align: center; color: #fff; }
.badge-ok { background: var(--ok); }
.badge-error { background: var(--error); }
.badge-unset { background: var(--unset); }
.badge-in_progress { background: #2563eb; }
button.more { margin-top: 1em; font: inherit; padding: 0.3em 0.9em; }
.trace-head h1 { font-size: 18px; margin: 0 0 0.6em; }
dl.facts { display: flex; flex-wrap: wrap; gap: 0.4em 1.6em; margin: 0 0 1em; }
dl.facts div { display: flex; flex-direction: column; }
dl.facts dt { font-size: 11px; color: var(--muted); }
dl.facts dd { margin: 0; }
.waterfall-box { border: 1px solid var(--line); border-radius: 4px; margin-bottom: 1em; }
.waterfall-head, .span-row { display: grid; grid-template-columns: minmax(16em, 32%) 1fr; align-items: center; }
.waterfall-head { border-bottom: 1px solid var(--line); font-size: 11px; color: var(--muted); height: 1.8em; }
.waterfall-head .label { padding-left: 0.4em; }
.axis, .track { position: relative; height: 100%; margin-right: 4em; }
.axis .tick { position: absolute; top: 0.3em; transform: translateX(-1px); padding-left: 2px; border-left: 1px solid var(--line); white-space: nowrap; }
.span-row { height: 2em; cursor: pointer; border-bottom: 1px solid var(--line); }
.span-row:last-child { border-bottom: none; }
.span-row:hover { background: var(--panel); }
.span-row.selected { background: var(--sel); }
.span-row:focus { outline: 2px solid var(--accent); outline-offset: -2px; }
.span-row .label { display: flex; justify-content: space-between; gap: 0.5em; overflow: hidden; white-space: nowrap; padding-right: 0.6em; }
.span-row .name { overflow: hidden; text-overflow: ellipsis; }
.span-row .dur { color: var(--muted); font-size: 12px; font-variant-numeric: tabular-nums; }
.bar { position: absolute; top: 0.5em; height: 1em; border-radius: 2px; }
.bar-ok { background: var(--ok); }
.bar-error { background: var(--error); }
.bar-unset { background: var(--unset); }
.ttft-mark { position: absolute; top: 0.25em; height: 1.5em; width: 2px; background: var(--ttft); }
.details h2 { font-size: 16px; margin: 0.4em 0; }
.details h3 { font-size: 13px; margin: 1.2em 0 0.4em; color: var(--muted); text-transform: uppercase; letter-spacing: 0.04em; }
table.kv th { text-align: left; font-weight: 500; color: var(--muted); padding: 0.2em 1em 0.2em 0; vertical-align: top; white-space: nowrap; font-family: var(--mono); font-size: 12.5px; }
table.kv td { padding: 0.2em 0; vertical-align: top; word-break: break-word; }
pre.json { background: var(--panel); border: 1px solid var(--line); border-radius: 4px; padding: 0.5em; max-height: 28em; overflow: auto; }
.chat { display: flex; flex-direction: column; gap: 0.5em; max-width: 60em; margin-bottom: 0.5em; }
.msg { border: 1px solid var(--line); border-radius: 6px; padding: 0.4em 0.7em; background: var(--panel); }
.msg .role { font-size: 11px; text-transform: uppercase; color: var(--muted); letter-spacing: 0.04em; }
.msg-assistant, .msg-model { border-left: 3px solid var(--accent); }
.msg-system, .msg-developer { border-left: 3px solid var(--muted); }
.msg-user { border-left: 3px solid var(--ok); }
.part-text, .part-thinking { white-space: pre-wrap; }
.part-thinking { color: var(--muted); font-style: italic; }
.events ol { padding-left: 1.4em; }
.event-name { font-family: var(--mono); }
.chart-box { margin: 1.5em 0 0; }
.chart-box figcaption { font-weight: 600; margin-bottom: 0.3em; }
svg.chart { width: 100%; max-width: 900px; height: auto; display: block; }
svg.chart .axis-line { stroke: var(--muted); stroke-width: 1; }
svg.chart .axis-label { fill: var(--muted); font-size: 11px; }
.legend { list-style: none; display: flex; flex-wrap: wrap; gap: 0.3em 1.2em; padding: 0; margin: 0.4em 0 0; }
.swatch { display: inline-block; width: 0.8em; height: 0.8em; border-radius: 2px; margin-right: 0.4em; vertical-align: -0.05em; }
`
