import { fileURLToPath } from "node:url";

/** The console's built files (index.html, assets/): what the aggregator serves at /console/. */
export const consoleAssetsDir = fileURLToPath(new URL("./dist/", import.meta.url));
