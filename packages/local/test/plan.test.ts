import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { DEFAULT_TOPOLOGY, readSecret, secretFileOf } from "../src/index.js";
import { planOf } from "../src/plan.js";

const scratch = mkdtempSync(join(tmpdir(), "tributary-local-plan-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe("planOf", () => {
  it("state - credentials and the signing secret are made on the first run and kept (0600), users added as parts appear", () => {
    const stateDir = join(scratch, "state");
    const first = planOf({ ...DEFAULT_TOPOLOGY, stateDir });
    expect(first.hubSize).toBe(1);
    expect(first.regionSize("us")).toBe(1);
    expect(Object.keys(first.credentials.gateways)).toEqual(["us", "eu"]);
    // The delivery process and the management API always run: their users exist from the first run.
    expect(first.credentials.delivery?.user).toBe("delivery");
    expect(first.credentials.control?.user).toBe("control");
    expect(statSync(first.sealingKeysFile).mode & 0o777).toBe(0o600);
    expect(readSecret(first.sealingKeysFile)).toMatch(/^local:[A-Za-z0-9+/]{43}=$/);
    expect(first.credentials.routes).toBeUndefined();
    expect(first.secretFile).toBe(secretFileOf(stateDir, "demo"));
    expect(readSecret(first.secretFile)).toMatch(/^[0-9a-f]{64}$/);
    expect(statSync(join(stateDir, "credentials.json")).mode & 0o777).toBe(0o600);
    expect(statSync(first.secretFile).mode & 0o777).toBe(0o600);

    const second = planOf({
      ...DEFAULT_TOPOLOGY,
      stateDir,
      destinations: [{ name: "crm" }],
      cluster: { size: 3, regions: ["us"] },
    });
    expect(second.credentials.admin).toEqual(first.credentials.admin);
    expect(second.credentials.gateways).toEqual(first.credentials.gateways);
    expect(readSecret(second.secretFile)).toBe(readSecret(first.secretFile));
    expect(second.credentials.delivery).toEqual(first.credentials.delivery);
    expect(second.hubSize).toBe(3);
    expect([second.regionSize("us"), second.regionSize("eu")]).toEqual([3, 1]);
    expect(Object.keys(second.credentials.routes ?? {}).sort()).toEqual(["tributary-hub", "tributary-us"]);
    const saved = JSON.parse(readFileSync(join(stateDir, "credentials.json"), "utf8"));
    expect(saved.delivery.password).toBe(second.credentials.delivery?.password);
  });
});
