import { availableParallelism } from "node:os";
import type { JsMsg } from "@nats-io/jetstream";
import type { Enricher } from "@tributary/enrich";
import { concatColumns, NULL_FLAG } from "@tributary/warehouse";
// piscina: a maintained worker-thread pool (task queue, crashed workers replaced, transfer lists),
// rather than pooling by hand.
import { Piscina } from "piscina";
import type { MappedBatch, BatchMapper } from "./mapped.js";
import type { MappedPart, MapWorkerData } from "./map-worker.js";
import { packMessages } from "./packed.js";

export interface MappingPoolOptions {
  /** Worker threads (default: the cores less one for the loader's thread, 1 to 4). */
  workers?: number;
  /**
   * The enrichment stage. Its stateless part (geo, user agent, referrer, anonymisation, redaction,
   * the rules' keys) runs on the workers, on an enricher rebuilt there from `portable()`; its
   * verdicts that depend on every event seen before (is_unique, bursts) are settled by this one,
   * on the loader's thread, in stream order.
   */
  enricher?: Enricher;
  /**
   * The messages carry their enriched columns (the enrich stage's `Tributary-Enrichment`): the
   * workers read them instead of deriving any (give no `enricher` then).
   */
  enrichedMessages?: boolean;
}

/** Messages a worker takes at least, when a batch is split between workers. */
const MIN_PART = 500;

/** A pool of exactly `workers` threads, kept for the process's life, each given `workerData`. */
export function fixedWorkerPool(entry: URL, workers: number, workerData: unknown): Piscina {
  return new Piscina({
    filename: entry.href,
    minThreads: workers,
    maxThreads: workers,
    idleTimeout: Infinity,
    workerData,
  });
}

export function defaultMappingWorkers(): number {
  return Math.max(1, Math.min(4, availableParallelism() - 1));
}

const ENTRY = new URL(
  import.meta.url.endsWith(".ts") ? "./map-worker-entry.ts" : "./map-worker-entry.js",
  import.meta.url,
);

/**
 * Parsing, validation, mapping and the enrichment stage on worker threads: the loader's thread
 * packs a batch's messages into one transferred buffer and gets the rows back column by column,
 * so it only pulls, appends and acks. A batch is split between the workers (at least MIN_PART
 * messages each) and its parts are put back in order.
 *
 * Uniqueness and bursts count every event a process has seen, so they cannot be decided per
 * worker (a visitor's events would land on several, each seeing part of them), nor can a batch be
 * routed by visitor without parsing it first. So the workers derive each event's rule keys and
 * this thread settles the verdicts from them, batch after batch in the order `map` was called:
 * the same verdicts as the enricher gives on one thread, whatever the number of workers.
 */
export class MappingPool implements BatchMapper {
  readonly workers: number;
  readonly #pool: Piscina;
  readonly #enricher: Enricher | undefined;
  /** The previous batch's settling: each batch is settled after it. */
  #settled: Promise<unknown> = Promise.resolve();

  constructor(options: MappingPoolOptions = {}) {
    this.workers = options.workers ?? defaultMappingWorkers();
    if (!(Number.isInteger(this.workers) && this.workers >= 1))
      throw new RangeError(`MappingPool: workers must be a positive integer, got ${options.workers}`);
    const portable = options.enricher?.portable();
    if (options.enricher && !portable)
      throw new TypeError(
        "MappingPool: the enricher's geo or campaign lookup cannot be rebuilt on a worker (use openGeoDatabase and campaignFile or campaignMap)",
      );
    this.#enricher = options.enricher;
    const workerData: MapWorkerData = { enrich: portable ?? null, enrichedMessages: options.enrichedMessages === true };
    this.#pool = fixedWorkerPool(ENTRY, this.workers, workerData);
  }

  map(msgs: readonly JsMsg[]): Promise<MappedBatch> {
    const parts = Math.max(1, Math.min(this.workers, Math.floor(msgs.length / MIN_PART)));
    const size = Math.ceil(msgs.length / parts);
    const mapped = Promise.all(
      Array.from({ length: parts }, (_, p) => {
        const packed = packMessages(msgs.slice(p * size, (p + 1) * size));
        return this.#pool.run(packed, { transferList: [packed.bytes] }) as Promise<MappedPart>;
      }),
    );
    const settled = this.#settled.then(
      () => mapped,
      () => mapped,
    );
    const batch = settled.then((done) => this.#settle(done, size));
    this.#settled = batch.catch(() => undefined);
    return batch;
  }

  /** The parts as one batch, with the stateful verdicts settled in order. */
  #settle(parts: readonly MappedPart[], size: number): MappedBatch {
    const rowOf = new Int32Array(parts.reduce((n, p) => n + p.rowOf.length, 0));
    const poison = new Map<number, string>();
    let rowsBefore = 0;
    parts.forEach((part, p) => {
      part.rowOf.forEach((row, i) => (rowOf[p * size + i] = row < 0 ? -1 : rowsBefore + row));
      for (const [i, reason] of part.poison) poison.set(p * size + i, reason);
      rowsBefore += part.rows.length;
    });
    const rows = concatColumns(parts.map((p) => p.rows));
    const enriched = rows.enriched;
    if (this.#enricher && enriched) {
      let r = 0;
      for (const part of parts) {
        const pending = part.pending!;
        for (let i = 0; i < part.rows.length; i++, r++) {
          const firstHit = pending.firstHit[i]!;
          const burstKey = pending.burstKey[i] ?? null;
          const v = this.#enricher.settle(rows.event_key[r]!, {
            uniqueKey: pending.uniqueKey[i] ?? null,
            suspicion: firstHit < 0 ? null : { firstHit, burstKey },
          });
          enriched.is_unique[r] = v.is_unique === null ? NULL_FLAG : v.is_unique ? 1 : 0;
          enriched.is_suspicious[r] = v.is_suspicious === null ? NULL_FLAG : v.is_suspicious ? 1 : 0;
          enriched.suspicious_reason[r] = v.suspicious_reason;
        }
      }
    }
    return { rows, rowOf, poison };
  }

  async close(): Promise<void> {
    await this.#pool.close();
  }
}
