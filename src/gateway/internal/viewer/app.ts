/**
 * The viewer's page script, as browser JavaScript served after `lib` (see `lib.ts`). It reads the JSON API and
 * builds the pages with DOM calls only: every value from a trace goes in through `textContent` or
 * `setAttribute` of a fixed attribute name, never through `innerHTML` (attribute values are untrusted). Links it
 * makes point at this viewer's own pages, built from `encodeURIComponent` of ids.
 *
 * The gateway key, when the trace API asks for one (401), is typed once into a form and kept in `sessionStorage`;
 * it is sent as `x-api-key`, the trace API's own authentication.
 *
 * @internal
 */
export const app = String.raw`
(function () {
  "use strict";
  var L = ViewerLib;
  var A = L.attributes;
  var body = document.body;
  var root = body.getAttribute("data-root") || "./";
  var page = body.getAttribute("data-page");
  var main = document.getElementById("main");
  var keyStorage = "effect-llm-trace.gateway-key";
  var svgNs = "http://www.w3.org/2000/svg";

  // DOM helpers -------------------------------------------------------------------------------------------------

  /** An element with fixed attribute names; children are nodes or strings (as text). */
  function h(tag, attrs, children) {
    var e = document.createElement(tag);
    setAttrs(e, attrs);
    append(e, children);
    return e;
  }
  function s(tag, attrs, children) {
    var e = document.createElementNS(svgNs, tag);
    setAttrs(e, attrs);
    append(e, children);
    return e;
  }
  function setAttrs(e, attrs) {
    if (!attrs) return;
    Object.keys(attrs).forEach(function (k) {
      var v = attrs[k];
      if (v === undefined || v === null || v === false) return;
      if (k === "class") e.setAttribute("class", String(v));
      else if (k.slice(0, 2) === "on") e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v === true ? "" : String(v));
    });
  }
  function append(e, children) {
    if (children === undefined || children === null) return;
    (Array.isArray(children) ? children : [children]).forEach(function (c) {
      if (c === undefined || c === null || c === false) return;
      e.appendChild(typeof c === "string" || typeof c === "number" ? document.createTextNode(String(c)) : c);
    });
  }
  function clear(e) { while (e.firstChild) e.removeChild(e.firstChild); }
  function replace(e, children) { clear(e); append(e, children); }

  function badge(status) { return h("span", { class: "badge badge-" + status, "data-status": status }, status); }
  function traceHref(id) { return root + "traces/" + encodeURIComponent(id); }

  // API ---------------------------------------------------------------------------------------------------------

  function ApiError(status, message) { this.status = status; this.message = message; }

  function api(path) {
    var headers = { accept: "application/json" };
    var key = sessionStorage.getItem(keyStorage);
    if (key) headers["x-api-key"] = key;
    return fetch(root + path, { headers: headers, cache: "no-store", credentials: "omit" }).then(function (r) {
      return r.json().catch(function () { return null; }).then(function (json) {
        if (r.ok) return json;
        var msg = json && json.error && typeof json.error.message === "string" ? json.error.message : "HTTP " + r.status;
        throw new ApiError(r.status, msg);
      });
    });
  }

  var keyForm = null;
  /** A 401 asks for the gateway key; an error is shown in place of the page's content. */
  function failed(error, where) {
    if (error instanceof ApiError && error.status === 401) return askKey();
    replace(where || main, h("p", { class: "error", role: "alert" }, "Could not load: " + (error && error.message ? error.message : String(error))));
  }
  function askKey() {
    if (keyForm) return;
    var input = h("input", { type: "password", name: "key", autocomplete: "off", "aria-label": "Gateway key", placeholder: "gateway key" });
    keyForm = h("form", { class: "key-form", onsubmit: function (ev) {
      ev.preventDefault();
      sessionStorage.setItem(keyStorage, input.value);
      location.reload();
    } }, [h("span", null, "This gateway needs a key to read traces: "), input, h("button", { type: "submit" }, "Use key")]);
    main.insertBefore(keyForm, main.firstChild);
  }

  // The trace list ----------------------------------------------------------------------------------------------

  function listPage() {
    var params = new URLSearchParams(location.search);
    var filters = {
      endpoint: params.get("endpoint") || "",
      status: params.get("status") || "",
      model: params.get("model") || "",
      kind: params.get("kind") || ""
    };
    var rows = [];       // summaries shown, newest first
    var known = {};      // traceId -> summary
    var cursor = null;
    var fresh = {};      // traceIds that arrived by refresh, highlighted once

    function field(name, label, control) {
      return h("label", { class: "field" }, [h("span", null, label), control]);
    }
    function text(name) {
      return h("input", { type: "search", name: name, value: filters[name], "data-filter": name, oninput: debounce(function (ev) { setFilter(name, ev.target.value); }, 250) });
    }
    function select(name, options) {
      var sel = h("select", { name: name, "data-filter": name, onchange: function (ev) { setFilter(name, ev.target.value); } },
        options.map(function (o) { return h("option", { value: o[0] }, o[1]); }));
      sel.value = filters[name];
      return sel;
    }
    var auto = h("input", { type: "checkbox", name: "auto", checked: true, onchange: function () { schedule(); } });
    var counter = h("span", { class: "count", "data-count": "0" });
    var tbody = h("tbody");
    var more = h("button", { type: "button", class: "more", hidden: true, onclick: loadMore }, "Load older traces");
    var table = h("table", { class: "traces" }, [
      h("thead", null, h("tr", null, ["Start", "Endpoint", "Status", "Model", "Duration", "TTFT", "Tokens in", "Tokens out", "Cache", "Reasoning", "Caller", "Spans"].map(function (t) { return h("th", null, t); }))),
      tbody
    ]);
    replace(main, [
      h("form", { class: "filters", role: "search", onsubmit: function (ev) { ev.preventDefault(); } }, [
        field("endpoint", "Endpoint", text("endpoint")),
        field("status", "Status", select("status", [["", "any"], ["ok", "ok"], ["error", "error"], ["unset", "unset"], ["in_progress", "in progress"]])),
        field("model", "Model", text("model")),
        field("kind", "Kind", select("kind", [["", "gateway + replay"], ["gateway", "gateway"], ["replay", "replay"]])),
        h("label", { class: "field auto" }, [auto, h("span", null, "Auto-refresh")]),
        counter
      ]),
      table,
      more
    ]);

    function setFilter(name, value) {
      filters[name] = value;
      var q = L.query(filters);
      history.replaceState(null, "", location.pathname + q);
      rows = []; known = {}; cursor = null; fresh = {};
      generation++;
      load(false);
    }

    function apiQuery(extra) {
      return "api/traces" + L.query(Object.assign({ endpoint: filters.endpoint, status: filters.status, model: filters.model, kind: filters.kind }, extra));
    }

    var generation = 0; // bumped when the filters change: answers to older queries are dropped
    /**
     * The first page; on refresh, new traces are merged in on top and the rows already shown are updated. When a
     * refreshed page shares no trace with the list, more arrived than a page holds: the list restarts from it
     * (its cursor reaches the rest), rather than leave a gap no cursor would fill.
     */
    function load(refresh) {
      var mine = generation;
      return api(apiQuery({ limit: 50 })).then(function (page) {
        if (mine !== generation) return;
        var traces = page && Array.isArray(page.traces) ? page.traces : [];
        var overlaps = traces.some(function (t) { return t && known[t.traceId]; });
        var restart = refresh && !overlaps && traces.length > 0;
        if (restart) { rows = []; known = {}; }
        if (!refresh || restart) cursor = page.nextCursor || null;
        traces.forEach(function (t) {
          if (!t || typeof t.traceId !== "string") return;
          if (!known[t.traceId]) { rows.push(t); if (refresh) fresh[t.traceId] = true; }
          else rows[rows.indexOf(known[t.traceId])] = t;
          known[t.traceId] = t;
        });
        rows.sort(function (a, b) { return a.startTime < b.startTime ? 1 : a.startTime > b.startTime ? -1 : 0; });
        render();
      }, function (e) { if (mine === generation) failed(e, tbody); });
    }

    function loadMore() {
      if (!cursor) return;
      var mine = generation;
      api(apiQuery({ limit: 50, cursor: cursor })).then(function (page) {
        if (mine !== generation) return;
        cursor = page.nextCursor || null;
        (page.traces || []).forEach(function (t) { if (t && !known[t.traceId]) { rows.push(t); known[t.traceId] = t; } });
        render();
      }, function (e) { failed(e); });
    }

    function render() {
      replace(tbody, rows.length === 0
        ? h("tr", { class: "empty" }, h("td", { colspan: 12 }, "No traces yet. Calls through the gateway appear here."))
        : rows.map(row));
      fresh = {};
      counter.textContent = rows.length + (cursor ? "+" : "") + " traces";
      counter.setAttribute("data-count", String(rows.length));
      more.hidden = !cursor;
    }

    function row(t) {
      var tokens = t.tokens || {};
      var models = (t.models || []).join(", ");
      var providers = (t.providers || []).join(", ");
      // The whole row opens the trace (the time cell is the link, for keyboards and new tabs).
      var open = function (ev) { if (!ev.target.closest("a") && !(window.getSelection() || "").toString()) location.href = traceHref(t.traceId); };
      return h("tr", { class: "trace-row" + (fresh[t.traceId] ? " fresh" : ""), "data-trace-id": t.traceId, "data-status": t.status, "data-kind": t.kind, onclick: open }, [
        h("td", { class: "time" }, h("a", { href: traceHref(t.traceId) }, L.formatTime(t.startTime))),
        h("td", { class: "endpoint" }, [t.endpoint === null || t.endpoint === undefined ? h("span", { class: "muted" }, "–") : String(t.endpoint),
          t.kind === "replay" ? h("span", { class: "tag" }, "replay") : null,
          t.streamed ? h("span", { class: "tag" }, "stream") : null]),
        h("td", { class: "status" }, [badge(t.status), t.statusCode ? h("span", { class: "code" }, String(t.statusCode)) : null,
          t.errorType && String(t.errorType) !== String(t.statusCode) ? h("span", { class: "error-type" }, String(t.errorType)) : null]),
        h("td", { class: "model", title: providers }, models || "–"),
        h("td", { class: "num duration" }, L.formatMs(t.durationMs)),
        h("td", { class: "num ttft" }, t.ttftMs === null || t.ttftMs === undefined ? "–" : L.formatMs(t.ttftMs)),
        h("td", { class: "num tokens-in" }, L.formatCount(tokens.input)),
        h("td", { class: "num tokens-out" }, L.formatCount(tokens.output)),
        h("td", { class: "num" }, L.formatCount(tokens.cacheRead) + " / " + L.formatCount(tokens.cacheCreation)),
        h("td", { class: "num" }, L.formatCount(tokens.reasoning)),
        h("td", { class: "caller" }, t.caller ? String(t.caller) : "–"),
        h("td", { class: "num" }, L.formatCount(t.spanCount))
      ]);
    }

    var timer = null;
    /** Polls the first page every 2 s while the box is ticked and the tab is visible. */
    function schedule() {
      if (timer) clearTimeout(timer);
      timer = null;
      if (!auto.checked) return;
      timer = setTimeout(function () {
        if (document.hidden) return schedule();
        load(true).then(schedule, schedule);
      }, 2000);
    }
    document.addEventListener("visibilitychange", function () { if (!document.hidden) schedule(); });
    load(false).then(schedule, schedule);
  }

  function debounce(f, ms) {
    var t = null;
    return function (ev) { if (t) clearTimeout(t); t = setTimeout(function () { f(ev); }, ms); };
  }

  // One trace ---------------------------------------------------------------------------------------------------

  function tracePage() {
    var raw = location.pathname.replace(/\/+$/, "").split("/").pop() || "";
    var id;
    try { id = decodeURIComponent(raw); } catch (e) { id = raw; } // a malformed %-escape is not fatal
    document.title = "Trace " + id + " · effect-llm-trace";
    replace(main, h("p", { class: "muted" }, "Loading trace " + id + "…"));
    api("api/traces/" + encodeURIComponent(id)).then(function (trace) { renderTrace(trace); }, function (e) { failed(e); });
  }

  function renderTrace(trace) {
    var spans = Array.isArray(trace && trace.spans) ? trace.spans : [];
    var summary = trace.summary || {};
    var wf = L.waterfall(spans);
    var details = h("section", { class: "details", "aria-live": "polite" });
    var selected = null;
    var rowEls = [];

    function select(i) {
      if (selected !== null && rowEls[selected]) rowEls[selected].classList.remove("selected");
      selected = i;
      rowEls[i].classList.add("selected");
      rowEls[i].setAttribute("aria-selected", "true");
      replace(details, spanDetails(wf.rows[i], wf));
    }

    var axis = h("div", { class: "axis" }, L.ticks(wf.totalMs, 6).map(function (t) {
      var tick = h("span", { class: "tick" }, L.formatMs(t));
      tick.style.left = (wf.totalMs > 0 ? t / wf.totalMs * 100 : 0) + "%";
      return tick;
    }));
    var rowsEl = h("div", { class: "waterfall", role: "listbox", "aria-label": "Spans" }, wf.rows.map(function (r, i) {
      var bar = h("span", { class: "bar bar-" + r.status, title: L.formatMs(r.durationMs) });
      bar.style.left = r.leftPct + "%";
      bar.style.width = "max(2px, " + r.widthPct + "%)";
      var track = h("span", { class: "track" }, [bar]);
      if (r.ttftPct !== null) {
        var mark = h("span", { class: "ttft-mark", title: "first chunk after " + L.formatMs(r.ttftMs) });
        mark.style.left = r.ttftPct + "%";
        track.appendChild(mark);
      }
      var label = h("span", { class: "label" }, [h("span", { class: "name" }, r.span.name), h("span", { class: "dur" }, L.formatMs(r.durationMs))]);
      label.style.paddingLeft = (0.4 + r.depth * 1.2) + "em";
      var el = h("div", { class: "span-row", role: "option", tabindex: "0", "data-span-id": r.span.spanId, "data-depth": r.depth, "data-status": r.status,
        onclick: function () { select(i); },
        onkeydown: function (ev) {
          if (ev.key === "ArrowDown" && i + 1 < rowEls.length) { rowEls[i + 1].focus(); select(i + 1); ev.preventDefault(); }
          if (ev.key === "ArrowUp" && i > 0) { rowEls[i - 1].focus(); select(i - 1); ev.preventDefault(); }
          if (ev.key === "Enter" || ev.key === " ") { select(i); ev.preventDefault(); }
        } }, [label, track]);
      rowEls.push(el);
      return el;
    }));

    replace(main, [
      traceHeader(trace, summary, spans, wf.totalMs),
      spans.length === 0 ? h("p", { class: "muted" }, "This trace has no stored spans.") : h("section", { class: "waterfall-box" }, [
        h("div", { class: "waterfall-head" }, [h("span", { class: "label" }, "Span"), axis]),
        rowsEl
      ]),
      details
    ]);
    if (rowEls.length > 0) select(0);
  }

  function traceHeader(trace, summary, spans, wfTotal) {
    var tokens = summary.tokens || {};
    var linked = null;
    spans.forEach(function (sp) { var v = sp.attributes && sp.attributes[A.linked]; if (typeof v === "string" && v !== trace.traceId) linked = v; });
    var facts = [
      ["Trace", trace.traceId],
      ["Kind", summary.kind],
      ["Endpoint", summary.endpoint],
      ["Status", summary.status ? badge(summary.status) : null],
      ["HTTP status", summary.statusCode],
      ["Error", summary.errorType],
      ["Start", summary.startTime ? L.formatTime(summary.startTime) : null],
      ["Duration", L.formatMs(typeof summary.durationMs === "number" ? summary.durationMs : wfTotal)],
      ["TTFT", summary.ttftMs === null || summary.ttftMs === undefined ? null : L.formatMs(summary.ttftMs)],
      ["Providers", (summary.providers || []).join(", ")],
      ["Models", (summary.models || []).join(", ")],
      ["Tokens", summary.tokens ? L.formatCount(tokens.input) + " in · " + L.formatCount(tokens.output) + " out · " + L.formatCount(tokens.cacheRead) + " cache read · " + L.formatCount(tokens.cacheCreation) + " cache write · " + L.formatCount(tokens.reasoning) + " reasoning" : null],
      ["Caller", summary.caller],
      ["Streamed", summary.streamed === undefined ? null : summary.streamed ? "yes" : "no"],
      ["Gateway trace", linked ? h("a", { href: traceHref(linked), class: "linked" }, linked) : null]
    ];
    var meta = trace.metadata || {};
    return h("section", { class: "trace-head" }, [
      h("h1", null, ["Trace ", h("code", null, trace.traceId)]),
      h("dl", { class: "facts" }, facts.filter(function (f) { return f[1] !== null && f[1] !== undefined && f[1] !== ""; }).map(function (f) {
        return h("div", null, [h("dt", null, f[0]), h("dd", { "data-fact": f[0] }, typeof f[1] === "object" ? f[1] : String(f[1]))]);
      })),
      Object.keys(meta).length === 0 ? null : h("details", { class: "metadata" }, [h("summary", null, "Trace metadata"), kvTable(meta)])
    ]);
  }

  /** Keys sorted unless the caller's order matters (keep). */
  function kvTable(obj, keep) {
    var keys = Object.keys(obj);
    if (!keep) keys.sort();
    return h("table", { class: "kv" }, h("tbody", null, keys.map(function (k) {
      return h("tr", null, [h("th", null, k), h("td", null, value(obj[k]))]);
    })));
  }

  /** An attribute value: JSON text shown pretty, anything else as text. */
  function value(v) {
    var parsed = L.parseMaybeJson(v);
    if (parsed.json && typeof parsed.value === "object" && parsed.value !== null) return h("pre", { class: "json" }, L.pretty(parsed.value));
    return h("span", { class: "value" }, typeof v === "string" ? v : L.pretty(v));
  }

  function spanDetails(r, wf) {
    var sp = r.span;
    var attrs = sp.attributes || {};
    var usage = L.usageOf(sp);
    var rest = {};
    Object.keys(attrs).forEach(function (k) { if (k !== A.inputs && k !== A.outputs) rest[k] = attrs[k]; });
    var general = {
      "span id": sp.spanId,
      "parent": sp.parentSpanId === null ? "(none)" : sp.parentSpanId,
      "kind": sp.kind,
      "status": sp.status && sp.status.message ? sp.status.code + ": " + sp.status.message : sp.status && sp.status.code,
      "starts at": "+" + L.formatMs(r.offsetMs),
      "duration": L.formatMs(r.durationMs)
    };
    if (r.ttftMs !== null) general["first chunk"] = L.formatMs(r.ttftMs);
    return [
      h("h2", null, [sp.name, " ", badge(r.status)]),
      kvTable(general, true),
      usage ? h("section", { class: "usage" }, [h("h3", null, "Usage"), h("table", { class: "kv usage-table" }, h("tbody", null,
        [["input", usage.input], ["output", usage.output], ["cache read", usage.cacheRead], ["cache write", usage.cacheCreation], ["reasoning", usage.reasoning]]
          .filter(function (u) { return u[1] !== null; })
          .map(function (u) { return h("tr", null, [h("th", null, u[0]), h("td", { class: "num" }, L.formatCount(u[1]))]); })))]) : null,
      payload("Inputs", attrs[A.inputs], attrs[A.inputsFromParent] === true ? "Only what the gateway changed; the rest is the parent span's inputs." : null),
      payload("Outputs", attrs[A.outputs], null),
      h("section", { class: "attributes" }, [h("h3", null, "Attributes"), kvTable(rest)]),
      events(sp, wf)
    ];
  }

  /** Inputs or outputs: as chat messages when they look like messages, and always as JSON. */
  function payload(title, raw, note) {
    if (raw === undefined) return null;
    var parsed = L.parseMaybeJson(raw);
    var messages = parsed.json ? L.chatMessages(parsed.value) : null;
    return h("section", { class: "payload", "data-payload": title.toLowerCase() }, [
      h("h3", null, title),
      note ? h("p", { class: "muted" }, note) : null,
      messages ? h("div", { class: "chat" }, messages.map(function (m) {
        return h("div", { class: "msg msg-" + (/^[a-z_]+$/.test(m.role) ? m.role : "other"), "data-role": m.role },
          [h("div", { class: "role" }, m.role)].concat(m.parts.map(function (p) {
            return h(p.kind === "json" ? "pre" : "div", { class: "part part-" + p.kind }, p.text);
          })));
      })) : null,
      h("details", { class: "json-box", open: messages ? false : true }, [h("summary", null, "JSON"), h("pre", { class: "json" }, L.pretty(parsed.value))])
    ]);
  }

  function events(sp, wf) {
    var list = Array.isArray(sp.events) ? sp.events : [];
    if (list.length === 0) return null;
    return h("section", { class: "events" }, [
      h("h3", null, "Events (" + list.length + ")"),
      h("ol", null, list.map(function (ev) {
        var attrs = ev.attributes || {};
        return h("li", null, [
          h("span", { class: "event-name" }, ev.name), " ",
          h("span", { class: "muted" }, "+" + L.formatMs(L.msBetween(sp.startTimeUnixNano, ev.timeUnixNano))),
          Object.keys(attrs).length ? kvTable(attrs) : null
        ]);
      }))
    ]);
  }

  // Usage -------------------------------------------------------------------------------------------------------

  var palette = ["#2563eb", "#d97706", "#059669", "#db2777", "#7c3aed", "#0891b2", "#65a30d", "#dc2626", "#4b5563", "#ca8a04"];

  function usagePage() {
    var params = new URLSearchParams(location.search);
    var state = { groupBy: params.get("groupBy") || "endpoint", bucket: params.get("bucket") || "minute", range: params.get("range") || "1h" };
    var ranges = { "15m": 900e3, "1h": 3600e3, "6h": 21600e3, "24h": 86400e3, "7d": 604800e3 };
    function select(name, options) {
      var sel = h("select", { name: name, onchange: function (ev) { state[name] = ev.target.value; history.replaceState(null, "", location.pathname + L.query(state)); load(); } },
        options.map(function (o) { return h("option", { value: o[0] }, o[1]); }));
      sel.value = state[name];
      return sel;
    }
    var out = h("div", { class: "usage-out" });
    replace(main, [
      h("form", { class: "filters", onsubmit: function (ev) { ev.preventDefault(); } }, [
        h("label", { class: "field" }, [h("span", null, "Group by"), select("groupBy", [["endpoint", "endpoint"], ["model", "model"], ["caller", "caller"]])]),
        h("label", { class: "field" }, [h("span", null, "Bucket"), select("bucket", [["minute", "minute"], ["hour", "hour"]])]),
        h("label", { class: "field" }, [h("span", null, "Range"), select("range", Object.keys(ranges).map(function (r) { return [r, "last " + r]; }))])
      ]),
      out
    ]);
    function load() {
      var now = Date.now();
      var since = now - (ranges[state.range] || ranges["1h"]);
      var shown = { groupBy: state.groupBy, bucket: state.bucket, from: since, to: now };
      api("api/usage" + L.query({ since: new Date(since).toISOString(), groupBy: state.groupBy, bucket: state.bucket })).then(function (u) { renderUsage(out, u, shown); }, function (e) { failed(e, out); });
    }
    load();
  }

  function renderUsage(out, u, state) {
    var groups = Array.isArray(u && u.groups) ? u.groups : [];
    var series = Array.isArray(u && u.series) ? u.series : [];
    var keys = groups.map(function (g) { return String(g.key); }).sort();
    function colour(k) { var i = keys.indexOf(k); return palette[(i === -1 ? 0 : i) % palette.length]; }
    var part = function (t, k) { return t && typeof t === "object" ? t[k] : undefined; };
    replace(out, [
      h("table", { class: "usage-groups" }, [
        h("thead", null, h("tr", null, [state.groupBy, "Calls", "Errors", "Tokens in", "Tokens out", "Tokens total"].map(function (t) { return h("th", null, t); }))),
        h("tbody", null, groups.length === 0 ? h("tr", null, h("td", { colspan: 6 }, "No calls in this range.")) : groups.map(function (g) {
          var key = String(g.key);
          return h("tr", { class: "usage-row", "data-key": key }, [
            h("td", null, [h("span", { class: "swatch", "data-colour": colour(key) }), key]),
            h("td", { class: "num calls" }, L.formatCount(g.calls)),
            h("td", { class: "num errors" }, L.formatCount(g.errors)),
            h("td", { class: "num" }, L.formatCount(part(g.tokens, "input"))),
            h("td", { class: "num" }, L.formatCount(part(g.tokens, "output"))),
            h("td", { class: "num tokens" }, L.formatCount(L.tokenTotal(g.tokens)))
          ]);
        }))
      ]),
      chartFigure("Tokens per " + state.bucket, series, state, function (p) { return L.tokenTotal(p.tokens); }, colour, "tokens"),
      chartFigure("Calls per " + state.bucket, series, state, function (p) { return typeof p.calls === "number" ? p.calls : 0; }, colour, "calls")
    ]);
    // Colours are data-driven: set through the CSSOM (allowed by the page's CSP), not inline style attributes.
    Array.prototype.forEach.call(out.querySelectorAll(".swatch[data-colour]"), function (e) { e.style.background = e.getAttribute("data-colour"); });
  }

  function chartFigure(title, series, state, valueOf, colour, name) {
    var bucket = state.bucket;
    // The whole range asked for is the time axis; a minute per bar over 7 days keeps the newest 1500.
    var box = { width: 720, height: 180, from: state.from, to: state.to, maxBuckets: 1500 };
    var c = L.chart(series, bucket, valueOf, box);
    var svg = s("svg", { viewBox: "0 0 " + box.width + " " + box.height, class: "chart", role: "img", "aria-label": title, "data-chart": name });
    var p = c.plot;
    svg.appendChild(s("line", { x1: p.x, y1: p.y + p.height, x2: p.x + p.width, y2: p.y + p.height, class: "axis-line" }));
    svg.appendChild(s("line", { x1: p.x, y1: p.y, x2: p.x, y2: p.y + p.height, class: "axis-line" }));
    svg.appendChild(s("text", { x: p.x - 6, y: p.y + 4, class: "axis-label", "text-anchor": "end" }, L.formatCount(c.max)));
    svg.appendChild(s("text", { x: p.x - 6, y: p.y + p.height, class: "axis-label", "text-anchor": "end" }, "0"));
    if (c.buckets.length > 0) {
      var fmt = function (t) { var d = new Date(t); return (bucket === "hour" ? (d.getMonth() + 1) + "/" + d.getDate() + " " : "") + String(d.getHours()).padStart(2, "0") + ":" + String(d.getMinutes()).padStart(2, "0"); };
      svg.appendChild(s("text", { x: p.x, y: box.height - 6, class: "axis-label" }, fmt(c.buckets[0])));
      if (c.buckets.length > 2) svg.appendChild(s("text", { x: p.x + p.width / 2, y: box.height - 6, class: "axis-label", "text-anchor": "middle" }, fmt(c.buckets[Math.floor(c.buckets.length / 2)])));
      if (c.buckets.length > 1) svg.appendChild(s("text", { x: p.x + p.width, y: box.height - 6, class: "axis-label", "text-anchor": "end" }, fmt(c.buckets[c.buckets.length - 1])));
    }
    c.bars.forEach(function (b) {
      var rect = s("rect", { x: b.x.toFixed(2), y: b.y.toFixed(2), width: b.width.toFixed(2), height: Math.max(0.5, b.height).toFixed(2), fill: colour(b.key), class: "bar-rect", "data-key": b.key, "data-value": b.value },
        s("title", null, b.key + ": " + L.formatCount(b.value) + " at " + new Date(b.time).toLocaleString()));
      svg.appendChild(rect);
    });
    var legend = h("ul", { class: "legend" }, c.keys.map(function (k) {
      var sw = h("span", { class: "swatch" });
      sw.style.background = colour(k);
      return h("li", null, [sw, k]);
    }));
    return h("figure", { class: "chart-box" }, [h("figcaption", null, title), c.bars.length === 0 ? h("p", { class: "muted" }, "No data in this range.") : svg, legend]);
  }

  // Start ---------------------------------------------------------------------------------------------------------

  var nav = document.querySelectorAll("nav a[data-nav]");
  Array.prototype.forEach.call(nav, function (a) { if (a.getAttribute("data-nav") === page) a.setAttribute("aria-current", "page"); });
  if (page === "list") listPage();
  else if (page === "trace") tracePage();
  else if (page === "usage") usagePage();
})();
`
