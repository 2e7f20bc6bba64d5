import { readFileSync } from "node:fs";
import closeWithGrace from "close-with-grace";
import { configFileFrom, isConfigError } from "@tributary/config";
import { startTelemetry, type Telemetry } from "@tributary/telemetry";

/**
 * How long a stop may take before the process exits 1 anyway: longer than a batch flush, a PubAck
 * timeout or a destination's default timeout (10 s) plus acks, shorter than Kubernetes' default
 * 30 s grace period (its SIGKILL would come anyway; this way the exit code says what happened).
 */
export const DEFAULT_SHUTDOWN_DEADLINE_MS = 25_000;

/** Exit codes: a clean stop; a failed start, a failed or late stop; a config problem (EX_CONFIG). */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_CONFIG = 78;

/** The little of a logger the lifecycle uses; pino's (Fastify's `app.log`) fits. */
export interface ServiceLogger {
  info(fieldsOrMessage: unknown, message?: string): void;
  error(fieldsOrMessage: unknown, message?: string): void;
}

/** One step of the ordered stop: a name for the logs, and what to await. */
export type StopStep = readonly [name: string, stop: () => unknown];

/** What `start` hands back: the service's logger and how to stop what it started. */
export interface StartedService {
  log: ServiceLogger;
  /** Logged once started, with `version` added; default `[{}, "<name> started"]`. */
  started?: readonly [fields: Record<string, unknown>, message: string];
  /** Logged (with the signal or reason) when the stop begins; default "shutting down". */
  stopping?: string;
  /** Awaited one after the other, in this order. A step that throws is logged, the next one still runs, the exit code is 1. */
  stop: readonly StopStep[];
}

export interface ServiceContext<C> {
  readonly config: C;
  /** The app's package.json version. */
  readonly version: string;
  /** Started before `start`, shut down after the last stop step (exports the last spans). */
  readonly telemetry: Telemetry;
  readonly env: NodeJS.ProcessEnv;
  /** Aborted when a stop begins: a start that waits (for a stream to be provisioned) gives up and returns. */
  readonly signal: AbortSignal;
  /**
   * `work`, unless the stop begins first: then it rejects, the start ends there (nothing it started
   * yet is stopped) and the process exits 0. For what cannot watch `signal` (a first NATS connect
   * that retries until the server answers).
   */
  unlessStopped<T>(work: Promise<T>): Promise<T>;
  /**
   * Something started in the background failed: log it (its message alone for a config error,
   * else with `message`), stop in order and exit 78 for a config error, 1 otherwise.
   */
  fail(err: unknown, message: string): void;
}

export interface ServiceOptions<C> {
  /** `gateway`: the process is `tributary-gateway` (telemetry's service name, console prefix). */
  name: string;
  /** The app's package.json, for its version: `new URL("../package.json", import.meta.url)`. */
  packageJson: URL;
  /**
   * Builds the typed config. A ConfigError, from here or from start (refused NATS credentials, a bad
   * destination filter), exits 78 with its message.
   */
  loadConfig(env: NodeJS.ProcessEnv, file: string | undefined): C;
  /** Resource attributes every signal carries, e.g. the region. */
  telemetryAttributes?(config: C): Record<string, string>;
  /** Default DEFAULT_SHUTDOWN_DEADLINE_MS. */
  shutdownDeadlineMs?: number;
  /** Added to the deadline message, e.g. "unacked events are redelivered". */
  deadlineNote?: string;
  start(ctx: ServiceContext<C>): Promise<StartedService>;
  /** Default process.argv and process.env. */
  argv?: readonly string[];
  env?: NodeJS.ProcessEnv;
}

type StopTrigger = { signal: string } | { err: unknown; message: string };

/** How ctx.unlessStopped ends a start that a stop overtook. */
class StoppedWhileStarting extends Error {}

function unlessStopped<T>(signal: AbortSignal, work: Promise<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const stopped = () => reject(new StoppedWhileStarting("stopped while starting"));
    if (signal.aborted) return stopped();
    signal.addEventListener("abort", stopped, { once: true });
    void work.then(resolve, reject).finally(() => signal.removeEventListener("abort", stopped));
  });
}

// close-with-grace stops on SIGTERM and SIGINT here and leaves these as Node handles them, as the
// services always did: a crash stays a crash, a hang-up or SIGQUIT keeps its default.
const NOT_OURS: closeWithGrace.AllEvents[] = [
  "SIGHUP",
  "SIGQUIT",
  "SIGILL",
  "SIGTRAP",
  "SIGABRT",
  "SIGBUS",
  "SIGFPE",
  "SIGSEGV",
  "SIGUSR2",
  "uncaughtException",
  "unhandledRejection",
  "beforeExit",
];

function readVersion(packageJson: URL): string {
  return (JSON.parse(readFileSync(packageJson, "utf8")) as { version: string }).version;
}

/** 78 for what the operator fixes in the settings, else 1. */
type ExitCodeOf = (err: unknown) => number;

