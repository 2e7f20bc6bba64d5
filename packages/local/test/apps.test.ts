import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { appEntry } from "../src/index.js";

const scratch = mkdtempSync(join(tmpdir(), "tributary-local-apps-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe("appEntry", () => {
  it("apps - each app's built ./main is found in the workspace, by path (the local system imports none of them)", () => {
    expect(appEntry("gateway")).toMatch(/apps\/gateway\/dist\/main\.js$/);
    expect(appEntry("aggregator")).toMatch(/apps\/aggregator\/dist\/main\.js$/);
    expect(appEntry("delivery")).toMatch(/apps\/delivery\/dist\/main\.js$/);
  });

  it("apps - an app that is not built, or not there, is an error that says what to do", () => {
    const root = join(scratch, "repo");
    mkdirSync(join(root, "apps", "gateway"), { recursive: true });
    writeFileSync(
      join(root, "apps", "gateway", "package.json"),
      JSON.stringify({ name: "@tributary/gateway", exports: { "./main": "./dist/main.js" } }),
    );
    const from = join(root, "packages", "local", "dist");
    mkdirSync(from, { recursive: true });
    expect(() => appEntry("gateway", from)).toThrow(/is not built .*scripts\/pnpm\.sh run build/);
    expect(() => appEntry("aggregator", from)).toThrow(/@tributary\/aggregator not found/);
  });
});
