import { describe, expect, it } from "vitest";
import { ConfigError } from "@tributary/errors";
import { DEFAULT_RECENT_KEYS, RecentKeys } from "../src/index.js";

const WINDOW = 1000;

describe("RecentKeys", () => {
  it("window - a key seen again within the window is a duplicate", () => {
    const keys = new RecentKeys({ maxKeys: 10, windowMs: WINDOW });
    expect(keys.checkAndAdd("s:a", 0)).toBe(false);
    expect(keys.checkAndAdd("s:a", 999)).toBe(true);
    expect(keys.checkAndAdd("s:b", 999)).toBe(false);
    expect(keys.size).toBe(2);
  });

  it("window - at exactly windowMs the key has expired and counts as new", () => {
    const keys = new RecentKeys({ maxKeys: 10, windowMs: WINDOW });
    keys.checkAndAdd("s:a", 0);
    expect(keys.checkAndAdd("s:a", 1000)).toBe(false);
    expect(keys.stats).toMatchObject({ expired: 1, added: 2 });
  });

  it("window - a duplicate does not extend the window (measured from first sighting)", () => {
    const keys = new RecentKeys({ maxKeys: 10, windowMs: WINDOW });
    keys.checkAndAdd("s:a", 0);
    expect(keys.checkAndAdd("s:a", 900)).toBe(true);
    expect(keys.checkAndAdd("s:a", 1000)).toBe(false);
  });

  it("window - expired keys are released from memory as time passes", () => {
    const keys = new RecentKeys({ maxKeys: 100, windowMs: WINDOW });
    for (let i = 0; i < 50; i++) keys.checkAndAdd(`s:${i}`, i);
    expect(keys.size).toBe(50);
    keys.checkAndAdd("s:late", 1040); // keys 0..40 have aged out
    expect(keys.size).toBe(10);
    expect(keys.stats.expired).toBe(41);
  });

  it("capacity - never holds more than maxKeys, evicting the oldest first", () => {
    const keys = new RecentKeys({ maxKeys: 3, windowMs: WINDOW });
    for (const k of ["a", "b", "c", "d"]) keys.checkAndAdd(k, 0);
    expect(keys.size).toBe(3);
    expect(keys.stats.evicted).toBe(1);
    expect(keys.has("a", 0)).toBe(false);
    expect(keys.has("b", 0)).toBe(true);
    expect(keys.checkAndAdd("d", 1)).toBe(true);
  });

  it("capacity - bounded under a long stream of distinct keys", () => {
    const keys = new RecentKeys({ maxKeys: 1000, windowMs: 1e9 });
    for (let i = 0; i < 50_000; i++) keys.checkAndAdd(`s:${i}`, i);
    expect(keys.size).toBe(1000);
    expect(keys.stats).toMatchObject({ checks: 50_000, added: 50_000, evicted: 49_000, duplicates: 0 });
    expect(keys.checkAndAdd("s:49999", 50_000)).toBe(true);
    expect(keys.checkAndAdd("s:48999", 50_000)).toBe(false);
  });

  it("delete - a deleted key is new again (a failed batch is redelivered, not dropped)", () => {
    const keys = new RecentKeys({ maxKeys: 10, windowMs: WINDOW });
    keys.checkAndAdd("s:a", 0);
    expect(keys.delete("s:a")).toBe(true);
    expect(keys.delete("s:a")).toBe(false);
    expect(keys.checkAndAdd("s:a", 1)).toBe(false);
    expect(keys.checkAndAdd("s:a", 2)).toBe(true);
    expect(keys.stats.deleted).toBe(1);
  });

  it("delete - a stale queue entry never removes the re-added key, even at the same instant", () => {
    const keys = new RecentKeys({ maxKeys: 10, windowMs: WINDOW });
    keys.checkAndAdd("s:a", 0);
    keys.delete("s:a");
    keys.checkAndAdd("s:a", 0); // re-added at the same ms; the first queue entry is now stale
    keys.checkAndAdd("s:b", 500);
    expect(keys.has("s:a", 999)).toBe(true);
    keys.checkAndAdd("s:c", 1000); // both queue entries for s:a reach their end
    expect(keys.has("s:a", 1000)).toBe(false);
    expect(keys.size).toBe(2);
  });

  it("delete - memory stays bounded by maxKeys even after many deletes", () => {
    const keys = new RecentKeys({ maxKeys: 5, windowMs: 1e9 });
    for (let i = 0; i < 1000; i++) {
      keys.checkAndAdd(`s:${i}`, i);
      keys.delete(`s:${i}`);
    }
    expect(keys.size).toBe(0);
    for (let i = 0; i < 5; i++) keys.checkAndAdd(`t:${i}`, 2000);
    expect(keys.size).toBe(5);
    expect(keys.checkAndAdd("t:0", 2001)).toBe(true);
  });

  it("clock - a clock stepping backwards treats keys as recent (duplicate is the safe answer)", () => {
    const keys = new RecentKeys({ maxKeys: 10, windowMs: WINDOW });
    keys.checkAndAdd("s:a", 5000);
    expect(keys.checkAndAdd("s:a", 1000)).toBe(true);
  });

  it("clock - out-of-order entries still expire by their own age", () => {
    const keys = new RecentKeys({ maxKeys: 10, windowMs: WINDOW });
    keys.checkAndAdd("s:new", 5000);
    keys.checkAndAdd("s:old", 100); // clock stepped back; queued behind a recent key
    expect(keys.checkAndAdd("s:old", 1200)).toBe(false); // its own window has ended
    expect(keys.checkAndAdd("s:old", 1300)).toBe(true);
  });

  it("has - looks without recording", () => {
    const keys = new RecentKeys({ maxKeys: 10, windowMs: WINDOW });
    expect(keys.has("s:a", 0)).toBe(false);
    expect(keys.size).toBe(0);
  });

  it("clear - forgets everything", () => {
    const keys = new RecentKeys({ maxKeys: 10, windowMs: WINDOW });
    keys.checkAndAdd("s:a", 0);
    keys.clear();
    expect(keys.size).toBe(0);
    expect(keys.checkAndAdd("s:a", 1)).toBe(false);
  });

  it("stats - a snapshot, not a live object", () => {
    const keys = new RecentKeys({ maxKeys: 10, windowMs: WINDOW });
    const before = keys.stats;
    keys.checkAndAdd("s:a", 0);
    keys.checkAndAdd("s:a", 1);
    expect(before.checks).toBe(0);
    expect(keys.stats).toEqual({ checks: 2, duplicates: 1, added: 1, expired: 0, evicted: 0, deleted: 0 });
  });

  it("defaults - a million keys for a day", () => {
    expect(DEFAULT_RECENT_KEYS).toEqual({ maxKeys: 1_000_000, windowMs: 86_400_000 });
    const keys = new RecentKeys();
    expect(keys.maxKeys).toBe(1_000_000);
    expect(keys.windowMs).toBe(86_400_000);
  });

  it("config - bad options throw ConfigError naming the field", () => {
    const cases: Array<[unknown, string]> = [
      [{ maxKeys: 0, windowMs: 1 }, "maxKeys"],
      [{ maxKeys: 1.5, windowMs: 1 }, "maxKeys"],
      [{ maxKeys: Number.NaN, windowMs: 1 }, "maxKeys"],
      [{ maxKeys: 1, windowMs: 0 }, "windowMs"],
      [{ maxKeys: 1, windowMs: Number.POSITIVE_INFINITY }, "windowMs"],
    ];
    for (const [options, field] of cases) {
      let error: unknown;
      try {
        new RecentKeys(options as { maxKeys: number; windowMs: number });
      } catch (err) {
        error = err;
      }
      expect(error, field).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).field).toBe(field);
    }
  });
});
