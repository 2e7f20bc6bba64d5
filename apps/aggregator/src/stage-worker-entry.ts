/** The enrich stage's worker entry (piscina loads it and calls its default export): stage-worker.ts's task. */
import { importWorkerModule } from "@tributary/loader/wire";

const worker = await importWorkerModule<typeof import("./stage-worker.js")>(import.meta.url, "stage-worker");
export default worker.prepareBatch;
