// The web console against a warehouse of 100,000 events: its bundle's size, and how soon the Events
// page shows its first rows after the events API answered (the budget is 300 ms), in Debian's
// Chromium driven headless by playwright-core. The aggregator's HTTP app serves the console and the
// query API over a DuckDB file, in this process.
//   node bench/console-first-rows.bench.mjs [--events 100000] [--runs 7]
/* global document, window, sessionStorage, MutationObserver -- in the functions the page runs (addInitScript, evaluate) */
import { readdirSync, readFileSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { gzipSync } from "node:zlib";
import { chromium } from "playwright-core";
import { randomBytes } from "node:crypto";
import { consoleAssetsDir } from "@tributary/console";
import { SealingKeys } from "@tributary/control";
import { emptyEnrichment } from "@tributary/schema";
import { DuckDbSink } from "@tributary/warehouse";
import { buildHttp } from "../dist/app.js";

const { values } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== "--"),
  options: { events: { type: "string", default: "100000" }, runs: { type: "string", default: "7" } },
});
const N = Number(values.events);
const RUNS = Number(values.runs);
const CHROMIUM = process.env.TRIBUTARY_CHROMIUM ?? "/usr/bin/chromium";
const TOKEN = "bench-token-of-enough-length-000";

function bundle() {
  const files = [];
  const walk = (dir) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (/\.(js|css|html)$/.test(name)) files.push(path);
    }
  };
  walk(consoleAssetsDir);
  let raw = 0;
  let gzip = 0;
  for (const f of files) {
    const bytes = readFileSync(f);
    raw += bytes.length;
    gzip += gzipSync(bytes).length;
  }
  return { files: files.length, raw, gzip };
}

const COUNTRIES = ["US", "DE", "FR", "GB", "BR", "IN", "JP", null];
const DEVICES = ["mobile", "desktop", "tablet", "bot"];

function row(n) {
  const at = new Date(Date.now() - (N - n) * 1000);
  return {
    event_key: `shop:e${n}`,
    source: n % 5 === 0 ? "crm" : "shop",
    event_id: `e${n}`,
    event_type: n % 7 === 0 ? "conversion.tracked" : "link.clicked",
    schema_version: null,
    occurred_at: at,
    received_at: at,
    region: n % 2 ? "us" : "eu",
    region_seq: n + 1,
    payload: JSON.stringify({ event: "link.clicked", data: { link_id: `l${n % 500}`, ip: "203.0.113.0", n } }),
    enriched: {
      ...emptyEnrichment(),
      link_id: `l${n % 500}`,
      geo_country: COUNTRIES[n % COUNTRIES.length],
      device_type: DEVICES[n % DEVICES.length],
      is_bot: n % 4 === 3,
      is_unique: n % 3 === 0,
      is_suspicious: n % 11 === 0,
    },
  };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const dir = mkdtempSync(join(tmpdir(), "tributary-console-bench-"));
const sink = await DuckDbSink.open(join(dir, "w.duckdb"));
let app;
let browser;
try {
  await sink.migrate();
  for (let i = 0; i < N; i += 10_000)
    await sink.insertBatch(Array.from({ length: Math.min(10_000, N - i) }, (_, k) => row(i + k)));
  app = buildHttp({
    reader: sink,
    loader: () => undefined,
    api: {
      queries: sink,
      tokens: [{ id: "bench", token: TOKEN, sources: ["*"], scope: "admin" }],
      // The management routes without a hub (they answer 503): the console signs in through /v1/whoami.
      control: {
        connection: () => undefined,
        keys: SealingKeys.fromEnv({ TRIBUTARY_SEALING_KEYS: `bench:${randomBytes(32).toString("base64")}` }),
      },
    },
  });
  const url = await app.listen({ host: "127.0.0.1", port: 0 });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox", "--disable-dev-shm-usage"] });
  const page = await browser.newPage();
  // When the first row of the events table is in the document, in the page's own clock.
  await page.addInitScript(() => {
    new MutationObserver((_, observer) => {
      if (document.querySelector("tbody tr")) {
        window.__firstRowsAt = performance.now();
        observer.disconnect();
      }
    }).observe(document, { childList: true, subtree: true });
  });
  await page.goto(`${url}/console/`);
  await page.evaluate((t) => sessionStorage.setItem("tributary.console.token", t), TOKEN);
  const afterApi = [];
  const apiMs = [];
  for (let run = 0; run < RUNS; run++) {
    await page.goto(`${url}/console/?run=${run}#/events`);
    await page.waitForSelector("tbody tr", { timeout: 30_000 }).catch(async (err) => {
      console.error((await page.content()).slice(0, 3000));
      throw err;
    });
    const timing = await page.evaluate(() => {
      const api = performance
        .getEntriesByType("resource")
        .filter((e) => /\/v1\/events\?/.test(e.name))
        .at(-1);
      return { firstRowsAt: window.__firstRowsAt, responseEnd: api.responseEnd, requestStart: api.requestStart };
    });
    afterApi.push(timing.firstRowsAt - timing.responseEnd);
    apiMs.push(timing.responseEnd - timing.requestStart);
  }
  const size = bundle();
  console.log(
    `console bundle: ${size.files} files, ${(size.raw / 1024).toFixed(1)} KiB, ${(size.gzip / 1024).toFixed(1)} KiB gzip`,
  );
  console.log(
    `Events page over ${N} stored events, ${RUNS} loads: first rows ${median(afterApi).toFixed(1)} ms after the API answered (median; max ${Math.max(...afterApi).toFixed(1)}), the API ${median(apiMs).toFixed(1)} ms (median)`,
  );
} finally {
  await browser?.close();
  await app?.close();
  await sink.close();
  rmSync(dir, { recursive: true, force: true });
}
