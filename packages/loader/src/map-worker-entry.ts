/**
 * The mapping pool's worker entry (piscina loads it and calls its default export). Built, it is
 * `map-worker-entry.js` and imports `map-worker.js` beside it. Run from the TypeScript sources
 * (this package's tests), Node strips the types itself and a resolve hook maps the sources'
 * `./x.js` imports to `./x.ts`.
 */
import { registerHooks } from "node:module";

const fromSources = import.meta.url.endsWith(".ts");
if (fromSources)
  registerHooks({
    resolve(specifier, context, next) {
      if (context.parentURL?.endsWith(".ts") && specifier.startsWith(".") && specifier.endsWith(".js"))
        return next(specifier.slice(0, -3) + ".ts", context);
      return next(specifier, context);
    },
  });

const worker = (await import(fromSources ? "./map-worker.ts" : "./map-worker.js")) as typeof import("./map-worker.js");
export default worker.mapPacked;
