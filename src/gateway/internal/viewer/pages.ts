/**
 * The viewer's HTML: one fixed shell per page. The shells hold no data (the script reads the trace API), so
 * nothing from a request is ever written into HTML; links are relative, so the viewer works mounted under a
 * prefix too.
 *
 * @internal
 */

/** A page of the viewer, and how deep its path is below the viewer's root (for relative links). */
export interface Page {
  readonly id: "list" | "trace" | "usage"
  readonly title: string
  readonly root: "./" | "../"
}

/** @internal */
export const pages = {
  list: { id: "list", title: "Traces", root: "./" },
  trace: { id: "trace", title: "Trace", root: "../" },
  usage: { id: "usage", title: "Usage", root: "./" }
} as const satisfies Record<string, Page>

/** The path of the script and of the stylesheet, below the viewer's root. */
export const assetPaths = { script: "viewer/app.js", style: "viewer/style.css" } as const

/** The HTML shell of `page` (constant per page). */
export const html = (page: Page): string =>
  `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${page.title} · effect-llm-trace</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${page.root}${assetPaths.style}">
<script src="${page.root}${assetPaths.script}" defer></script>
</head>
<body data-page="${page.id}" data-root="${page.root}">
<header class="top">
<span class="brand">effect-llm-trace</span>
<nav><a href="${page.root}" data-nav="list">Traces</a><a href="${page.root}usage" data-nav="usage">Usage</a></nav>
</header>
<main id="main"><noscript>The viewer needs JavaScript; the same data is at <a href="${page.root}api/traces">api/traces</a>.</noscript></main>
</body>
</html>
`
