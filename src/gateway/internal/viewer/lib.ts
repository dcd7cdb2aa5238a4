/**
 * The viewer's pure functions, as browser JavaScript (no build step: the gateway serves this text). Evaluated, it
 * defines `ViewerLib`: time arithmetic on nanosecond strings, the waterfall layout, chat-message recognition for
 * every provider shape the gateway traces, usage extraction and chart geometry. Nothing here touches the DOM, so
 * the tests evaluate the same text in a Node `vm` context and check it directly.
 *
 * Written as ES2020 without template literals (this file is a template literal itself).
 *
 * @internal
 */
export const lib = String.raw`
var ViewerLib = (function () {
  "use strict";

  var A = {
    inputs: "mlflow.spanInputs",
    outputs: "mlflow.spanOutputs",
    usage: "mlflow.chat.tokenUsage",
    stream: "gen_ai.request.stream",
    ttft: "gen_ai.response.time_to_first_chunk",
    inputTokens: "gen_ai.usage.input_tokens",
    outputTokens: "gen_ai.usage.output_tokens",
    cacheRead: "gen_ai.usage.cache_read.input_tokens",
    cacheCreation: "gen_ai.usage.cache_write.input_tokens",
    reasoning: "gen_ai.usage.reasoning.output_tokens",
    linked: "mlflow.gateway.linkedTraceId",
    inputsFromParent: "llm_trace.inputs_from_parent",
    errorType: "error.type",
    statusCode: "http.response.status_code",
    chunkValue: "mlflow.chunk.value"
  };

  function isObject(v) { return typeof v === "object" && v !== null && !Array.isArray(v); }
  function num(v) { return typeof v === "number" && isFinite(v) ? v : 0; }

  /** Nanosecond decimal strings to a BigInt; a malformed one is 0 (never a throw on untrusted data). */
  function nanos(s) {
    if (typeof s !== "string" || !/^[0-9]{1,30}$/.test(s)) return BigInt(0);
    return BigInt(s);
  }
  /** Milliseconds from base to t (both nanosecond strings), exact to the microsecond. */
  function msBetween(base, t) {
    return Number((nanos(t) - nanos(base)) / BigInt(1000)) / 1000;
  }

  function statusOf(span) {
    var code = span && span.status && span.status.code;
    return code === "ERROR" ? "error" : code === "OK" ? "ok" : "unset";
  }

  /** Milliseconds from a streamed span's start to its first chunk, or null. */
  function ttftMs(span) {
    var a = (span && span.attributes) || {};
    var s = a[A.ttft];
    return typeof s === "number" && isFinite(s) && s >= 0 ? s * 1000 : null;
  }

  /**
   * Spans in display order: depth-first from the roots (spans whose parent is not in the trace, as in a replayed
   * copy), children by start time. Cycles and duplicates are cut: every span appears once.
   */
  function tree(spans) {
    var list = Array.isArray(spans) ? spans.filter(function (s) { return isObject(s) && typeof s.spanId === "string"; }) : [];
    var byId = {};
    list.forEach(function (s) { if (!Object.prototype.hasOwnProperty.call(byId, s.spanId)) byId[s.spanId] = s; });
    var children = {};
    var roots = [];
    list.forEach(function (s) {
      var p = s.parentSpanId;
      if (typeof p === "string" && p !== s.spanId && Object.prototype.hasOwnProperty.call(byId, p)) {
        (children[p] = children[p] || []).push(s);
      } else roots.push(s);
    });
    function byStart(a, b) { var x = nanos(a.startTimeUnixNano), y = nanos(b.startTimeUnixNano); return x < y ? -1 : x > y ? 1 : 0; }
    var out = [];
    var seen = {};
    function visit(s, depth) {
      if (seen[s.spanId]) return;
      seen[s.spanId] = true;
      out.push({ span: s, depth: depth });
      (children[s.spanId] || []).slice().sort(byStart).forEach(function (c) { visit(c, depth + 1); });
    }
    roots.slice().sort(byStart).forEach(function (r) { visit(r, 0); });
    // Spans only reachable through a cycle have no root: show them at the top level rather than lose them.
    list.forEach(function (s) { visit(s, 0); });
    return out;
  }

  /**
   * The waterfall: each span as a bar on one time axis (percentages of the trace's extent), with its depth, status
   * and, on streamed spans, the first-chunk marker.
   */
  function waterfall(spans) {
    var rows = tree(spans);
    if (rows.length === 0) return { totalMs: 0, startNano: "0", rows: [] };
    var start = null, end = null;
    rows.forEach(function (r) {
      var s = nanos(r.span.startTimeUnixNano), e = nanos(r.span.endTimeUnixNano);
      if (e < s) e = s;
      if (start === null || s < start) start = s;
      if (end === null || e > end) end = e;
    });
    var base = start.toString();
    var total = msBetween(base, end.toString());
    var scale = total > 0 ? 100 / total : 0;
    return {
      totalMs: total,
      startNano: base,
      rows: rows.map(function (r) {
        var offset = msBetween(base, r.span.startTimeUnixNano);
        var duration = Math.max(0, msBetween(r.span.startTimeUnixNano, r.span.endTimeUnixNano));
        var ttft = ttftMs(r.span);
        var left = total > 0 ? offset * scale : 0;
        var width = total > 0 ? duration * scale : 100;
        return {
          span: r.span,
          depth: r.depth,
          offsetMs: offset,
          durationMs: duration,
          status: statusOf(r.span),
          leftPct: clamp(left, 0, 100),
          widthPct: clamp(width, 0, 100 - clamp(left, 0, 100)),
          ttftMs: ttft,
          ttftPct: ttft === null || total <= 0 ? null : clamp((offset + Math.min(ttft, duration)) * scale, 0, 100)
        };
      })
    };
  }

  function clamp(x, lo, hi) { return Math.min(hi, Math.max(lo, x)); }

  /** Axis ticks for a duration: about n round values from 0 to total. */
  function ticks(totalMs, n) {
    if (!(totalMs > 0)) return [0];
    var raw = totalMs / Math.max(1, n);
    var mag = Math.pow(10, Math.floor(Math.log10(raw)));
    var step = [1, 2, 5, 10].map(function (k) { return k * mag; }).filter(function (s) { return s >= raw; })[0] || 10 * mag;
    var out = [];
    for (var t = 0; t <= totalMs + 1e-9 && out.length < 50; t += step) out.push(t);
    return out;
  }

  /** JSON text to a value; anything else stays the text. */
  function parseMaybeJson(v) {
    if (typeof v !== "string") return { json: v !== undefined, value: v };
    var t = v.trim();
    if (t === "" || "[{\"".indexOf(t[0]) === -1) return { json: false, value: v };
    try { return { json: true, value: JSON.parse(t) }; } catch (e) { return { json: false, value: v }; }
  }

  function pretty(v) {
    if (typeof v === "string") return v;
    try { return JSON.stringify(v, null, 2); } catch (e) { return String(v); }
  }

  // Chat messages ------------------------------------------------------------------------------------------------

  /** One part of a message's content to {kind: "text"|"json", text}. */
  function part(p) {
    if (typeof p === "string") return { kind: "text", text: p };
    if (isObject(p)) {
      if (typeof p.text === "string" && (p.type === undefined || /text$/.test(String(p.type)))) return { kind: "text", text: p.text };
      if (p.type === "thinking" && typeof p.thinking === "string") return { kind: "thinking", text: p.thinking };
      if (typeof p.refusal === "string") return { kind: "text", text: p.refusal };
    }
    return { kind: "json", text: pretty(p) };
  }

  function parts(content) {
    if (content === undefined || content === null) return [];
    if (Array.isArray(content)) return content.map(part);
    return [part(content)];
  }

  function message(role, content, extra) {
    var ps = parts(content);
    (extra || []).forEach(function (x) { if (x !== undefined && x !== null) ps.push({ kind: "json", text: pretty(x) }); });
    return { role: typeof role === "string" ? role : "unknown", parts: ps };
  }

  function roleContentList(list) {
    if (!Array.isArray(list) || list.length === 0) return null;
    var out = [];
    for (var i = 0; i < list.length; i++) {
      var m = list[i];
      if (typeof m === "string") { out.push(message("user", m)); continue; }
      if (!isObject(m)) return null;
      if (typeof m.role === "string" && ("content" in m || "tool_calls" in m)) {
        out.push(message(m.role, m.content, [m.tool_calls, m.function_call]));
      } else if (typeof m.role === "string" && Array.isArray(m.parts)) {
        out.push(message(m.role, m.parts));
      } else if (typeof m.type === "string") {
        // An OpenAI Responses item that is not a message (function_call, reasoning, ...).
        out.push({ role: m.type, parts: [{ kind: "json", text: pretty(m) }] });
      } else return null;
    }
    return out;
  }

  function systemOf(system) {
    if (system === undefined || system === null) return [];
    if (isObject(system) && Array.isArray(system.parts)) return [message("system", system.parts)];
    return [message("system", system)];
  }

  /**
   * The messages in a request or response body, when it has any: OpenAI chat (messages / choices), OpenAI
   * Responses (input / output, instructions), Anthropic (system + messages / an assistant message), Gemini
   * (contents + systemInstruction / candidates), or a bare list of {role, content}. Null otherwise.
   */
  function chatMessages(v) {
    if (Array.isArray(v)) return roleContentList(v);
    if (!isObject(v)) return null;
    var out = null;
    if (Array.isArray(v.messages)) {
      var ms = roleContentList(v.messages);
      if (ms) out = systemOf(v.system).concat(ms);
    } else if (Array.isArray(v.contents)) {
      var cs = roleContentList(v.contents.map(function (c) { return isObject(c) && c.role === undefined ? Object.assign({ role: "user" }, c) : c; }));
      if (cs) out = systemOf(v.systemInstruction || v.system_instruction).concat(cs);
    } else if (typeof v.input === "string" || Array.isArray(v.input)) {
      var is = typeof v.input === "string" ? [message("user", v.input)] : roleContentList(v.input);
      if (is) out = (typeof v.instructions === "string" ? [message("system", v.instructions)] : []).concat(is);
    } else if (Array.isArray(v.choices)) {
      var ch = v.choices.map(function (c) { return isObject(c) ? c.message || c.delta : null; }).filter(isObject);
      if (ch.length > 0) out = roleContentList(ch);
    } else if (Array.isArray(v.output)) {
      out = roleContentList(v.output);
    } else if (Array.isArray(v.candidates)) {
      var cands = v.candidates.map(function (c) { return isObject(c) && isObject(c.content) ? Object.assign({ role: "model", parts: [] }, c.content) : null; }).filter(isObject);
      if (cands.length > 0) out = roleContentList(cands);
    } else if (typeof v.role === "string" && "content" in v) {
      out = [message(v.role, v.content)];
    }
    return out && out.length > 0 ? out : null;
  }

  // Usage --------------------------------------------------------------------------------------------------------

  /** A span's token usage from the GenAI attributes, or null when it reports none. */
  function usageOf(span) {
    var a = (span && span.attributes) || {};
    var keys = { input: A.inputTokens, output: A.outputTokens, cacheRead: A.cacheRead, cacheCreation: A.cacheCreation, reasoning: A.reasoning };
    var out = {}, any = false;
    Object.keys(keys).forEach(function (k) {
      var v = a[keys[k]];
      if (typeof v === "number" && isFinite(v)) { out[k] = v; any = true; } else out[k] = null;
    });
    return any ? out : null;
  }

  /** Total tokens of a usage entry: a number, or {input, output, ...} (cache and reasoning are inside these). */
  function tokenTotal(t) {
    if (typeof t === "number") return num(t);
    if (isObject(t)) return typeof t.total === "number" ? num(t.total) : num(t.input) + num(t.output);
    return 0;
  }

  // Formatting ---------------------------------------------------------------------------------------------------

  function formatMs(ms) {
    if (typeof ms !== "number" || !isFinite(ms)) return "–";
    if (ms < 1) return ms.toFixed(2) + " ms";
    if (ms < 1000) return (ms < 10 ? ms.toFixed(1) : Math.round(ms).toString()) + " ms";
    if (ms < 60000) return (ms / 1000).toFixed(2) + " s";
    return (ms / 60000).toFixed(1) + " min";
  }

  function formatCount(n) {
    if (typeof n !== "number" || !isFinite(n)) return "–";
    return Math.round(n).toLocaleString("en-US");
  }

  /** An ISO time as local "YYYY-MM-DD HH:MM:SS.mmm" (the list sorts by it; the day matters across midnight). */
  function formatTime(iso) {
    var d = new Date(iso);
    if (isNaN(d.getTime())) return typeof iso === "string" ? iso : "–";
    function p(n, w) { var s = String(n); while (s.length < w) s = "0" + s; return s; }
    return d.getFullYear() + "-" + p(d.getMonth() + 1, 2) + "-" + p(d.getDate(), 2) + " " +
      p(d.getHours(), 2) + ":" + p(d.getMinutes(), 2) + ":" + p(d.getSeconds(), 2) + "." + p(d.getMilliseconds(), 3);
  }

  // URLs ---------------------------------------------------------------------------------------------------------

  /** A query string of the non-empty values, in the given key order. */
  function query(params) {
    var out = [];
    Object.keys(params).forEach(function (k) {
      var v = params[k];
      if (v === undefined || v === null || v === "") return;
      out.push(encodeURIComponent(k) + "=" + encodeURIComponent(String(v)));
    });
    return out.length === 0 ? "" : "?" + out.join("&");
  }

  // Usage chart --------------------------------------------------------------------------------------------------

  var stepMs = { minute: 60000, hour: 3600000 };

  /**
   * Stacked bars per time bucket, one colour per key, for value(point). Buckets between the first and last one
   * (or box.from and box.to, epoch ms, when given: the whole range asked for) are filled in, at most maxBuckets
   * (the newest kept), so gaps show as gaps. Coordinates are in a width x height box with the given padding.
   */
  function chart(series, bucket, value, box) {
    var points = Array.isArray(series) ? series.filter(function (p) { return isObject(p) && !isNaN(new Date(p.time).getTime()); }) : [];
    var keys = [];
    points.forEach(function (p) { var k = String(p.key); if (keys.indexOf(k) === -1) keys.push(k); });
    keys.sort();
    var step = stepMs[bucket] || stepMs.minute;
    var times = points.map(function (p) { return Math.floor(new Date(p.time).getTime() / step) * step; });
    if (times.length === 0) return { keys: keys, buckets: [], bars: [], max: 0, plot: plotBox(box), totals: [] };
    // A reduce, not Math.min.apply: a long series would overflow the argument list.
    var first = times.reduce(function (a, b) { return Math.min(a, b); }), last = times.reduce(function (a, b) { return Math.max(a, b); });
    if (typeof box.from === "number" && isFinite(box.from)) first = Math.min(first, Math.floor(box.from / step) * step);
    if (typeof box.to === "number" && isFinite(box.to)) last = Math.max(last, Math.floor(box.to / step) * step);
    var maxBuckets = box.maxBuckets || 120;
    if ((last - first) / step + 1 > maxBuckets) first = last - (maxBuckets - 1) * step;
    var buckets = [];
    for (var t = first; t <= last; t += step) buckets.push(t);
    var sums = {};
    points.forEach(function (p, i) {
      var t = times[i];
      if (t < first) return;
      var id = t + "|" + String(p.key);
      sums[id] = (sums[id] || 0) + Math.max(0, value(p));
    });
    var totals = buckets.map(function (t) { return keys.reduce(function (s, k) { return s + (sums[t + "|" + k] || 0); }, 0); });
    var max = totals.reduce(function (a, b) { return Math.max(a, b); }, 0);
    var plot = plotBox(box);
    var slot = plot.width / buckets.length;
    var barWidth = Math.max(1, Math.min(40, slot * 0.8));
    var bars = [];
    buckets.forEach(function (t, bi) {
      var y = plot.y + plot.height;
      keys.forEach(function (k, ki) {
        var v = sums[t + "|" + k] || 0;
        if (v <= 0) return;
        var h = max > 0 ? v / max * plot.height : 0;
        y -= h;
        bars.push({ key: k, keyIndex: ki, time: t, value: v, x: plot.x + bi * slot + (slot - barWidth) / 2, y: y, width: barWidth, height: h });
      });
    });
    return { keys: keys, buckets: buckets, bars: bars, max: max, plot: plot, totals: totals };
  }

  function plotBox(box) {
    var pad = box.padding || { top: 10, right: 10, bottom: 24, left: 48 };
    return { x: pad.left, y: pad.top, width: box.width - pad.left - pad.right, height: box.height - pad.top - pad.bottom };
  }

  return {
    attributes: A,
    nanos: nanos,
    msBetween: msBetween,
    statusOf: statusOf,
    ttftMs: ttftMs,
    tree: tree,
    waterfall: waterfall,
    ticks: ticks,
    parseMaybeJson: parseMaybeJson,
    pretty: pretty,
    chatMessages: chatMessages,
    usageOf: usageOf,
    tokenTotal: tokenTotal,
    formatMs: formatMs,
    formatCount: formatCount,
    formatTime: formatTime,
    query: query,
    chart: chart
  };
})();
`
