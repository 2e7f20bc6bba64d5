import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { DEFAULT_SHUTDOWN_DEADLINE_MS, EXIT_CONFIG } from "../src/index.js";

const FIXTURE = fileURLToPath(new URL("./fixtures/service.mjs", import.meta.url));

interface Run {
  child: ChildProcess;
  output(): { stdout: string; stderr: string };
  /** Resolves once stdout holds `text`. */
  waitFor(text: string): Promise<void>;
  exit: Promise<number | null>;
}

const running: ChildProcess[] = [];
afterEach(() => {
  for (const child of running.splice(0)) if (child.exitCode === null) child.kill("SIGKILL");
});

function run(env: Record<string, string>): Run {
  const child = spawn(process.execPath, [FIXTURE], {
    env: { ...process.env, OTEL_SDK_DISABLED: "true", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  running.push(child);
  let stdout = "";
  let stderr = "";
  const waiters: Array<() => void> = [];
  child.stdout!.on("data", (chunk: Buffer) => {
    stdout += chunk.toString("utf8");
    for (const wake of waiters) wake();
  });
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
  const exit = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return {
    child,
    output: () => ({ stdout, stderr }),
    exit,
    waitFor: (text) =>
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if (stdout.includes(text)) resolve();
        };
        waiters.push(check);
        check();
        void exit.then(() => reject(new Error(`exited before ${JSON.stringify(text)}:\n${stdout}\n${stderr}`)));
      }),
  };
}

/** The JSON log lines' messages, in order. */
function messages(stdout: string): string[] {
  return stdout
    .split("\n")
    .filter(Boolean)
    .map((line) => (JSON.parse(line) as { msg: string }).msg);
}

describe("runService", () => {
  it("deadline - 25 s by default, under Kubernetes' 30 s grace period", () => {
    expect(DEFAULT_SHUTDOWN_DEADLINE_MS).toBe(25_000);
  });

  it.each(["SIGTERM", "SIGINT"] as const)("stop - %s: the steps in order, telemetry, then exit 0", async (signal) => {
    const service = run({});
    await service.waitFor("fixture listening");
    service.child.kill(signal);
    expect(await service.exit).toBe(0);
    const { stdout, stderr } = service.output();
    expect(messages(stdout)).toEqual([
      "fixture listening",
      "shutting down: finishing what is in flight",
      "stop first",
      "stop second",
      "fixture stopped",
    ]);
    const lines = stdout.split("\n").filter(Boolean);
    expect(JSON.parse(lines[0]!)).toMatchObject({ port: 8080, version: "0.1.0" });
    expect(JSON.parse(lines[1]!)).toMatchObject({ signal });
    expect(stderr).toBe("");
  });

  it("stop - a SIGTERM while start waits aborts its signal; what it started is stopped, exit 0", async () => {
    const service = run({ FIXTURE_MODE: "waits" });
    await service.waitFor("waiting for it to be provisioned");
    service.child.kill("SIGTERM");
    expect(await service.exit).toBe(0);
    // Not announced as started: it never was.
    expect(messages(service.output().stdout)).toEqual([
      "waiting for it to be provisioned",
      "shutting down: finishing what is in flight",
      "stop first",
      "stop second",
      "fixture stopped",
    ]);
  });

  it("stop - a SIGTERM during what start cannot abort (ctx.unlessStopped): the start ends there, exit 0 at once", async () => {
    const service = run({ FIXTURE_MODE: "connect-hangs" });
    await service.waitFor("connecting");
    const stoppedAt = Date.now();
    service.child.kill("SIGTERM");
    expect(await service.exit).toBe(0);
    expect(Date.now() - stoppedAt).toBeLessThan(5_000); // not the 25 s deadline
    expect(service.output()).toEqual({
      stdout: `${JSON.stringify({ level: "info", msg: "connecting" })}\n`,
      stderr: "",
    });
  });

  it("stop - past the deadline: exits 1 with the deadline and the note", async () => {
    const service = run({ FIXTURE_MODE: "stop-hangs", FIXTURE_DEADLINE_MS: "300" });
    await service.waitFor("fixture listening");
    service.child.kill("SIGTERM");
    expect(await service.exit).toBe(1);
    expect(service.output().stderr).toBe(
      "tributary-fixture: shutdown did not finish within 300 ms; exiting (nothing is lost)\n",
    );
    expect(messages(service.output().stdout)).not.toContain("fixture stopped");
  });

  it("stop - a step that throws is logged, the later steps still run, exit 1", async () => {
    const service = run({ FIXTURE_MODE: "step-throws" });
    await service.waitFor("fixture listening");
    service.child.kill("SIGTERM");
    expect(await service.exit).toBe(1);
    const lines = service
      .output()
      .stdout.split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.find((l) => l.msg === "broken failed while stopping")).toMatchObject({
      level: "error",
      step: "broken",
      err: "the step broke",
    });
    expect(lines.at(-1)!.msg).toBe("fixture stopped");
  });

  it("start - a start that throws exits 1 with the error", async () => {
    const service = run({ FIXTURE_MODE: "start-throws" });
    expect(await service.exit).toBe(1);
    expect(service.output().stderr).toContain("tributary-fixture: failed to start");
    expect(service.output().stderr).toContain("the warehouse is unreachable");
  });

  it("start - an error the app calls a config problem (refused credentials) exits 78 with its message alone", async () => {
    const service = run({ FIXTURE_MODE: "start-refused" });
    expect(await service.exit).toBe(EXIT_CONFIG);
    expect(service.output().stderr).toBe(
      'tributary-fixture: config nats.user: NATS refused user "x" — check nats.user\n',
    );
  });

  it("config - a bad setting exits 78 with the field and the fix, before anything starts", async () => {
    const service = run({ FIXTURE_PORT: "70000" });
    expect(await service.exit).toBe(78);
    expect(service.output()).toEqual({
      stdout: "",
      stderr: "tributary-fixture: config port: must be <= 65535 — set a TCP port up to 65535; env FIXTURE_PORT\n",
    });
  });

  it("fail - a background failure stops in order and exits 1; a config one exits 78", async () => {
    const failed = run({ FIXTURE_MODE: "fails-later" });
    expect(await failed.exit).toBe(1);
    const lines = failed
      .output()
      .stdout.split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => l.msg)).toEqual([
      "fixture listening",
      "could not set up",
      "shutting down: finishing what is in flight",
      "stop first",
      "stop second",
      "fixture stopped",
    ]);
    expect(lines[1]).toMatchObject({ level: "error", err: "connection lost" });

    const refused = run({ FIXTURE_MODE: "refused-later" });
    expect(await refused.exit).toBe(78);
    expect(messages(refused.output().stdout)).toContain('config nats.user: refused user "x" — check nats.user');
    expect(messages(refused.output().stdout).at(-1)).toBe("fixture stopped");
  });
});
