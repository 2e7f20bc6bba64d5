import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePorts, waitFor } from "@tributary/testkit";
import { curlExample, DEFAULT_LOCAL, readSecret, sendSamples, startLocal, type LocalSystem } from "../src/index.js";

const run = promisify(execFile);

describe("tributary up (the README's start command)", () => {
  let dir: string;
  let system: LocalSystem;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "tributary-local-"));
    const [gatewayPort, aggregatorPort] = await freePorts(2);
    system = await startLocal({ ...DEFAULT_LOCAL, stateDir: dir, natsPort: -1, gatewayPort: gatewayPort!, aggregatorPort: aggregatorPort! });
  }, 60_000);
  afterAll(async () => {
    await system?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function rows(): Promise<Array<{ event_key: string; event_type: string }>> {
    const res = await fetch(`${system.aggregatorUrl}/v1/events?limit=100`);
    return ((await res.json()) as { data: Array<{ event_key: string; event_type: string }> }).data;
  }

  it("local - the printed curl command, pasted into a shell, gets a 202 and lands as a row", async () => {
    const { stdout } = await run("bash", ["-c", curlExample(system.gatewayUrl, "demo", system.secretFile)]);
    const answer = JSON.parse(stdout) as { status: string; event_key: string };
    expect(answer.status).toBe("accepted");
    await waitFor("the curl event in DuckDB", async () => ((await rows()).some((r) => r.event_key === answer.event_key) ? true : undefined));
  });

  it("local - `tributary send` signs with the local secret and its events are listed by the query endpoint", async () => {
    const results = await sendSamples({ url: system.gatewayUrl, source: "demo", secret: readSecret(system.secretFile), type: "install.tracked", count: 3 });
    expect(results.map((r) => r.status)).toEqual([202, 202, 202]);
    const keys = results.map((r) => (r.body as { event_key: string }).event_key);
    await waitFor("3 rows", async () => {
      const stored = new Set((await rows()).map((r) => r.event_key));
      return keys.every((k) => stored.has(k)) ? true : undefined;
    });
  });
});
