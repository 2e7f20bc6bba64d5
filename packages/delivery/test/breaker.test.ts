import { describe, expect, it } from "vitest";
import {
  DestinationBreaker,
  PROBE_JITTER,
  SlidingWindow,
  type AttemptFailureKind,
  type BreakerSettings,
  type BreakerTransition,
} from "../src/breaker.js";

/** A clock the test moves by hand, and a fixed or scripted "random". */
class TestClock {
  t = 1_000_000;
  r: () => number = () => 0;
  now = () => this.t;
  random = () => this.r();
  advance(ms: number): void {
    this.t += ms;
  }
}

/** A deterministic stream of numbers in [0, 1) (a 32-bit LCG), standing in for Math.random. */
function numbers(start: number): () => number {
  let x = start >>> 0;
  return () => {
    x = (Math.imul(x, 1_664_525) + 1_013_904_223) >>> 0;
    return x / 2 ** 32;
  };
}

const SETTINGS: BreakerSettings = {
  failuresToOpen: 5,
  failureRateToOpen: 0.5,
  minimumAttempts: 20,
  windowMs: 10_000,
  halfOpenAfterMs: 5_000,
  maxHalfOpenAfterMs: 60_000,
};

function breaker(overrides: Partial<BreakerSettings> = {}, clock = new TestClock()) {
  const b = new DestinationBreaker({ ...SETTINGS, ...overrides }, clock);
  const transitions: BreakerTransition[] = [];
  b.onTransition((t) => transitions.push(t));
  /** One attempt: "ok", or a failure of that kind. False when the breaker permitted none. */
  const attempt = (outcome: "ok" | AttemptFailureKind): boolean => {
    const permit = b.acquire();
    if (!permit) return false;
    if (outcome === "ok") b.succeeded(permit, "HTTP 200");
    else b.failed(permit, outcome, outcome === "answer" ? "HTTP 500" : "ECONNREFUSED");
    return true;
  };
  return { b, clock, transitions, attempt };
}

