import { spawn, type ChildProcess } from "node:child_process";
import { stopProcess, track, waitFor } from "./processes.js";

export interface ServiceOptions {
  /** Shown in log prefixes and errors. */
  name: string;
  /** The script to run with this Node (process.execPath). */
  entry: string;
  env?: NodeJS.ProcessEnv;
  /** Polled until it answers 2xx; the service counts as started then. */
  readyUrl?: string;
  readyTimeoutMs?: number;
  /** Where the service's output goes: "inherit" prefixes each line with the name; default "buffer". */
  output?: "inherit" | "buffer";
}

/** An app (gateway, aggregator) running as its own Node process, as in production. */
export interface Service {
  readonly name: string;
  readonly process: ChildProcess;
  /** The last 16 KiB of its stdout and stderr, for failure messages. */
  output(): string;
  /** SIGTERM (graceful drain), SIGKILL after the grace period; resolves with the exit code. */
  stop(graceMs?: number): Promise<number | null>;
  /** SIGKILL, as a crash would. */
  kill(): Promise<void>;
}

export async function startService(opts: ServiceOptions): Promise<Service> {
  const child = spawn(process.execPath, [opts.entry], {
    env: { ...process.env, ...opts.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  track(child);
  let tail = "";
  const onData = (chunk: Buffer) => {
    const text = chunk.toString("utf8");
    tail = (tail + text).slice(-16_384);
    if (opts.output === "inherit") {
      for (const line of text.split("\n")) if (line) process.stdout.write(`[${opts.name}] ${line}\n`);
    }
  };
  child.stdout?.on("data", onData);
  child.stderr?.on("data", onData);

  const service: Service = {
    name: opts.name,
    process: child,
    output: () => tail,
    stop: (graceMs = 15_000) => stopProcess(child, "SIGTERM", graceMs),
    kill: async () => {
      await stopProcess(child, "SIGKILL");
    },
  };
  if (opts.readyUrl) {
    const url = opts.readyUrl;
    await waitFor(
      `${opts.name} ready at ${url}`,
      async () => {
        if (child.exitCode !== null) throw new Error(`${opts.name} exited with code ${child.exitCode}:\n${tail}`);
        const res = await fetch(url).catch(() => undefined);
        return res?.ok ? true : undefined;
      },
      opts.readyTimeoutMs ?? 30_000,
      100,
    ).catch(async (err: unknown) => {
      await stopProcess(child, "SIGKILL");
      throw new Error(`${opts.name} did not become ready:\n${tail}`, { cause: err });
    });
  }
  return service;
}
