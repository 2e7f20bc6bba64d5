import type { Enricher } from "@tributary/enrich";
import { defaultMappingWorkers, fixedWorkerPool, type PackedMessages } from "@tributary/loader";
import type { BatchPreparer } from "./enrich-stage.js";
import type { PreparedPart, StageWorkerData } from "./stage-part.js";

const ENTRY = new URL(
  import.meta.url.endsWith(".ts") ? "./stage-worker-entry.ts" : "./stage-worker-entry.js",
  import.meta.url,
);

/**
 * The enrich stage's worker threads, each with the enricher rebuilt from its `portable()` options
 * (the same derivations, the same visitor key): batches of hub messages go in as one transferred
 * buffer and come back prepared, in one buffer too.
 */
export class StagePool implements BatchPreparer {
  readonly workers: number;
  readonly #pool: ReturnType<typeof fixedWorkerPool>;

  constructor(options: { enricher: Enricher | undefined; workers?: number }) {
    this.workers = options.workers ?? defaultMappingWorkers();
    const portable = options.enricher?.portable();
    if (options.enricher && !portable)
      throw new TypeError(
        "the enricher's geo or campaign lookup cannot be rebuilt on a worker (use openGeoDatabase and campaignFile or campaignMap)",
      );
    const workerData: StageWorkerData = { enrich: portable ?? null };
    this.#pool = fixedWorkerPool(ENTRY, this.workers, workerData);
  }

  prepare(packed: PackedMessages): Promise<PreparedPart> {
    return this.#pool.run(packed, { transferList: [packed.bytes] }) as Promise<PreparedPart>;
  }

  async close(): Promise<void> {
    await this.#pool.close();
  }
}
