import preact from "@preact/preset-vite";
import { defineConfig } from "vite";

// The console is served by the aggregator at /console/, beside the API it calls (same origin).
// Everything is bundled: no CDN, nothing fetched at run time but the API.
export default defineConfig({
  base: "/console/",
  plugins: [preact()],
  build: { outDir: "dist", emptyOutDir: true, sourcemap: true, target: "es2022" },
  server: { proxy: { "/v1": process.env.TRIBUTARY_API_URL ?? "http://127.0.0.1:8090" } },
});
