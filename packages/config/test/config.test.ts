import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Type } from "@sinclair/typebox";
import { describe, expect, it } from "vitest";
import { ConfigError, envInt, loadConfig, natsCredentials, validateConfig } from "../src/index.js";

const Schema = Type.Object(
  {
    port: Type.Integer({
      minimum: 1,
      maximum: 65535,
      default: 8080,
      description: "set a TCP port between 1 and 65535",
    }),
    sources: Type.Record(
      Type.String(),
      Type.Object(
        {
          scheme: Type.Union([Type.Literal("a"), Type.Literal("b")], { description: "choose scheme a or b" }),
          secrets: Type.Array(
            Type.Object(
              { id: Type.String({ minLength: 1, description: "name the secret" }) },
              { additionalProperties: false },
            ),
            { minItems: 1 },
          ),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

function thrown(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error("expected a ConfigError");
}

describe("config", () => {
  it("validate - applies defaults and returns typed config", () => {
    const config = validateConfig(Schema, { sources: {} });
    expect(config.port).toBe(8080);
  });

  it("validate - names the field and the fix for a bad value", () => {
    const err = thrown(() => validateConfig(Schema, { port: 70000, sources: {} }));
    expect(err.field).toBe("port");
    expect(err.message).toContain("set a TCP port");
  });

  it("validate - names a nested missing field with its array index", () => {
    const err = thrown(() => validateConfig(Schema, { sources: { demo: { scheme: "a", secrets: [{}] } } }));
    expect(err.field).toBe("sources.demo.secrets[0].id");
    expect(err.problem).toBe("is required");
    expect(err.fix).toBe("name the secret");
  });

  it("validate - reports unknown settings as likely typos", () => {
    const err = thrown(() => validateConfig(Schema, { prot: 1, sources: {} }));
    expect(err.field).toBe("prot");
    expect(err.problem).toContain("not a known setting");
  });

  it("load - overrides win over the file and blank overrides are ignored", () => {
    const dir = mkdtempSync(join(tmpdir(), "tributary-config-"));
    const file = join(dir, "c.json");
    writeFileSync(file, JSON.stringify({ port: 1000, sources: {} }));
    expect(loadConfig(Schema, { file, overrides: { port: 2000 } }).port).toBe(2000);
    expect(loadConfig(Schema, { file, overrides: { port: undefined } }).port).toBe(1000);
  });

  it("load - a malformed file names the file", () => {
    const dir = mkdtempSync(join(tmpdir(), "tributary-config-"));
    const file = join(dir, "bad.json");
    writeFileSync(file, "{ nope");
    const err = thrown(() => loadConfig(Schema, { file }));
    expect(err.field).toBe(file);
    expect(err.problem).toContain("not valid JSON");
  });

  it("env - a non-numeric integer names the variable", () => {
    expect(envInt({ P: " " }, "P")).toBeUndefined();
    expect(thrown(() => envInt({ P: "80a" }, "P")).field).toBe("P");
  });

  it("nats - credentials only with a user; a user without a password sends an empty one", () => {
    expect(natsCredentials({})).toEqual({});
    expect(natsCredentials({ user: undefined, pass: "ignored" })).toEqual({});
    expect(natsCredentials({ user: "gateway-us" })).toEqual({ user: "gateway-us", pass: "" });
    expect(natsCredentials({ user: "gateway-us", pass: "s3cret" })).toEqual({ user: "gateway-us", pass: "s3cret" });
  });
});
