import { jetstream } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import type { FastifyBaseLogger } from "fastify";
import { ControlStore, type RecordChange, type SealingKeys, type SourceRecord } from "@tributary/control";
import { checkToleranceAgainstWindow, resolveSourceRecord, type GatewayConfig, type ResolvedSource } from "./config.js";

/**
 * The gateway's sources while the control bucket changes them. `config.sources` is the map every
 * request reads its source from, once: a change replaces a source's entry whole (a resolved source
 * is never modified), so each request is verified with one consistent snapshot of its source, and
 * requests in flight finish with the one they started with. A record wins over a file source of
 * the same id; deleting the record brings the file's back.
 */
export class SourceRegistry {
  readonly #fromFile: ReadonlyMap<string, ResolvedSource>;
  readonly #fromStore = new Set<string>();

  constructor(
    private readonly config: GatewayConfig,
    private readonly keys: SealingKeys,
    private readonly log: FastifyBaseLogger,
  ) {
    this.#fromFile = new Map(config.sources);
  }

  /** Applies one change of the bucket. A record that does not resolve keeps the source as it was, and says why. */
  apply(change: RecordChange<SourceRecord>): void {
    const { id, value, revision } = change;
    if (value === undefined) {
      this.#fromStore.delete(id);
      const fromFile = this.#fromFile.get(id);
      if (fromFile) this.config.sources.set(id, fromFile);
      else this.config.sources.delete(id);
      this.log.info({ source: id, revision }, "source removed");
      return;
    }
    try {
      const source = resolveSourceRecord(id, value, this.config.batch, (sealed, place) =>
        this.keys.open(sealed, place),
      );
      checkToleranceAgainstWindow([source], this.config.stream.duplicateWindowSeconds, "configured");
      this.config.sources.set(id, source);
      this.#fromStore.add(id);
      this.log.info({ source: id, revision, secrets: source.secrets.map((s) => s.id) }, "source applied");
    } catch (err) {
      // Never the message's secret text: ConfigError names the field and the problem only.
      const { field, code } = err as { field?: string; code?: string };
      this.log.error({ source: id, revision, field, code }, "source record refused; the source stays as it was");
    }
  }
}

/**
 * Watches the region's mirror of the control bucket (made by the provisioning) and applies each
 * source change. Resolves once the current records are applied; the mirror keeps answering while
 * the hub or the link is down, with the last records it received.
 */
export async function watchSources(nc: NatsConnection, registry: SourceRegistry): Promise<{ stop: () => void }> {
  const store = await ControlStore.open(jetstream(nc), { writable: false });
  const watch = await store.watch<SourceRecord>("sources", (change) => registry.apply(change));
  await watch.ready;
  return { stop: watch.stop };
}
