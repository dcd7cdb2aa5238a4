/**
 * `GET /metrics`: everything the {@link Metrics.Metrics} service recorded, in the Prometheus text format 0.0.4 —
 * the GenAI client histograms and `http.server.request.duration` — for a Prometheus scrape. The same keys as the
 * trace API (`authorization: Bearer <key>`, `x-api-key` or `x-goog-api-key` when the gateway has keys; a 401 JSON
 * body otherwise). 404 JSON when metrics are disabled, 503 JSON when collection failed.
 *
 * @since 0.2.0
 */
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Metrics from "../tracing/Metrics.js"
import * as Dialect from "./Dialect.js"
import { Gateway } from "./Gateway.js"

/**
 * The content type of the Prometheus text exposition format.
 *
 * @since 0.2.0
 * @category constants
 */
export const prometheusContentType = "text/plain; version=0.0.4; charset=utf-8"

const error = (status: number, type: string, message: string) =>
  HttpServerResponse.unsafeJson(Dialect.errorBody(undefined, status, message, type), { status })

const scrape = Effect.gen(function*() {
  const request = yield* HttpServerRequest.HttpServerRequest
  const gateway = yield* Gateway
  if (Option.isNone(gateway.authenticate(request.headers))) {
    return error(401, "authentication_error", "missing or unknown gateway key")
  }
  const metrics = Option.getOrElse(yield* Effect.serviceOption(Metrics.Metrics), () => Metrics.noop)
  return yield* metrics.prometheus.pipe(
    Effect.map(Option.match({
      onNone: () => error(404, "not_found", "metrics are disabled (config \"metrics\": { \"enabled\": false })"),
      onSome: (text) => HttpServerResponse.text(text, { contentType: prometheusContentType })
    })),
    Effect.catchTag("MetricsError", (e) =>
      Effect.as(Effect.logWarning("effect-llm-trace: /metrics", e.message), error(503, "unavailable", e.message)))
  )
})

/**
 * The `/metrics` router: mount it next to the gateway routes (`HttpRouter.concat`). It needs `Gateway` (for the
 * keys) and, optionally, `Metrics` (without it, `/metrics` answers 404: metrics are off).
 *
 * @since 0.2.0
 * @category routers
 */
export const router = HttpRouter.empty.pipe(HttpRouter.get("/metrics", scrape))
