import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Type } from "@sinclair/typebox";
import { afterAll, describe, expect, it } from "vitest";
import { ConfigError, resolveSecret, SecretRef, validateConfig } from "../src/index.js";

const dir = mkdtempSync(join(tmpdir(), "tributary-config-secrets-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SECRET = "s3cret-value-0123456789";

function secretFile(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text, { mode: 0o600 });
  return path;
}

function thrown(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error("expected a ConfigError");
}

describe("resolveSecret", () => {
  it("env - the variable's value, trimmed", () => {
    expect(resolveSecret("key", { env: "KEY" }, { KEY: SECRET })).toBe(SECRET);
    expect(resolveSecret("key", { env: "KEY" }, { KEY: `  ${SECRET}\n` })).toBe(SECRET);
  });

  it("env - unset, empty or blank is not set: names <field>.env and the export to run", () => {
    for (const env of [{}, { KEY: "" }, { KEY: "  " }]) {
      const err = thrown(() => resolveSecret("api.tokens[0]", { env: "KEY" }, env, { what: "token" }));
      expect(err.field).toBe("api.tokens[0].env");
      expect(err.message).toBe("config api.tokens[0].env: environment variable KEY is not set — export KEY=<token>");
    }
    expect(thrown(() => resolveSecret("s", { env: "KEY" }, {}, { example: "whsec_…" })).fix).toBe("export KEY=whsec_…");
  });

  it("env - defaults to process.env", () => {
    process.env.TRIBUTARY_TEST_SECRET_REF = SECRET;
    try {
      expect(resolveSecret("key", { env: "TRIBUTARY_TEST_SECRET_REF" })).toBe(SECRET);
    } finally {
      delete process.env.TRIBUTARY_TEST_SECRET_REF;
    }
  });

  it("file - one trailing newline is stripped (\\n or \\r\\n), nothing else", () => {
    expect(resolveSecret("key", { file: secretFile("plain", SECRET) }, {})).toBe(SECRET);
    expect(resolveSecret("key", { file: secretFile("lf", `${SECRET}\n`) }, {})).toBe(SECRET);
    expect(resolveSecret("key", { file: secretFile("crlf", `${SECRET}\r\n`) }, {})).toBe(SECRET);
    expect(resolveSecret("key", { file: secretFile("two", `${SECRET}\n\n`) }, {})).toBe(`${SECRET}\n`);
    expect(resolveSecret("key", { file: secretFile("spaces", ` ${SECRET} `) }, {})).toBe(` ${SECRET} `);
  });

  it("file - an empty file is refused, naming <field>.file", () => {
    const path = secretFile("empty", "\n");
    const err = thrown(() => resolveSecret("enrich.hashKey", { file: path }, {}, { what: "hash key" }));
    expect(err.field).toBe("enrich.hashKey.file");
    expect(err.message).toBe(`config enrich.hashKey.file: ${path} is empty — write the hash key into ${path}`);
  });

  it("file - a missing or unreadable file names the path and why, never the contents", () => {
    const missing = join(dir, "nope");
    const err = thrown(() => resolveSecret("key", { file: missing }, {}));
    expect(err.field).toBe("key.file");
    expect(err.message).toBe(
      `config key.file: cannot read ${missing} (no such file) — check the path and its permissions, or create the file with the secret`,
    );
    expect(err.cause).toBeDefined();
    expect(thrown(() => resolveSecret("key", { file: dir }, {})).problem).toBe(`cannot read ${dir} (is a directory)`);
    const locked = secretFile("locked", SECRET);
    chmodSync(locked, 0o000);
    // root reads a mode-000 file anyway; for anyone else this is the permission error.
    if (process.getuid?.() !== 0) {
      const denied = thrown(() => resolveSecret("key", { file: locked }, {}));
      expect(denied.problem).toBe(`cannot read ${locked} (permission denied)`);
      expect(denied.message).not.toContain(SECRET);
    }
  });

  it("both or neither of env and file: names the field itself", () => {
    const both = thrown(() => resolveSecret("operatorToken", { env: "KEY", file: "/x" }, { KEY: SECRET }));
    expect(both.field).toBe("operatorToken");
    expect(both.problem).toBe("needs exactly one of env or file (both are given)");
    const neither = thrown(() => resolveSecret("operatorToken", {}, {}, { what: "operator token" }));
    expect(neither.problem).toBe("needs exactly one of env or file (neither is given)");
    expect(neither.fix).toBe("name the environment variable or the file that holds the operator token");
  });

  it("no message carries the secret", () => {
    const messages = [
      thrown(() => resolveSecret("k", { env: "KEY", file: "/x" }, { KEY: SECRET })),
      thrown(() => resolveSecret("k", { env: "OTHER" }, { KEY: SECRET })),
      thrown(() => resolveSecret("k", { file: dir }, { KEY: SECRET })),
    ].map((err) => err.message);
    for (const message of messages) expect(message).not.toContain(SECRET);
  });
});

describe("SecretRef schema", () => {
  const Schema = Type.Object({ key: SecretRef }, { additionalProperties: false });

  it("takes exactly one of env or file and nothing else", () => {
    expect(validateConfig(Schema, { key: { env: "KEY" } })).toEqual({ key: { env: "KEY" } });
    expect(validateConfig(Schema, { key: { file: "/run/secrets/key" } })).toEqual({
      key: { file: "/run/secrets/key" },
    });
    expect(thrown(() => validateConfig(Schema, { key: { env: "KEY", file: "/x" } })).field).toBe("key");
    expect(thrown(() => validateConfig(Schema, { key: {} })).fix).toMatch(/exactly one of env .* or file/);
    expect(thrown(() => validateConfig(Schema, { key: { value: SECRET } })).field).toBe("key.value");
    expect(thrown(() => validateConfig(Schema, { key: { env: "" } })).field).toBe("key.env");
  });

  it("extends with Type.Composite: more fields, still no unknown ones", () => {
    const Named = Type.Composite([SecretRef, Type.Object({ id: Type.String({ minLength: 1 }) })], {
      additionalProperties: false,
    });
    const Extended = Type.Object({ key: Named }, { additionalProperties: false });
    expect(validateConfig(Extended, { key: { id: "a", file: "/x" } })).toEqual({ key: { id: "a", file: "/x" } });
    expect(thrown(() => validateConfig(Extended, { key: { id: "a", env: "K", other: 1 } })).field).toBe("key.other");
  });
});