function exitOnStartError(processName: string, codeOf: ExitCodeOf, err: unknown): never {
  if (codeOf(err) === EXIT_CONFIG) console.error(`${processName}: ${(err as Error).message}`);
  else console.error(`${processName}: failed to start`, err);
  process.exit(codeOf(err));
}

/** The stop itself: says why, awaits each step in order, then telemetry. Resolves with the exit code. */
async function stopInOrder(
  name: string,
  started: StartedService,
  by: StopTrigger,
  telemetry: Telemetry,
  codeOf: ExitCodeOf,
): Promise<number> {
  const { log } = started;
  let exitCode = EXIT_OK;
  if ("err" in by) {
    exitCode = codeOf(by.err);
    if (exitCode === EXIT_CONFIG) log.error((by.err as Error).message);
    else log.error({ err: by.err }, by.message);
  }
  log.info({ signal: "signal" in by ? by.signal : "failure" }, started.stopping ?? "shutting down");
  for (const [step, stop] of started.stop) {
    try {
      await stop();
    } catch (err) {
      exitCode = Math.max(exitCode, EXIT_FAILURE);
      log.error({ err, step }, `${step} failed while stopping`);
    }
  }
  await telemetry.shutdown(); // exports the last spans
  log.info(`${name} stopped`);
  return exitCode;
}

function graceOptions(processName: string, options: ServiceOptions<unknown>): closeWithGrace.Options {
  const note = options.deadlineNote ? ` (${options.deadlineNote})` : "";
  return {
    delay: options.shutdownDeadlineMs ?? DEFAULT_SHUTDOWN_DEADLINE_MS,
    logger: false,
    skip: NOT_OURS,
    onTimeout: (ms) => console.error(`${processName}: shutdown did not finish within ${ms} ms; exiting${note}`),
    onSecondSignal: (signal) => console.error(`${processName}: ${signal} again while stopping; exiting now`),
  };
}

/**
 * Runs one service process: loads its config (a config error prints `<process>: config <field>:
 * <problem> — <fix>` and exits 78), starts telemetry, calls `start`, and on SIGTERM or SIGINT (or
 * `ctx.fail`) awaits the returned stop steps in order, then shuts telemetry down and exits: 0 after
 * a clean stop, 1 after a failed start, a failed step or a stop past the deadline, 78 for config.
 *
 * Signals and the deadline are close-with-grace's (a second signal while stopping exits 1 at once);
 * the exit code is ours: close-with-grace exits 0 after any stop that resolves, so a stop that ran
 * because something failed exits with its own code before returning to it.
 */
export function runService<C>(options: ServiceOptions<C>): void {
  const processName = `tributary-${options.name}`;
  const env = options.env ?? process.env;
  const codeOf: ExitCodeOf = (err) => (isConfigError(err) ? EXIT_CONFIG : EXIT_FAILURE);
  let config: C;
  try {
    config = options.loadConfig(env, configFileFrom(options.argv ?? process.argv, env));
  } catch (err) {
    exitOnStartError(processName, codeOf, err);
  }
  const version = readVersion(options.packageJson);
  const telemetry = startTelemetry({
    serviceName: processName,
    serviceVersion: version,
    ...(options.telemetryAttributes ? { attributes: options.telemetryAttributes(config) } : {}),
    env,
    warn: (message) => console.error(`${processName}: ${message}`),
  });

  const aborting = new AbortController();
  let exitCode = EXIT_OK;
  let trigger: StopTrigger | undefined;
  let stopping: Promise<void> | undefined;
  const grace = closeWithGrace(graceOptions(processName, options), async ({ signal }) => {
    aborting.abort();
    stopping ??= starting.then(async (started) => {
      const by = trigger ?? { signal: signal ?? "stop" };
      exitCode = Math.max(exitCode, await stopInOrder(options.name, started, by, telemetry, codeOf));
    });
    await stopping;
    if (exitCode !== EXIT_OK) process.exit(exitCode);
  });
  const fail = (err: unknown, message: string) => {
    if (!stopping) {
      trigger = { err, message };
      grace.close();
      return;
    }
    // Already stopping: the failure still decides the exit code.
    exitCode = Math.max(exitCode, codeOf(err));
    console.error(`${processName}: ${message} while stopping`, err);
  };
  const ctx: ServiceContext<C> = {
    config,
    version,
    telemetry,
    env,
    signal: aborting.signal,
    fail,
    unlessStopped: (work) => unlessStopped(aborting.signal, work),
  };
  const starting = options.start(ctx).catch((err: unknown): StartedService => {
    // Stopped before anything needed stopping: the stop logs on stderr, and only a failure.
    if (err instanceof StoppedWhileStarting)
      return {
        log: { info: () => undefined, error: (f, m) => console.error(`${processName}: ${m ?? String(f)}`) },
        stop: [],
      };
    return exitOnStartError(processName, codeOf, err);
  });
  starting.then(
    (started) => {
      if (aborting.signal.aborted) return;
      const [fields, message] = started.started ?? [{}, `${options.name} started`];
      started.log.info({ ...fields, version }, message);
    },
    () => undefined,
  );
}
