/**
 * Graceful shutdown of the gateway's HTTP server. When the serving layer is released (Ctrl-C, SIGTERM, or an
 * embedding program closing its scope), before anything it depends on (the upstream HTTP client, telemetry):
 *
 * 1. the server stops accepting connections (idle keep-alive connections are closed);
 * 2. requests in flight, streams included, may finish for up to the grace period;
 * 3. the connections of those still running are then closed and the requests interrupted, so that clients see a
 *    cut stream (not a clean end) and the spans end as `cancelled`.
 *
 * Each step is logged. The Node server is created here so that it can be closed here. Requests are counted from
 * their fiber's start to its end, body streaming included: a passthrough route's fiber (`NodeHandler`) when it is
 * forked, any other request by a middleware around the whole response.
 *
 * @internal
 */
import type * as HttpApp from "@effect/platform/HttpApp"
import * as HttpMiddleware from "@effect/platform/HttpMiddleware"
import * as HttpServer from "@effect/platform/HttpServer"
import type { HttpServerRequest } from "@effect/platform/HttpServerRequest"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import { createServer, type Server } from "node:http"
import type * as Gateway from "../Gateway.js"
import * as NodeHandler from "./nodeHandler.js"

/** @internal */
export const defaultGraceMs = 10_000

/** How long interrupted requests may take to end their spans before the connections are closed anyway. */
const interruptBoundMs = 2_000

/** @internal */
export interface Drain {
  /** For `NodeHttpServer.layer`: creates the Node server, and keeps it to close it. */
  readonly createServer: () => Server
  /**
   * Serves `app` on the server (passthrough routes through `NodeHandler`, the rest through the platform's handler),
   * counting requests in flight and draining them when the layer is released.
   */
  readonly serve: <E, R>(
    app: HttpApp.Default<E, R>
  ) => Layer.Layer<never, never, HttpServer.HttpServer | Gateway.Gateway | Exclude<R, HttpServerRequest | Scope.Scope>>
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`

/** @internal */
export const make = (graceMs: number = defaultGraceMs, create: () => Server = createServer): Drain => {
  let server: Server | undefined
  const inFlight = new Set<Fiber.RuntimeFiber<unknown, unknown>>()
  let idle: Deferred.Deferred<void> | undefined
  const settled = (fiber: Fiber.RuntimeFiber<unknown, unknown>) => {
    inFlight.delete(fiber)
    if (inFlight.size === 0 && idle !== undefined) Deferred.unsafeDone(idle, Effect.void)
  }
  /** A request fiber started outside the platform (see `NodeHandler`). */
  const add = (fiber: Fiber.RuntimeFiber<unknown, unknown>) => {
    inFlight.add(fiber)
    fiber.addObserver(() => settled(fiber))
  }

  const track = HttpMiddleware.make((app) =>
    Effect.withFiberRuntime((fiber) => {
      inFlight.add(fiber)
      return Effect.ensuring(app, Effect.sync(() => settled(fiber)))
    })
  )

  const drain = Effect.gen(function*() {
    server?.close()
    if (inFlight.size === 0) return yield* Effect.logDebug("draining: no requests in flight")
    const waiting = inFlight.size
    yield* Effect.logInfo(
      `draining: no new connections; waiting up to ${graceMs / 1000} s for ${plural(waiting, "request")} ` +
        `in flight (Ctrl-C again to stop at once)`
    )
    const done = yield* Deferred.make<void>()
    idle = done
    // Finalizers run uninterruptibly: the waits are made interruptible so that their timeouts can end them.
    yield* Effect.interruptible(Deferred.await(done)).pipe(Effect.timeout(graceMs), Effect.ignore)
    const cut = [...inFlight]
    if (cut.length === 0) return yield* Effect.logInfo(`all ${plural(waiting, "request")} finished`)
    yield* Effect.logWarning(
      `grace period over: interrupting ${plural(cut.length, "request")} still in flight (of ${waiting})`
    )
    // Connections first, so that clients see a cut stream as cut (not as a clean end); then the requests' fibers
    // (already interrupted as client aborts) are awaited while their spans end.
    server?.closeAllConnections()
    yield* Effect.interruptible(Fiber.interruptAll(cut)).pipe(Effect.timeout(interruptBoundMs), Effect.ignore)
  }).pipe(Effect.ensuring(Effect.sync(() => server?.closeAllConnections())))

  return {
    createServer: () => (server = create()),
    serve: (app) =>
      Layer.scopedDiscard(
        Effect.gen(function*() {
          // Built after the Node server (NodeHttpServer.layer creates it through `createServer`) is listening.
          yield* HttpServer.HttpServer
          const listener = yield* NodeHandler.make(yield* NodeHttpServer.makeHandler(app, track), add)
          yield* Effect.addFinalizer(() => Effect.sync(() => server?.off("request", listener)))
          server?.on("request", listener)
          // Registered after serving starts, so it runs before the request handler is removed.
          yield* Effect.addFinalizer(() => drain)
        })
      )
  }
}
