import { writeFileSync } from "node:fs";

/**
 * Loaded into the gateway process under test, and only there, with
 * `NODE_OPTIONS="--expose-gc --import <this file>"`: on SIGUSR2 it runs full garbage collections
 * and writes `process.memoryUsage()` (with a counter) to HOSTILE_MEMORY_FILE. The gateway itself is
 * the production main (dist/main.js); this adds nothing but the handler.
 */
const file = process.env.HOSTILE_MEMORY_FILE;
let samples = 0;
if (file && typeof gc === "function") {
  const collect = gc;
  process.on("SIGUSR2", () => {
    collect();
    collect();
    writeFileSync(file, JSON.stringify({ sample: ++samples, ...process.memoryUsage() }));
  });
}
