import { validateConfig } from "@tributary/config";
import {
  nextExpiry,
  openSigningKeys,
  SUBSCRIPTION_STATE_FIELDS,
  type BreakerReport,
  type ControlStore,
  type RecordChange,
  type SealingKeys,
  type SubscriptionState,
} from "@tributary/control";
import type { AuditLog } from "@tributary/control-api";
import {
  DestinationSchema,
  type DeliveryLog,
  type DestinationConfig,
  type DestinationStateChange,
} from "@tributary/delivery";
import { headers } from "@nats-io/nats-core";
import { deliveryReplaySubject, EventHeader } from "@tributary/streams";
import { BreakerReporter } from "./health.js";
import type { DeliveryService } from "./service.js";

type SubscriptionRecord = SubscriptionState & Record<string, unknown>;

/** The operator event of an automatic pause, and the source it comes from. */
export const PAUSED_EVENT_TYPE = "tributary.subscription.paused";
export const OPERATOR_SOURCE = "tributary";

/** What a subscription last became here: a deliverer is replaced only when its settings or keys changed. */
interface Applied {
  fingerprint: string;
  record: SubscriptionRecord;
  expiryTimer?: NodeJS.Timeout;
}

export interface SubscriptionSyncOptions {
  service: DeliveryService;
  store: ControlStore;
  keys: SealingKeys;
  audit: AuditLog;
  /** The process-wide non-public addresses every destination may reach. */
  allowPrivate: readonly string[];
  log: DeliveryLog;
  now?: () => Date;
  /** How often every breaker is reported unchanged (BREAKER_REFRESH_MS). */
  breakerRefreshMs?: number;
}

/**
 * Keeps the deliverers in step with the control bucket's subscriptions: a new record starts a
 * deliverer (consumer made), a changed one replaces only its own deliverer (consumer kept, filter
 * moved), a pause or resume acts in place, a deleted one stops and its consumers go. Changes are
 * applied one at a time, in the bucket's order. An automatic pause (the breaker) is written back
 * to the record, so it holds across restarts and shows in the API, and is audited. Each
 * subscription's breaker state is reported into the bucket for the API (health.ts).
 */
export class SubscriptionSync {
  readonly #applied = new Map<string, Applied>();
  #queue: Promise<void> = Promise.resolve();
  #stopWatch: (() => void) | undefined;
  readonly #now: () => Date;
  readonly #breakers: BreakerReporter;

