import { createHash } from "node:crypto";
import { makeEvent, pickType, prng } from "../k6/lib/payload.js";
import { batchProbability, type Tier, type TiersFile } from "./tiers.js";

/** One event inside a request, with the key the gateway will derive for it. */
export interface PlannedEvent {
  key: string;
  /** Unique per run (`data.lt.seq` in the body); resends repeat it. */
  seq: number;
}

export interface PlannedRequest {
  /** Index of the arrival; its intended send time is start + index / requestRate. */
  index: number;
  kind: "single" | "batch" | "resend";
  path: string;
  contentType: string;
  body: string;
  /** Delivery id (x-webhook-id) of a single event, also its body's event_id, which keys it (as it keys batch items). */
  deliveryId: string | undefined;
  events: PlannedEvent[];
  /** The region it goes to first. */
  region: string;
}

export function sha256Hex(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/**
 * The request stream of one run: the tier's mix of single events, NDJSON batches and resends of
 * earlier requests (a sender's retry: same body, same delivery id), spread over the regions.
 * The draws follow a seeded PRNG; which earlier request a resend repeats also depends on which
 * requests were acknowledged by then, so two runs match in shape, not byte for byte.
 */
export class Workload {
  readonly #random: () => number;
  readonly #batchP: number;
  #seq = 0;
  #index = 0;
  /** Recently acknowledged requests, the pool resends are drawn from (bounded). */
  readonly #resendable: PlannedRequest[] = [];

  constructor(
    private readonly tiers: TiersFile,
    private readonly tier: Tier,
    private readonly regions: readonly string[],
    readonly run: string,
    seed = 1,
  ) {
    this.#random = prng(seed);
    this.#batchP = batchProbability(tier);
  }

  #event(now: Date): { body: string; id: string; seq: number } {
    const seq = this.#seq++;
    const mix = pickType(this.tiers.eventMix, this.#random());
    const id = `${this.run}-${seq}`;
    return { id, seq, body: makeEvent({ type: mix.type, id, seq, run: this.run, bytes: mix.bytes, now }) };
  }

  next(now = new Date()): PlannedRequest {
    const index = this.#index++;
    const region = this.regions[index % this.regions.length]!;
    const source = this.tiers.source;
    if (this.#resendable.length > 0 && this.#random() < this.tier.resendShare) {
      const earlier = this.#resendable[Math.floor(this.#random() * this.#resendable.length)]!;
      // Half the resends land in the other region: the cross-region duplicate the hub and the
      // aggregator must fold into one row.
      const to =
        this.#random() < 0.5
          ? earlier.region
          : this.regions[(this.regions.indexOf(earlier.region) + 1) % this.regions.length]!;
      return { ...earlier, index, kind: "resend", region: to };
    }
    if (this.#random() < this.#batchP) {
      const items = Array.from({ length: this.tier.batch.size }, () => this.#event(now));
      return {
        index,
        kind: "batch",
        region,
        path: `/v1/sources/${source}/batch`,
        contentType: "application/x-ndjson",
        body: items.map((i) => i.body).join("\n") + "\n",
        deliveryId: undefined,
        // Keyed by each body's event_id (the default scheme's id field), as single events are.
        events: items.map((i) => ({ key: `${source}:${i.id}`, seq: i.seq })),
      };
    }
    const event = this.#event(now);
    return {
      index,
      kind: "single",
      region,
      path: `/v1/sources/${source}/events`,
      contentType: "application/json",
      body: event.body,
      deliveryId: event.id,
      events: [{ key: `${source}:${event.id}`, seq: event.seq }],
    };
  }

  /** A request the gateway acknowledged may be resent later. */
  acknowledged(req: PlannedRequest): void {
    if (req.kind === "resend") return;
    if (this.#resendable.length < 256) this.#resendable.push(req);
    else this.#resendable[Math.floor(this.#random() * 256)] = req;
  }
}
