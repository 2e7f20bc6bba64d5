import { registerHooks } from "node:module";

let hooked = false;

/**
 * A worker thread's module, imported from beside its entry file (piscina loads the entry and calls
 * its default export). Built, that is `<name>.js` next to the entry's `.js`. Run from the
 * TypeScript sources (a package's tests), it is `<name>.ts`: Node strips the types itself, and a
 * resolve hook maps the sources' `./x.js` imports to `./x.ts`.
 */
export async function importWorkerModule<T>(entryUrl: string, name: string): Promise<T> {
  const fromSources = entryUrl.endsWith(".ts");
  if (fromSources && !hooked) {
    hooked = true;
    registerHooks({
      resolve(specifier, context, next) {
        if (context.parentURL?.endsWith(".ts") && specifier.startsWith(".") && specifier.endsWith(".js"))
          return next(specifier.slice(0, -3) + ".ts", context);
        return next(specifier, context);
      },
    });
  }
  return (await import(new URL(`./${name}.${fromSources ? "ts" : "js"}`, entryUrl).href)) as T;
}