describe("destination breaker - when it opens", () => {
  it("a destination failing 30 % of its requests at random never opens it, though it fails 5 and more in a row (which the consecutive rule opened on)", () => {
    for (const start of [1, 2, 3, 4, 5]) {
      const { b, clock, transitions, attempt } = breaker();
      const next = numbers(start);
      let run = 0;
      let longestRun = 0;
      let failures = 0;
      let refused = 0;
      const total = 20_000;
      // 15,000 attempts at 100 a second (1,000 in each 10 s window), then 5,000 at 20 a second (200).
      // (At a few attempts a second the window holds about minimumAttempts, and 30 % failing reach
      // 50 % in one window in twenty: the breaker opens, and the probe closes it 70 % of the time.)
      for (let i = 0; i < total; i++) {
        const fail = next() < 0.3;
        failures += fail ? 1 : 0;
        run = fail ? run + 1 : 0;
        longestRun = Math.max(longestRun, run);
        if (!attempt(fail ? "answer" : "ok")) refused++;
        clock.advance(i < 15_000 ? 10 : 50);
      }
      expect(failures / total).toBeGreaterThan(0.28);
      expect(failures / total).toBeLessThan(0.32);
      expect(longestRun).toBeGreaterThanOrEqual(5);
      expect(refused).toBe(0);
      expect(transitions).toEqual([]);
      expect(b.state).toBe("closed");
    }
  });

  it("opens when at least failureRateToOpen of at least minimumAttempts in the window failed, and not before minimumAttempts", () => {
    const { b, clock, transitions, attempt } = breaker();
    // Alternating failure and success: 50 %, never two failures in a row.
    for (let i = 0; i < 19; i++) {
      attempt(i % 2 === 0 ? "answer" : "ok");
      clock.advance(100);
    }
    expect(b.window).toEqual({ attempts: 19, failures: 10 });
    expect(b.state).toBe("closed"); // 53 % but only 19 attempts
    attempt("ok"); // 20 attempts, 10 failures: 50 %
    expect(b.state).toBe("closed"); // the rate is judged when a failure comes in
    attempt("answer"); // 21 attempts, 11 failures
    expect(b.state).toBe("open");
    expect(transitions).toHaveLength(1);
    expect(transitions[0]).toMatchObject({ from: "closed", to: "open", at: clock.t });
    expect(transitions[0]!.reason).toBe("11 of 21 attempts failed in the last 10 s (last: HTTP 500)");
  });

  it("a rate under failureRateToOpen keeps it closed however many attempts", () => {
    const { b, clock, attempt } = breaker({ failureRateToOpen: 0.6 });
    // 55 %: failure and success in turn, plus one more failure in every 20 attempts.
    const pattern = [...Array.from({ length: 9 }, () => ["answer", "ok"] as const).flat(), "answer", "answer"] as const;
    for (let i = 0; i < 2_000; i++) {
      attempt(pattern[i % pattern.length]!);
      clock.advance(20);
    }
    expect(b.state).toBe("closed");
  });

  it("the window slides: failures older than windowMs no longer count", () => {
    const { b, clock, attempt } = breaker();
    for (let i = 0; i < 19; i++) attempt(i % 2 === 0 ? "answer" : "ok"); // 10 of 19 failed, at one moment
    clock.advance(10_000);
    expect(b.window).toEqual({ attempts: 0, failures: 0 });
    attempt("answer");
    expect(b.state).toBe("closed");
    expect(b.window).toEqual({ attempts: 1, failures: 1 });
    // The same 20th failure without the wait opens it.
    const other = breaker();
    for (let i = 0; i < 19; i++) other.attempt(i % 2 === 0 ? "answer" : "ok");
    other.attempt("answer");
    expect(other.b.state).toBe("open");
  });

  it("failuresToOpen attempts in a row without an answer open it at once; an answer in between starts the count again", () => {
    const { b, transitions, attempt } = breaker({ failuresToOpen: 3 });
    attempt("no_answer");
    attempt("no_answer");
    attempt("answer"); // an HTTP 500 is an answer: the endpoint is up
    attempt("no_answer");
    attempt("no_answer");
    attempt("ok");
    attempt("no_answer");
    attempt("no_answer");
    expect(b.state).toBe("closed");
    attempt("no_answer");
    expect(b.state).toBe("open");
    expect(transitions.map((t) => t.reason)).toEqual(["3 attempts in a row got no answer (last: ECONNREFUSED)"]);
  });

  it("minimumAttempts failures in a row open it even when too sparse to fill the window", () => {
    const { b, clock, transitions, attempt } = breaker();
    for (let i = 0; i < 19; i++) {
      attempt("answer");
      clock.advance(30_000);
    }
    expect(b.state).toBe("closed");
    attempt("answer");
    expect(b.state).toBe("open");
    expect(transitions[0]!.reason).toBe("20 attempts in a row failed (last: HTTP 500)");
  });
});

