import { setTimeout as delay } from "node:timers/promises";
import { Pool } from "undici";
import { signWebhookHmacSha256 } from "@tributary/local";
import type { Timeline } from "./stats.js";
import type { PlannedEvent, PlannedRequest } from "./workload.js";

/** Answers a sender retries: the gateway says "later" (Retry-After), or the connection failed. */
const RETRYABLE_CODES = new Set(["buffer_full", "buffer_unavailable", "overloaded", "shutting_down", "rate_limited"]);

export const DEFAULT_MAX_ATTEMPTS = 8;
/** A Retry-After above this is waited only this long (the run is bounded in time). */
export const DEFAULT_MAX_RETRY_WAIT_MS = 5_000;
export const DEFAULT_CONNECTIONS_PER_GATEWAY = 64;
/** A request without headers by then counts as a network failure (the gateway's own publish timeout is 5 s). */
const REQUEST_TIMEOUT_MS = 30_000;

export interface SendOutcome {
  acked: PlannedEvent[];
  /** Events still not acknowledged after every attempt, or refused with a 4xx. */
  failed: PlannedEvent[];
  attempts: number;
  latencyMs: number;
}

interface BatchItem {
  status: "accepted" | "duplicate" | "error";
  event_key?: string;
  code?: string;
}

/**
 * Sends planned requests like a well-behaved sender: signed, over keep-alive connections, and on
 * 429/503 or a failed connection it waits Retry-After and tries again, the next time in the other
 * region (the failover a global load balancer does). Every answer is counted in the timeline.
 */
export class Sender {
  readonly #pools = new Map<string, Pool>();
  readonly #regions: string[];

  constructor(
    gateways: ReadonlyMap<string, string>,
    private readonly secret: string,
    private readonly timeline: Timeline,
    private readonly opts: { maxAttempts?: number; maxRetryWaitMs?: number; connections?: number } = {},
  ) {
    for (const [region, url] of gateways) {
      this.#pools.set(
        region,
        new Pool(url, {
          connections: opts.connections ?? DEFAULT_CONNECTIONS_PER_GATEWAY,
          headersTimeout: REQUEST_TIMEOUT_MS,
          bodyTimeout: REQUEST_TIMEOUT_MS,
        }),
      );
    }
    this.#regions = [...gateways.keys()];
  }

  async send(req: PlannedRequest, intendedMs: number): Promise<SendOutcome> {
    const acked = new Map<string, PlannedEvent>();
    let failed: PlannedEvent[] = [];
    let region = req.region;
    const maxAttempts = this.opts.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
    let attempts = 0;
    for (; attempts < maxAttempts;) {
      attempts++;
      const headers = signWebhookHmacSha256({
        secret: this.secret,
        body: req.body,
        ...(req.deliveryId ? { deliveryId: req.deliveryId } : {}),
      });
      headers["content-type"] = req.contentType;
      let retryAfterMs = 1_000;
      let retry = false;
      try {
        const res = await this.#pools.get(region)!.request({ path: req.path, method: "POST", headers, body: req.body });
        const text = await res.body.text();
        const json = text ? (JSON.parse(text) as { items?: BatchItem[]; error?: { code?: string } }) : {};
        const code = json.error?.code;
        this.timeline.answer(code ? `${res.statusCode} ${code}` : String(res.statusCode));
        const after = Number(res.headers["retry-after"]);
        if (Number.isFinite(after) && after > 0) retryAfterMs = after * 1000;
        if (res.statusCode === 202 || (res.statusCode === 200 && req.kind !== "batch" && !json.items)) {
          for (const e of req.events) acked.set(e.key, e);
          failed = [];
        } else if (res.statusCode === 200 && json.items) {
          failed = [];
          json.items.forEach((item, i) => {
            const event = req.events[i]!;
            if (item.status === "accepted" || item.status === "duplicate") acked.set(event.key, event);
            else if (item.code && RETRYABLE_CODES.has(item.code)) retry = true;
            else failed.push(event);
          });
        } else if (res.statusCode === 429 || res.statusCode === 503) {
          retry = true;
        } else {
          // A 4xx here is the driver's own fault (a signing or payload bug): never retried.
          failed = req.events.filter((e) => !acked.has(e.key));
        }
      } catch (err) {
        this.timeline.answer(`network ${(err as { code?: string }).code ?? (err as Error).name}`);
        retry = true;
      }
      if (!retry) break;
      if (attempts === maxAttempts) break;
      await delay(Math.min(retryAfterMs, this.opts.maxRetryWaitMs ?? DEFAULT_MAX_RETRY_WAIT_MS));
      region = this.#regions[(this.#regions.indexOf(region) + 1) % this.#regions.length]!;
    }
    const missing = req.events.filter((e) => !acked.has(e.key) && !failed.includes(e));
    return {
      acked: [...acked.values()],
      failed: [...failed, ...missing],
      attempts,
      latencyMs: Date.now() - intendedMs,
    };
  }

  async close(): Promise<void> {
    await Promise.all([...this.#pools.values()].map((p) => p.close()));
  }
}
