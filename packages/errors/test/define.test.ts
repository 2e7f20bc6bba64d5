import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  CONFIG_ERRORS,
  checkErrorDoc,
  CodedError,
  ConfigError,
  defineErrors,
  isConfigError,
  renderErrorTable,
} from "../src/index.js";

const SHOP_ERRORS = {
  out_of_stock: { status: 409, meaning: "Nothing left.", fix: "Order less." },
  closed: { meaning: "The shop is closed | for now.", fix: "Come back." },
} as const;

class ShopError extends defineErrors("ShopError", SHOP_ERRORS) {}

describe("defineErrors", () => {
  it("errors - the class carries the code, the catalogue's status, field, details and cause", () => {
    const cause = new Error("root");
    const err = new ShopError("out_of_stock", "3 asked, 0 left", { field: "qty", details: { left: 0 }, cause });
    expect(err).toBeInstanceOf(ShopError);
    expect(err).toBeInstanceOf(CodedError);
    expect(err).toBeInstanceOf(Error);
    expect(err).toMatchObject({
      name: "ShopError",
      code: "out_of_stock",
      status: 409,
      field: "qty",
      message: "3 asked, 0 left",
    });
    expect(err.details).toEqual({ left: 0 });
    expect(err.cause).toBe(cause);
    expect(err.spec).toBe(SHOP_ERRORS.out_of_stock);
    expect(ShopError.catalogue).toBe(SHOP_ERRORS);
  });

  it("errors - a code without a status has none; a code outside the catalogue is refused", () => {
    expect(new ShopError("closed", "closed").status).toBeUndefined();
    expect(() => new ShopError("gone" as "closed", "x")).toThrow(/gone is not in its catalogue/);
  });
});

describe("ConfigError", () => {
  it("config - names the field, the problem and the fix in one line, code config_invalid", () => {
    const err = new ConfigError("sources.shop.secret.env", "SHOP_SECRET is not set", "export SHOP_SECRET=<secret>");
    expect(err.message).toBe("config sources.shop.secret.env: SHOP_SECRET is not set — export SHOP_SECRET=<secret>");
    expect(err).toMatchObject({ code: "config_invalid", field: "sources.shop.secret.env", name: "ConfigError" });
    expect(isConfigError(err)).toBe(true);
    expect(isConfigError(new ShopError("closed", "x"))).toBe(false);
    expect(new ConfigError("port", "must be a number").message).toBe("config port: must be a number");
  });

  it("config - under() moves the field one level down and keeps problem, fix and cause", () => {
    const inner = new ConfigError("secret", "is empty", "give the secret", { cause: "why" });
    const outer = inner.under("sources.shop.scheme");
    expect(outer).toMatchObject({ field: "sources.shop.scheme.secret", problem: "is empty", fix: "give the secret" });
    expect(outer.cause).toBe("why");
  });
});

describe("error docs", () => {
  let dir: string | undefined;
  afterEach(() => {
    vi.unstubAllEnvs();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("docs - renders code, status, meaning and fix; escapes pipes; drops the status column when none has one", () => {
    expect(renderErrorTable(SHOP_ERRORS)).toBe(
      [
        "| code | status | meaning | fix |",
        "| --- | --- | --- | --- |",
        "| `out_of_stock` | 409 | Nothing left. | Order less. |",
        "| `closed` |  | The shop is closed \\| for now. | Come back. |",
      ].join("\n"),
    );
    expect(renderErrorTable(CONFIG_ERRORS).split("\n")[0]).toBe("| code | meaning | fix |");
  });

  it("docs - a stale table is reported, UPDATE_ERROR_DOCS=1 rewrites only the marked block", () => {
    dir = mkdtempSync(join(tmpdir(), "tributary-errors-"));
    const file = join(dir, "errors.md");
    writeFileSync(file, "# Shop\n\n<!-- errors:shop -->\n| old |\n<!-- /errors:shop -->\n\nafter\n");
    const stale = checkErrorDoc(file, "shop", SHOP_ERRORS);
    expect(stale.actual).toBe("| old |");
    expect(stale.actual).not.toBe(stale.expected);
    expect(checkErrorDoc(file, "other", SHOP_ERRORS).actual).toBeUndefined();

    vi.stubEnv("UPDATE_ERROR_DOCS", "1");
    checkErrorDoc(file, "shop", SHOP_ERRORS);
    vi.unstubAllEnvs();
    const fresh = checkErrorDoc(file, "shop", SHOP_ERRORS);
    expect(fresh.actual).toBe(fresh.expected);
    const text = readFileSync(file, "utf8");
    expect(text.startsWith("# Shop\n\n<!-- errors:shop -->\n| code |")).toBe(true);
    expect(text.endsWith("<!-- /errors:shop -->\n\nafter\n")).toBe(true);
  });

  it("docs - docs/errors.md shows the config catalogue as it is", () => {
    const { expected, actual } = checkErrorDoc(
      new URL("../../../docs/errors.md", import.meta.url),
      "config",
      CONFIG_ERRORS,
    );
    expect(actual).toBe(expected);
  });
});