describe("destination breaker - open and half-open", () => {
  it("each probe waits at least halfOpenAfterMs (doubling per failed probe, up to the max), at most a quarter more", () => {
    for (const r of [0, 0.5, 0.999]) {
      const clock = new TestClock();
      clock.r = () => r;
      const { b, attempt } = breaker({ failuresToOpen: 3, halfOpenAfterMs: 5_000, maxHalfOpenAfterMs: 20_000 }, clock);
      for (let i = 0; i < 3; i++) attempt("no_answer");
      expect(b.state).toBe("open");
      for (const wait of [5_000, 10_000, 20_000, 20_000]) {
        const expected = Math.round(wait * (1 + r * PROBE_JITTER));
        expect(expected).toBeLessThanOrEqual(wait * (1 + PROBE_JITTER));
        clock.advance(expected - 1);
        expect(b.acquire()).toBeUndefined();
        clock.advance(1);
        const probe = b.acquire();
        expect(probe?.probe).toBe(true);
        expect(b.state).toBe("half-open");
        b.failed(probe!, "answer", "HTTP 503");
        expect(b.state).toBe("open");
      }
      clock.advance(20_000 * (1 + PROBE_JITTER));
      expect(attempt("ok")).toBe(true);
      expect(b.state).toBe("closed");
      // Closed again, the waits start over.
      for (let i = 0; i < 3; i++) attempt("no_answer");
      clock.advance(Math.round(5_000 * (1 + r * PROBE_JITTER)));
      expect(b.acquire()?.probe).toBe(true);
    }
  });

  it("L12 - replicas whose breakers opened together probe the recovering destination at spread-out times", () => {
    const waits: number[] = [];
    const next = numbers(7);
    for (let replica = 0; replica < 20; replica++) {
      const clock = new TestClock();
      clock.r = next;
      const { b, attempt } = breaker({ failuresToOpen: 1, halfOpenAfterMs: 4_000 }, clock);
      attempt("no_answer");
      let waited = 0;
      while (!b.acquire()) {
        clock.advance(1);
        waited++;
      }
      waits.push(waited);
    }
    expect(Math.min(...waits)).toBeGreaterThanOrEqual(4_000);
    expect(Math.max(...waits)).toBeLessThanOrEqual(5_000);
    // Twenty replicas in lockstep would all probe at 4,000 ms; spread, they cover much of the next second.
    expect(new Set(waits).size).toBeGreaterThan(15);
    expect(Math.max(...waits) - Math.min(...waits)).toBeGreaterThanOrEqual(400);
  });

  it("half-open lets one probe out at a time; a probe without an outcome hands its turn on; a successful probe (a 4xx too) closes it with a fresh window", () => {
    const { b, clock, transitions, attempt } = breaker({ failuresToOpen: 1, halfOpenAfterMs: 1_000 });
    attempt("no_answer");
    clock.advance(1_000);
    const probe = b.acquire();
    expect(probe?.probe).toBe(true);
    expect(b.acquire()).toBeUndefined(); // the probe is out
    b.released(probe!); // no request was made
    const second = b.acquire();
    expect(second?.probe).toBe(true);
    b.succeeded(second!, "HTTP 404"); // a 4xx is an answer: the destination is up
    expect(b.state).toBe("closed");
    expect(b.window).toEqual({ attempts: 0, failures: 0 });
    expect(transitions.map((t) => [t.from, t.to])).toEqual([
      ["closed", "open"],
      ["open", "half-open"],
      ["half-open", "closed"],
    ]);
    expect(transitions[1]!.reason).toBe("probing after 1000 ms open");
    expect(transitions[2]!.reason).toBe("probe succeeded (HTTP 404)");
  });

  it("outcomes of attempts permitted before a transition do not move the state", () => {
    const { b, clock, attempt } = breaker({ failuresToOpen: 2, halfOpenAfterMs: 1_000 });
    const early = [b.acquire()!, b.acquire()!, b.acquire()!];
    attempt("no_answer");
    attempt("no_answer");
    expect(b.state).toBe("open");
    b.succeeded(early[0]!); // answered after the breaker opened: no probe, still open
    expect(b.state).toBe("open");
    clock.advance(1_000);
    const probe = b.acquire()!;
    b.succeeded(probe);
    expect(b.state).toBe("closed");
    b.failed(early[1]!, "no_answer", "ECONNRESET"); // from before the outage: not in the fresh window
    b.failed(early[2]!, "no_answer", "ECONNRESET");
    expect(b.state).toBe("closed");
    expect(b.window).toEqual({ attempts: 0, failures: 0 });
  });

  it("probeSoon (on resume) lets a probe out now, with the first wait again should it fail", () => {
    const { b, clock, attempt } = breaker({ failuresToOpen: 1, halfOpenAfterMs: 1_000, maxHalfOpenAfterMs: 60_000 });
    attempt("no_answer");
    for (let i = 0; i < 5; i++) {
      clock.advance(60_000);
      b.failed(b.acquire()!, "no_answer", "ECONNREFUSED"); // waits now 32 s and more
    }
    expect(b.acquire()).toBeUndefined();
    b.probeSoon();
    const probe = b.acquire();
    expect(probe?.probe).toBe(true);
    b.failed(probe!, "no_answer", "ECONNREFUSED");
    clock.advance(1_000);
    expect(b.acquire()?.probe).toBe(true);
  });
});

describe("sliding window", () => {
  it("keeps 10 buckets: an attempt counts for windowMs at most and 90 % of it at least", () => {
    const w = new SlidingWindow(10_000);
    w.record(0, true);
    w.record(999, false);
    expect(w.totals(999)).toEqual({ attempts: 2, failures: 1 });
    expect(w.totals(9_999)).toEqual({ attempts: 2, failures: 1 });
    expect(w.totals(10_000)).toEqual({ attempts: 0, failures: 0 });
    w.record(10_500, true);
    w.record(19_999, false);
    expect(w.totals(19_999)).toEqual({ attempts: 2, failures: 1 });
    expect(w.totals(20_000)).toEqual({ attempts: 1, failures: 0 });
    // A bucket's slot reused after a full turn starts from zero.
    w.record(30_000, true);
    expect(w.totals(30_000)).toEqual({ attempts: 1, failures: 1 });
    w.clear();
    expect(w.totals(30_000)).toEqual({ attempts: 0, failures: 0 });
  });
});
