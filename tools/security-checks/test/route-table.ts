import type { FastifyInstance } from "fastify";

/** One route as Fastify holds it: a method and its path pattern. */
export interface Route {
  method: string;
  url: string;
}

export const key = (route: Route): string => `${route.method} ${route.url}`;

/**
 * Parses `printRoutes({ commonPrefix: false })`: a tree whose lines are `├── <segment> (GET, HEAD)`,
 * indented four characters per level, each segment continuing its parent's path. Used only as the
 * router's own count of what it holds, against which the `onRoute` list is checked.
 */
export function parseRouteTree(text: string): Route[] {
  const routes: Route[] = [];
  const stack: string[] = [];
  for (const line of text.split("\n")) {
    const match = /^((?:[│ ] {3})*)[├└]── (.+?)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!match) continue;
    const depth = match[1]!.length / 4;
    stack.length = depth;
    const url = (stack[depth - 1] ?? "") + match[2]!;
    stack[depth] = url;
    for (const method of match[3]?.split(", ") ?? []) routes.push({ method, url });
  }
  return routes;
}

/**
 * Every route of an app, read as Fastify registers them: an `onRoute` hook added right after the
 * app is built, before `ready()` loads its plugins, so each route registered in a plugin passes
 * through it. The router's own table (`table`) comes beside it: a route the hook did not see was
 * registered before the hook existed, outside any plugin, so no app-wide onRoute hook (the
 * apps' deny-by-default guard) saw it either.
 */
export async function readRoutes(app: FastifyInstance): Promise<{ seen: Route[]; table: Route[] }> {
  const seen: Route[] = [];
  app.addHook("onRoute", (route) => {
    for (const method of [route.method].flat()) seen.push({ method, url: route.url });
  });
  await app.ready();
  return { seen, table: parseRouteTree(app.printRoutes({ commonPrefix: false })) };
}

/** A path of the pattern that routes to it: each `:param` (and a `*`) filled with a plain value. */
export function concretePath(url: string): string {
  return url.replace(/:[A-Za-z_][A-Za-z0-9_]*/g, "x").replace(/\*/g, "x");
}

/**
 * Asks every route without credentials, from a remote address and from loopback (an in-pod
 * forwarder makes any caller loopback), and lists each that did not refuse with 401 or 403. A
 * POST gets no body: a guard in onRequest refuses before one would be read.
 */
export async function openRoutes(
  app: FastifyInstance,
  routes: readonly Route[],
  from: readonly string[] = ["10.0.0.5", "127.0.0.1"],
): Promise<string[]> {
  const open: string[] = [];
  for (const route of routes) {
    for (const remoteAddress of from) {
      const res = await app.inject({
        method: route.method as "GET",
        url: concretePath(route.url),
        remoteAddress,
      });
      if (res.statusCode !== 401 && res.statusCode !== 403)
        open.push(`${key(route)} answered ${res.statusCode} to ${remoteAddress} without credentials`);
    }
  }
  return open;
}
