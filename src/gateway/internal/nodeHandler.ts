/**
 * The gateway server's Node request listener. A passthrough route runs straight from Node's request event as one
 * fiber (guard, passthrough, answer, in one scope); any other request goes to the platform's handler for
 * `Routes.httpApp`. The platform's way costs a request wrapper, the router, middleware and context patches per
 * request — more CPU than a whole proxy hop — for routes that only need the Node request and response.
 *
 * Semantics stay the platform's: a client that goes away interrupts the request's fiber (so the upstream request
 * is aborted and the spans end as cancelled), and the drain counts the fiber as in flight.
 *
 * @internal
 */
import * as HttpServerError from "@effect/platform/HttpServerError"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import type * as Fiber from "effect/Fiber"
import * as Runtime from "effect/Runtime"
import type { IncomingMessage, ServerResponse } from "node:http"
import * as Gateway from "../Gateway.js"
import * as Passthrough from "./passthrough.js"

/** A Node `request` listener. @internal */
export type Listener = (request: IncomingMessage, response: ServerResponse) => void

/** One passthrough request: guard, route, answer; a defect is a 500 (or a cut connection once the head is out). */
const serve = (route: Passthrough.Route | Passthrough.Json, request: IncomingMessage, response: ServerResponse) =>
  Effect.flatMap(Gateway.Gateway, (gateway) =>
    Effect.flatMap(Passthrough.guard(request.method, request.headers, gateway), (refused) => {
      if (refused !== undefined) return Effect.succeed<Passthrough.Answer>(refused)
      return route._tag === "Json" ? Effect.succeed<Passthrough.Answer>(route) : Passthrough.passthrough(route.dialect, route.targetOf, request, response)
    })).pipe(
      Effect.map((answer) => {
        if (answer._tag === "Json") Passthrough.writeJson(response, answer)
      }),
      Effect.scoped,
      Effect.catchAllCause((cause) =>
        Cause.isInterruptedOnly(cause) ? Effect.void : Effect.zipRight(
          Effect.logError("gateway request failed", cause),
          Effect.sync(() => {
            if (response.headersSent) return void response.destroy()
            Passthrough.writeJson(response, Passthrough.errorAnswer(undefined, 500, "internal gateway error"))
          })
        )
      )
    )

/**
 * The listener: passthrough routes here, the rest to `fallback` (the platform's handler). `track` sees each
 * request fiber (the drain's count of requests in flight).
 *
 * @internal
 */
export const make = (
  fallback: Listener,
  track: (fiber: Fiber.RuntimeFiber<void>) => void
): Effect.Effect<Listener, never, Gateway.Gateway> =>
  Effect.map(Effect.runtime<Gateway.Gateway>(), (runtime) => {
    const runFork = Runtime.runFork(runtime)
    return (request, response) => {
      const route = request.method === "POST" && request.url !== undefined ? Passthrough.match(request.url) : undefined
      if (route === undefined) return fallback(request, response)
      const fiber = runFork(serve(route, request, response))
      track(fiber)
      response.on("close", () => {
        if (!response.writableEnded) fiber.unsafeInterruptAsFork(HttpServerError.clientAbortFiberId)
      })
    }
  })
