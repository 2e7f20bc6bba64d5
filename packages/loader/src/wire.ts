/**
 * What a worker thread needs to read stream messages packed on another thread, without the rest
 * of the package (its pool, the loader, the warehouse): `@tributary/loader/wire`. The aggregator's
 * enrich stage prepares hub messages on its workers with it.
 */
export { decodeHeaders, packMessages, streamSeqOf, unpackMessage } from "./packed.js";
export type { PackedMessages } from "./packed.js";
export { mapMessage } from "./rows.js";
export type { MappedMessage, StreamMessage } from "./rows.js";
export { importWorkerModule } from "./worker-import.js";
/** What the pool gave this worker thread (piscina's, not node:worker_threads', which piscina uses itself). */
export { workerData } from "piscina";
