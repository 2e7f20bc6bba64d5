import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { freePorts, stopProcess, track, waitFor } from "@tributary/processes";

export class PrometheusNotFoundError extends Error {
  constructor() {
    super(
      "prometheus and promtool were not found: run `bash scripts/ensure-prometheus.sh` (Debian's package), or set TRIBUTARY_PROMETHEUS_DIR to the folder holding both.",
    );
    this.name = "PrometheusNotFoundError";
  }
}

/** The folder holding `prometheus` and `promtool`: TRIBUTARY_PROMETHEUS_DIR, the PATH, /usr/bin. */
export function findPrometheusDir(env: NodeJS.ProcessEnv = process.env): string {
  const candidates = [env.TRIBUTARY_PROMETHEUS_DIR, ...(env.PATH ?? "").split(":"), "/usr/bin", "/usr/local/bin"];
  for (const dir of candidates) {
    if (dir && existsSync(join(dir, "prometheus")) && existsSync(join(dir, "promtool"))) return dir;
  }
  throw new PrometheusNotFoundError();
}

/** Runs promtool with the arguments; resolves with its exit code and output. */
export function promtool(args: string[], cwd?: string): { code: number | null; output: string } {
  const result = spawnSync(join(findPrometheusDir(), "promtool"), args, { cwd, encoding: "utf8" });
  return { code: result.status, output: `${result.stdout}${result.stderr}` };
}

export interface PrometheusServer {
  url: string;
  /** An instant query; resolves with the result vector (or matrix/scalar) as Prometheus returns it. */
  query(promql: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>>;
  stop(): Promise<void>;
}

export interface PrometheusOptions {
  /** Folder for the config and the TSDB (a test's temp dir). */
  dir: string;
  /** Scrape jobs: name → `host:port` targets (loopback only). */
  jobs: Record<string, string[]>;
  scrapeIntervalSeconds?: number;
  /** Rule files to load (alerting and recording rules). */
  ruleFiles?: string[];
}

/** A real Prometheus on a free loopback port, scraping the given targets. */
export async function startPrometheus(opts: PrometheusOptions): Promise<PrometheusServer> {
  mkdirSync(opts.dir, { recursive: true });
  const interval = `${opts.scrapeIntervalSeconds ?? 1}s`;
  const jobs = Object.entries(opts.jobs)
    .map(
      ([name, targets]) =>
        `  - job_name: ${JSON.stringify(name)}\n    static_configs:\n      - targets: ${JSON.stringify(targets)}`,
    )
    .join("\n");
  const rules = opts.ruleFiles?.length ? `rule_files: ${JSON.stringify(opts.ruleFiles)}\n` : "";
  const configFile = join(opts.dir, "prometheus.yml");
  writeFileSync(
    configFile,
    `global:\n  scrape_interval: ${interval}\n  evaluation_interval: ${interval}\n${rules}scrape_configs:\n${jobs}\n`,
  );
  const [port] = await freePorts(1);
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(
    join(findPrometheusDir(), "prometheus"),
    [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${join(opts.dir, "data")}`,
      `--web.listen-address=127.0.0.1:${port}`,
      "--log.level=warn",
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  track(child);
  let tail = "";
  const keep = (c: Buffer) => (tail = (tail + c.toString("utf8")).slice(-8192));
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  await waitFor(
    "prometheus ready",
    async () => {
      if (child.exitCode !== null) throw new Error(`prometheus exited with code ${child.exitCode}:\n${tail}`);
      const res = await fetch(`${url}/-/ready`).catch(() => undefined);
      return res?.ok ? true : undefined;
    },
    30_000,
    200,
  );
  return {
    url,
    async query(promql) {
      const res = await fetch(`${url}/api/v1/query?${new URLSearchParams({ query: promql })}`);
      const body = (await res.json()) as {
        status: string;
        error?: string;
        data?: { resultType: string; result: unknown };
      };
      if (body.status !== "success") throw new Error(`query ${promql} failed: ${body.error}`);
      const result = body.data!.result;
      if (body.data!.resultType === "scalar") return [{ metric: {}, value: result as [number, string] }];
      return result as Array<{ metric: Record<string, string>; value: [number, string] }>;
    },
    stop: async () => {
      await stopProcess(child, "SIGTERM", 10_000);
    },
  };
}