  constructor(private readonly opts: SubscriptionSyncOptions) {
    this.#now = opts.now ?? (() => new Date());
    this.#breakers = new BreakerReporter({
      store: opts.store,
      running: () => this.#breakerStates(),
      log: opts.log,
      now: this.#now,
      ...(opts.breakerRefreshMs !== undefined ? { refreshMs: opts.breakerRefreshMs } : {}),
    });
  }

  *#breakerStates(): Iterable<[string, BreakerReport["state"]]> {
    for (const id of this.#applied.keys()) {
      const running = this.opts.service.deliverers.get(id);
      if (running) yield [id, running.deliverer.breakerState];
    }
  }

  /** Watches the bucket; resolves once the current subscriptions run. */
  async start(): Promise<void> {
    const watch = await this.opts.store.watch<SubscriptionRecord>("subscriptions", (change) =>
      this.#enqueue(() => this.#apply(change)),
    );
    this.#stopWatch = watch.stop;
    await watch.ready;
    await this.#queue;
    this.#breakers.start();
  }

  stop(): void {
    this.#stopWatch?.();
    this.#breakers.stop();
    for (const applied of this.#applied.values()) clearTimeout(applied.expiryTimer);
  }

  /** The deliverers' state hook: an automatic pause is persisted in the subscription's record. */
  onStateChange(change: DestinationStateChange): void {
    if (this.#applied.has(change.destination)) this.#breakers.changed(change);
    if (change.state !== "paused" || !change.automatic || !this.#applied.has(change.destination)) return;
    this.opts.log.warn(
      { subscription: change.destination, reason: change.reason },
      "subscription paused: failing too long",
    );
    this.#enqueue(() => this.#persistPause(change));
  }

  #enqueue(work: () => Promise<void>): void {
    this.#queue = this.#queue
      .then(work)
      .catch((err: unknown) => this.opts.log.error({ err }, "subscription change failed"));
  }

  async #apply(change: RecordChange<SubscriptionRecord>): Promise<void> {
    const { id, value, revision } = change;
    const previous = this.#applied.get(id);
    clearTimeout(previous?.expiryTimer);
    if (value === undefined) {
      this.#applied.delete(id);
      this.#breakers.removed(id);
      await this.opts.service.remove(id);
      this.opts.log.info({ subscription: id, revision }, "subscription removed");
      return;
    }
    const now = this.#now();
    const config = this.#configOf(id, value);
    const paused = value.paused ? { reason: value.pausedReason ?? "paused" } : undefined;
    const fingerprint = JSON.stringify([config, value.signingSecrets.map((s) => [s.id, s.expiresAt ?? ""])]);
    if (previous?.fingerprint === fingerprint && this.opts.service.setPaused(id, paused)) {
      // Only its pause changed: in place, nothing redelivered.
    } else {
      await this.opts.service.apply(config, openSigningKeys(this.opts.keys, id, value.signingSecrets, now), paused);
      this.#breakers.started(id);
    }
    const applied: Applied = { fingerprint, record: value };
    // When a rotated-out secret stops signing, the deliverer is made again without it.
    const expiry = nextExpiry(value.signingSecrets, now);
    if (expiry)
      applied.expiryTimer = setTimeout(
        () => this.#enqueue(() => this.#reapply(id)),
        Math.max(0, expiry.getTime() - now.getTime()) + 100,
      ).unref();
    this.#applied.set(id, applied);
    this.opts.log.info({ subscription: id, revision, paused: value.paused }, "subscription applied");
  }

  async #reapply(id: string): Promise<void> {
    const current = await this.opts.store.get<SubscriptionRecord>("subscriptions", id);
    if (current) await this.#apply({ kind: "subscriptions", id, revision: current.revision, value: current.value });
  }

  /** The record as a destination config, validated (defaults filled) as a config file's would be. */
  #configOf(id: string, record: SubscriptionRecord): DestinationConfig {
    const settings: Record<string, unknown> = { ...record };
    for (const field of SUBSCRIPTION_STATE_FIELDS) delete settings[field];
    const own = Array.isArray(settings.allowPrivate) ? (settings.allowPrivate as string[]) : [];
    return validateConfig(DestinationSchema, {
      ...settings,
      name: id,
      allowPrivate: [...new Set([...this.opts.allowPrivate, ...own])],
      signing: { type: "standard-webhooks", secrets: [] },
      secretHeaders: {},
    });
  }

  /**
   * The pause as an event operators receive like any other: every subscription that names the
   * type `tributary.subscription.paused` in its `types` (and takes source `tributary`) gets it,
   * signed, through its own replay subject, with the usual retries.
   */
  async #announce(id: string, change: DestinationStateChange): Promise<void> {
    const watchers = [...this.#applied].filter(
      ([other, { record }]) =>
        other !== id &&
        Array.isArray(record.types) &&
        record.types.includes(PAUSED_EVENT_TYPE) &&
        (!Array.isArray(record.sources) || record.sources.length === 0 || record.sources.includes(OPERATOR_SOURCE)),
    );
    const key = `${OPERATOR_SOURCE}:paused-${id}-${Date.parse(change.at)}`;
    const body = JSON.stringify({
      type: PAUSED_EVENT_TYPE,
      event_id: key.slice(OPERATOR_SOURCE.length + 1),
      occurred_at: change.at,
      data: { subscription: id, reason: change.reason },
    });
    for (const [watcher] of watchers) {
      const h = headers();
      h.set(EventHeader.OriginalMsgId, key);
      h.set(EventHeader.Source, OPERATOR_SOURCE);
      h.set(EventHeader.EventType, PAUSED_EVENT_TYPE);
      h.set(EventHeader.Region, "hub");
      h.set(EventHeader.ReceivedAt, change.at);
      await this.opts.service.js.publish(deliveryReplaySubject(watcher), body, { headers: h });
    }
  }

  async #persistPause(change: DestinationStateChange): Promise<void> {
    const id = change.destination;
    for (let attempt = 0; attempt < 5; attempt++) {
      const current = await this.opts.store.get<SubscriptionRecord>("subscriptions", id);
      if (!current || current.value.paused) return;
      const after: SubscriptionRecord = {
        ...current.value,
        paused: true,
        pausedReason: `automatic: ${change.reason}`,
        pausedAt: change.at,
        updatedAt: change.at,
      };
      try {
        await this.opts.store.update("subscriptions", id, after, current.revision);
      } catch (err) {
        if ((err as { code?: string }).code === "revision_conflict") continue;
        throw err;
      }
      await this.opts.audit.record(
        { id: "delivery", scope: "admin" },
        { action: "auto_pause", kind: "subscriptions", id, detail: { reason: change.reason, at: change.at } },
      );
      await this.#announce(id, change);
      return;
    }
  }
}
