/** The mapping pool's worker entry (piscina loads it and calls its default export): map-worker.ts's task. */
import { importWorkerModule } from "@tributary/loader/wire";

const worker = await importWorkerModule<typeof import("./map-worker.js")>(import.meta.url, "map-worker");
export default worker.mapPacked;
