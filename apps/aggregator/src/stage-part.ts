// What the enrich stage's thread and its workers exchange (stage-worker.ts prepares, enrich-stage.ts publishes).
import type { PortableEnrichOptions } from "@tributary/enrich";

/** What the pool gives each worker: the enricher to rebuild here, or null with enrichment off. */
export interface StageWorkerData {
  enrich: PortableEnrichOptions | null;
}

/** What happened to a message, per message of the batch. */
export const Outcome = {
  /** Forwarded as it came (enrichment off, or a replay that carries its verdicts already). */
  Forwarded: 0,
  /** Could not be mapped (not JSON, headers that disagree): forwarded as it came, for the loader to dead-letter. */
  Unmapped: 1,
  /** Enriched: the stage settles its verdicts and completes its enrichment header. */
  Enriched: 2,
} as const;

/**
 * A prepared batch, transferred back as one buffer: per message its header block without the
 * final blank line (and, for an enriched one, without `Tributary-Enrichment`), its body (empty:
 * the message's own), and the enrichment JSON without the three stateful columns and without its
 * closing brace.
 */
export interface PreparedPart {
  count: number;
  bytes: ArrayBuffer;
  /** Three per message: where its header block, body and enrichment head end in `bytes`. */
  ends: Uint32Array;
  subjects: string[];
  outcome: Uint8Array;
  /** The event key (settle's key; a derived event's origin). */
  keys: string[];
  uniqueKey: Array<string | null>;
  /** The first stateless suspicion rule that matched; -1: not judged. */
  firstHit: Int32Array;
  burstKey: Array<string | null>;
}
