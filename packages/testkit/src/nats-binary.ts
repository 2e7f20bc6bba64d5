import { existsSync } from "node:fs";
import { dirname, join, delimiter } from "node:path";
import { fileURLToPath } from "node:url";

/** Where scripts/ensure-nats-server.sh unpacks Debian's nats-server, relative to the repo root. */
const PROJECT_LOCAL_BINARY = join(".tools", "nats-server", "usr", "sbin", "nats-server");

/** Thrown when no nats-server binary can be found; the message says how to get one. */
export class NatsServerNotFoundError extends Error {
  readonly code = "nats_server_not_found";
  constructor() {
    super(
      "nats-server was not found. Run `npm test` or `npm start` from the repo root (they install " +
        "nats-server >= 2.10 into .tools/), or set TRIBUTARY_NATS_SERVER to a nats-server binary.",
    );
    this.name = "NatsServerNotFoundError";
  }
}

/**
 * Finds the nats-server binary: an explicit path, then the project's .tools/ copy (found by
 * walking up from this file to the workspace root), then the PATH.
 */
export function findNatsServer(explicit: string | undefined = process.env.TRIBUTARY_NATS_SERVER): string {
  if (explicit && existsSync(explicit)) return explicit;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, PROJECT_LOCAL_BINARY);
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  for (const entry of (process.env.PATH ?? "").split(delimiter)) {
    for (const name of ["nats-server"]) {
      const candidate = join(entry, name);
      if (entry && existsSync(candidate)) return candidate;
    }
  }
  for (const candidate of ["/usr/sbin/nats-server", "/usr/local/bin/nats-server"]) {
    if (existsSync(candidate)) return candidate;
  }
  throw new NatsServerNotFoundError();
}
