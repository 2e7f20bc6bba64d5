import { defineErrors } from "@tributary/errors";
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join, delimiter } from "node:path";
import { fileURLToPath } from "node:url";

/** Where scripts/ensure-nats-server.sh unpacks Debian's nats-server, relative to the repo root. */
const PROJECT_LOCAL_BINARY = join(".tools", "nats-server", "usr", "sbin", "nats-server");

/**
 * The oldest nats-server the project runs on: 2.14 is the first where a duplicate arriving through a
 * stream source is dropped without stalling that source (the hub's duplicate window relies on it).
 * The same as @tributary/streams' MIN_NATS_SERVER_VERSION (a streams test pins them equal): this
 * package cannot depend on streams, whose tests use it through the testkit.
 */
export const MIN_NATS_SERVER_VERSION = [2, 14] as const;

const HOW_TO_GET_ONE =
  "Run `npm test` or `npm start` from the repo root (they install nats-server 2.15 into .tools/), " +
  "or set TRIBUTARY_NATS_SERVER to a nats-server >= 2.14 binary.";

export const NATS_BINARY_ERRORS = {
  nats_server_not_found: {
    meaning: "No nats-server binary was found (TRIBUTARY_NATS_SERVER, .tools/, the PATH).",
    fix: HOW_TO_GET_ONE,
  },
  nats_server_too_old: {
    meaning: `The nats-server found is older than ${MIN_NATS_SERVER_VERSION.join(".")}, which stalls stream sources on duplicates.`,
    fix: HOW_TO_GET_ONE,
  },
} as const;

class NatsBinaryError extends defineErrors("NatsBinaryError", NATS_BINARY_ERRORS) {}

/** Thrown when no nats-server binary can be found; the message says how to get one. */
export class NatsServerNotFoundError extends NatsBinaryError {
  constructor() {
    super("nats_server_not_found", `nats-server was not found. ${HOW_TO_GET_ONE}`);
    this.name = "NatsServerNotFoundError";
  }
}

/** Thrown when the only nats-server found is older than MIN_NATS_SERVER_VERSION. */
export class NatsServerTooOldError extends NatsBinaryError {
  constructor(
    readonly binary: string,
    readonly version: string,
  ) {
    super(
      "nats_server_too_old",
      `${binary} is nats-server ${version}, older than ${MIN_NATS_SERVER_VERSION.join(".")}: it stalls stream sources on duplicates. ${HOW_TO_GET_ONE}`,
    );
    this.name = "NatsServerTooOldError";
  }
}

/** `nats-server --version` as "2.15.1", or undefined when the binary does not answer. */
export function natsServerVersion(binary: string): string | undefined {
  try {
    const out = execFileSync(binary, ["--version"], { encoding: "utf8", timeout: 10_000 });
    return /v(\d+\.\d+\.\d+)/.exec(out)?.[1];
  } catch {
    return undefined;
  }
}

function isRecentEnough(version: string): boolean {
  const [major = 0, minor = 0] = version.split(".").map(Number);
  const [minMajor, minMinor] = MIN_NATS_SERVER_VERSION;
  return major > minMajor || (major === minMajor && minor >= minMinor);
}

function* candidates(explicit: string | undefined): Generator<string> {
  if (explicit) {
    yield explicit;
    return; // an explicit choice is never silently replaced by another binary
  }
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    yield join(dir, PROJECT_LOCAL_BINARY);
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  for (const entry of (process.env.PATH ?? "").split(delimiter)) if (entry) yield join(entry, "nats-server");
  yield "/usr/sbin/nats-server";
  yield "/usr/local/bin/nats-server";
}

let found: { explicit: string | undefined; binary: string } | undefined;

/**
 * Finds a nats-server >= 2.14: an explicit path (TRIBUTARY_NATS_SERVER), else the project's .tools/
 * copy (found by walking up from this file to the workspace root), else the PATH. An older binary
 * is skipped, and when it is all there is, the error names it and says how to get a newer one.
 */
export function findNatsServer(explicit: string | undefined = process.env.TRIBUTARY_NATS_SERVER): string {
  if (found && found.explicit === explicit) return found.binary;
  let tooOld: NatsServerTooOldError | undefined;
  for (const candidate of candidates(explicit)) {
    if (!existsSync(candidate)) continue;
    const version = natsServerVersion(candidate);
    if (version && isRecentEnough(version)) {
      found = { explicit, binary: candidate };
      return candidate;
    }
    tooOld ??= new NatsServerTooOldError(candidate, version ?? "of unknown version");
  }
  throw tooOld ?? new NatsServerNotFoundError();
}
