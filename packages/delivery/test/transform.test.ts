import { afterEach, describe, expect, it } from "vitest";
import { isConfigError } from "@tributary/errors";
import { Transformer } from "../src/index.js";

// Generous for a loaded machine: only the loop and the memory hog should ever reach these limits.
const limits = { timeoutMs: 200, memoryBytes: 4 * 1024 * 1024 };
const open: Transformer[] = [];
async function make(code: string): Promise<Transformer> {
  const t = await Transformer.create(code, limits);
  open.push(t);
  return t;
}
afterEach(() => {
  for (const t of open.splice(0)) t.dispose();
});

describe("transform - QuickJS sandbox", () => {
  it("maps the event to the JSON to send", async () => {
    const t = await make("function transform(e) { return { id: e.key, doubled: e.body.n * 2 }; }");
    expect(await t.run({ key: "demo:1", body: { n: 21 } })).toEqual({ ok: true, body: '{"id":"demo:1","doubled":42}' });
  });

  it("null skips the event", async () => {
    const t = await make("function transform(e) { return e.body.keep ? e.body : null; }");
    expect(await t.run({ body: { keep: false } })).toEqual({ ok: true, body: null });
  });

  it("a loop is interrupted at its deadline", async () => {
    const t = await make("function transform(e) { for (;;) {} }");
    expect(await t.run({})).toMatchObject({ ok: false, code: "transform_timeout" });
  });

  it("a memory hog is stopped by the memory limit", async () => {
    const t = await make("function transform(e) { const a = []; for (;;) a.push('x'.repeat(4096) + a.length); }");
    const result = await t.run({});
    expect(result.ok).toBe(false);
    if (!result.ok) expect(["transform_memory", "transform_timeout"]).toContain(result.code);
  });

  it("a throw is a transform_failed with the message; the next event runs in a fresh runtime", async () => {
    const t = await make(
      "let calls = 0; function transform(e) { calls++; if (e.body.bad) throw new Error('nope'); return { calls }; }",
    );
    expect(await t.run({ body: { bad: true } })).toMatchObject({
      ok: false,
      code: "transform_failed",
      message: expect.stringContaining("nope"),
    });
    expect(await t.run({ body: {} })).toEqual({ ok: true, body: '{"calls":1}' });
  });

  it("infinite recursion fails instead of crashing the process; the next event still runs", async () => {
    const t = await make("function transform(e) { if (e.deep) return transform(e); return { ok: 1 }; }");
    expect(await t.run({ deep: true })).toMatchObject({ ok: false });
    expect(await t.run({})).toEqual({ ok: true, body: '{"ok":1}' });
    expect(await t.run({ deep: true })).toMatchObject({ ok: false });
    expect(await t.run({})).toEqual({ ok: true, body: '{"ok":1}' });
  });

  it("recursion below QuickJS's stack check (JSON of deep nesting) fails too; the next event runs in a fresh module", async () => {
    // JSON.stringify recurses natively: it can exhaust V8's stack before QuickJS's own limit, so the
    // host throws out of the middle of the WASM code. That module must not serve another event.
    const t = await make(
      "function transform(e) { if (!e.deep) return { ok: 1 }; let a = []; for (let i = 0; i < 20000; i++) a = [a]; return a; }",
    );
    for (let i = 0; i < 3; i++) {
      expect(await t.run({ deep: true })).toMatchObject({ ok: false });
      expect(await t.run({})).toEqual({ ok: true, body: '{"ok":1}' });
      // Each host throw (V8's stack overflow, or a trap, out of the WASM code: counted by the
      // transformer, not read from a message that a slow machine may turn into a timeout) was
      // followed by a fresh module before the next event; nothing else replaces one.
      expect(t.modulesReplaced).toBe(t.hostFailures);
    }
  });

  it("an error the transform throws inside QuickJS keeps the module", async () => {
    const t = await make("function transform(e) { if (e.throw) throw new Error('mine'); return { ok: 1 }; }");
    expect(await t.run({ throw: true })).toMatchObject({ ok: false, code: "transform_failed" });
    expect(await t.run({})).toEqual({ ok: true, body: '{"ok":1}' });
    expect(t.modulesReplaced).toBe(0);
  });

  it("has no access to the process", async () => {
    const t = await make("function transform(e) { return { p: typeof process, r: typeof require, f: typeof fetch }; }");
    expect(await t.run({})).toEqual({ ok: true, body: '{"p":"undefined","r":"undefined","f":"undefined"}' });
  });

  it("code that does not load or lacks transform() is a config error naming the field", async () => {
    await expect(Transformer.create("function transform(e) {", limits, "destinations[0].transform")).rejects.toSatisfy(
      (err: unknown) => isConfigError(err) && /destinations\[0\]\.transform/.test((err as Error).message),
    );
    await expect(Transformer.create("const x = 1;", limits)).rejects.toThrow(/does not define function transform/);
  });
});
