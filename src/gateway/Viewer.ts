/**
 * The web viewer: a few pages that read the trace API (`/api/traces`, `/api/traces/:id`, `/api/usage`) and show
 *
 * - `/` — the trace list: start, endpoint, status, model, duration, TTFT, tokens, caller; filters by endpoint,
 *   status, model and kind; new traces arrive by polling (every 2 s while the tab is visible);
 * - `/traces/:id` — one trace (gateway or replayed copy): a waterfall of its spans on one time axis, nested by
 *   parent, coloured by status, with a first-chunk marker on streamed spans; the selected span's attributes, usage,
 *   events, and inputs / outputs as JSON and as chat messages;
 * - `/usage` — calls, errors and tokens per endpoint, model or caller, and over time as stacked-bar charts.
 *
 * Plain HTML, one script and one stylesheet, all served from here (`/viewer/app.js`, `/viewer/style.css`): no
 * build step, no CDN. The pages hold no data themselves; the data comes from the trace API with its own
 * authentication (the page asks for the gateway key when the API answers 401 and sends it as `x-api-key`). Every
 * response carries a strict Content-Security-Policy (scripts and styles from this origin only, no inline script,
 * no framing) and `nosniff`.
 *
 * The gateway serves it: `Routes.router` includes these routes, behind the same Host/Origin guard as the API. To
 * serve the viewer without the passthrough routes, concat `Viewer.router` with `TraceApi.router` in your own
 * server. Links are relative, so both may be mounted under one prefix (open the viewer at `<prefix>/`, with the
 * trailing slash).
 *
 * @since 0.2.0
 */
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Effect from "effect/Effect"
import { app } from "./internal/viewer/app.js"
import { lib } from "./internal/viewer/lib.js"
import * as Pages from "./internal/viewer/pages.js"
import { css } from "./internal/viewer/style.js"

/**
 * The policy every viewer response carries: only this origin's script and stylesheet, `fetch` to this origin,
 * no plugins, no framing, no `<base>` rewriting, forms only to this origin.
 *
 * @since 0.2.0
 * @category constants
 */
export const contentSecurityPolicy =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

const securityHeaders = {
  "content-security-policy": contentSecurityPolicy,
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
  // Small, and changes with the package version: revalidate rather than serve a stale script.
  "cache-control": "no-cache"
} as const

const respond = (body: string, contentType: string) =>
  Effect.succeed(HttpServerResponse.text(body, { contentType, headers: securityHeaders }))

const page = (p: Pages.Page) => respond(Pages.html(p), "text/html; charset=utf-8")

/**
 * The list, at the viewer's root. Mounted under a prefix, `<prefix>` without its slash would resolve the page's
 * relative links against the parent path: it redirects to `<prefix>/`. The location is relative (`./<last
 * segment>/`), so no request path can make it point at another host.
 */
const root = Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) => {
  const query = request.originalUrl.indexOf("?")
  const path = query === -1 ? request.originalUrl : request.originalUrl.slice(0, query)
  if (path.endsWith("/")) return page(Pages.pages.list)
  const last = path.slice(path.lastIndexOf("/") + 1)
  return Effect.succeed(HttpServerResponse.empty({
    status: 308,
    headers: { ...securityHeaders, location: `./${last}/${query === -1 ? "" : request.originalUrl.slice(query)}` }
  }))
})

/**
 * The viewer's routes: `GET /`, `/traces/:traceId`, `/usage`, `/viewer/app.js`, `/viewer/style.css`. It needs
 * nothing from the context; the pages need the trace API beside them (`Routes.router`).
 *
 * @since 0.2.0
 * @category routers
 */
export const router: HttpRouter.HttpRouter = HttpRouter.empty.pipe(
  HttpRouter.get("/", root),
  HttpRouter.get("/traces/:traceId", page(Pages.pages.trace)),
  HttpRouter.get("/usage", page(Pages.pages.usage)),
  HttpRouter.get(`/${Pages.assetPaths.script}`, respond(`${lib}\n${app}`, "text/javascript; charset=utf-8")),
  HttpRouter.get(`/${Pages.assetPaths.style}`, respond(css, "text/css; charset=utf-8"))
)
