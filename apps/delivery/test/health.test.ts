import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { BreakerReport } from "@tributary/control";
import type { DestinationStateChange } from "@tributary/delivery";
import { BreakerReporter } from "../src/health.js";

const log = { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined };

function change(state: DestinationStateChange["state"], reason = ""): DestinationStateChange {
  return { destination: "crm", state, reason, at: new Date().toISOString(), automatic: true };
}

describe("breaker reports - what the delivery process writes for the management API", () => {
  let written: Array<[string, BreakerReport]>;
  let states: Map<string, BreakerReport["state"]>;
  let reporter: BreakerReporter;
  beforeEach(() => {
    vi.useFakeTimers({ now: new Date("2026-12-07T10:00:00.000Z") });
    written = [];
    states = new Map([["crm", "closed"]]);
    reporter = new BreakerReporter({
      store: { reportBreaker: (id, report) => (written.push([id, report]), Promise.resolve()) },
      running: () => states,
      log: log as never,
      refreshMs: 15_000,
      minIntervalMs: 5_000,
    });
  });
  afterEach(() => {
    reporter.stop();
    vi.useRealTimers();
  });

  it("a transition is written at once, the next ones of one subscription 5 s apart at most with the latest state, and every 15 s unchanged", async () => {
    reporter.start();
    expect(written.map(([id, r]) => [id, r.state])).toEqual([["crm", "closed"]]);
    await vi.advanceTimersByTimeAsync(6_000);
    reporter.changed(change("open", "5 attempts in a row got no answer"));
    await vi.advanceTimersByTimeAsync(0);
    expect(written.at(-1)![1]).toEqual({
      state: "open",
      reason: "5 attempts in a row got no answer",
      since: "2026-12-07T10:00:06.000Z",
      reportedAt: "2026-12-07T10:00:06.000Z",
    });
    // Flapping: half-open then open again within a second makes one write, 5 s after the last.
    reporter.changed(change("half_open", "probe"));
    await vi.advanceTimersByTimeAsync(1_000);
    reporter.changed(change("open", "probe failed: HTTP 503"));
    const before = written.length;
    await vi.advanceTimersByTimeAsync(3_900);
    expect(written.length).toBe(before);
    await vi.advanceTimersByTimeAsync(200);
    expect(written.length).toBe(before + 1);
    expect(written.at(-1)![1]).toMatchObject({ state: "open", reason: "probe failed: HTTP 503" });
    // Unchanged, it is refreshed (the reader calls a report older than a minute unknown).
    states.set("crm", "open");
    await vi.advanceTimersByTimeAsync(15_000);
    expect(written.at(-1)![1]).toMatchObject({
      state: "open",
      since: "2026-12-07T10:00:07.000Z",
      reportedAt: "2026-12-07T10:00:15.000Z",
    });
    // Gone: no more reports; pauses are not breaker states.
    reporter.changed(change("paused", "failing too long"));
    reporter.removed("crm");
    states.clear();
    const last = written.length;
    await vi.advanceTimersByTimeAsync(30_000);
    expect(written.length).toBe(last);
  });

  it("a write that fails is logged and left to the next report", async () => {
    const warnings: string[] = [];
    reporter = new BreakerReporter({
      store: { reportBreaker: () => Promise.reject(new Error("no bucket")) },
      running: () => states,
      log: { ...log, warn: (_o: unknown, msg: string) => void warnings.push(msg) } as never,
    });
    reporter.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(warnings).toEqual(["breaker report not written; the next one tries again"]);
  });
});
