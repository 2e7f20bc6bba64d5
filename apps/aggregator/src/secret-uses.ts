import type { ControlStore } from "@tributary/control";
import { EventHeader } from "@tributary/streams";

/** How often the newest uses seen are written to the control bucket. */
export const SECRET_USE_FLUSH_MS = 15_000;

interface Use {
  source: string;
  secretId: string;
  /** The event's Tributary-Received-At: when the gateway verified it, whatever the lag since. */
  at: string;
}

/**
 * Each source secret's last use, as the hub sees events arrive: every gateway names the secret
 * that verified an event in its `Tributary-Secret-Id` header, this keeps the newest receipt time
 * per secret and writes what moved to the control bucket every few seconds (one write per secret
 * at most, not one per event), where the management API shows it as `lastUsedAt`. ISO-8601 UTC
 * times of one format compare as strings, so no date is parsed per event.
 */
export class SecretUseTracker {
  readonly #seen = new Map<string, Use>();
  readonly #written = new Map<string, string>();
  #timer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: () => ControlStore | undefined,
    private readonly log: { warn(obj: object, msg?: string): void },
  ) {}

  /** Called with every message the loader pulls (cheap: two header reads and a compare). */
  observe(headers: { get(name: string): string } | undefined): void {
    const secretId = headers?.get(EventHeader.SecretId);
    if (!secretId) return;
    const source = headers!.get(EventHeader.Source);
    const at = headers!.get(EventHeader.ReceivedAt);
    if (!source || !at) return;
    const key = `${source}\u0000${secretId}`;
    const known = this.#seen.get(key);
    if (known === undefined) this.#seen.set(key, { source, secretId, at });
    else if (at > known.at) known.at = at;
  }

  start(intervalMs = SECRET_USE_FLUSH_MS): void {
    this.#timer = setInterval(() => void this.flush(), intervalMs);
    this.#timer.unref();
  }

  /** Writes the uses newer than what was written; a failure is logged and retried next time. */
  flush(): Promise<void> {
    this.#flushing = this.#flushing.then(() => this.#write());
    return this.#flushing;
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.flush();
  }

  async #write(): Promise<void> {
    const store = this.store();
    if (!store) return;
    for (const [key, use] of this.#seen) {
      if ((this.#written.get(key) ?? "") >= use.at) continue;
      try {
        await store.markSecretUsed(use.source, use.secretId, use.at);
        this.#written.set(key, use.at);
      } catch (err) {
        this.log.warn({ err, source: use.source, secret: use.secretId }, "could not record a secret's last use");
        return;
      }
    }
  }
}
