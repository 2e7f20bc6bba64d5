import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { freePorts } from "./ports.js";
import { track } from "./processes.js";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";

/**
 * A real ClickHouse server (for tests, and for the load test's warehouse-stop fault): the binary from $TRIBUTARY_CLICKHOUSE_SERVER or from
 * scripts/ensure-clickhouse.sh (which installs Debian's package when missing), started on free
 * loopback ports with its own config, users and data in a temp dir. stop()/start() keep the data
 * and the ports, so a test can take the server away and bring it back.
 */
export interface ClickHouseTestServer {
  readonly httpPort: number;
  readonly dir: string;
  /** `clickhouse://127.0.0.1:<port>/<database>`, as the default user (no password). */
  url(database: string): string;
  /** A user with a password, for URL credential tests. */
  readonly user: { name: string; password: string };
  start(): Promise<void>;
  /** SIGTERM, then SIGKILL after 10 s. */
  stop(): Promise<void>;
  /** SIGSTOP / SIGCONT: the server keeps its sockets but answers nothing. */
  pause(): void;
  resume(): void;
  dispose(): Promise<void>;
}

/** The repo root: the nearest folder above this file with scripts/ensure-clickhouse.sh. */
function repoRoot(): string {
  let dir = import.meta.dirname;
  while (!existsSync(join(dir, "scripts", "ensure-clickhouse.sh"))) {
    const parent = dirname(dir);
    if (parent === dir)
      throw new Error(
        "scripts/ensure-clickhouse.sh not found above @tributary/processes; set TRIBUTARY_CLICKHOUSE_SERVER",
      );
    dir = parent;
  }
  return dir;
}

/** The command that runs a server: [binary, ...leading args]. */
export function clickHouseCommand(): [string, ...string[]] {
  const fromEnv = process.env.TRIBUTARY_CLICKHOUSE_SERVER;
  let line: string;
  if (fromEnv && existsSync(fromEnv)) {
    line = basename(fromEnv) === "clickhouse" ? `${fromEnv} server` : fromEnv;
  } else {
    line = execFileSync("bash", [join(repoRoot(), "scripts/ensure-clickhouse.sh")], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "inherit"],
    })
      .trim()
      .split("\n")
      .at(-1)!;
  }
  const multi = / server$/.exec(line);
  return multi ? [line.slice(0, multi.index), "server"] : [line];
}

function configXml(dir: string, httpPort: number, tcpPort: number): string {
  return `<?xml version="1.0"?>
<yandex>
  <logger>
    <level>warning</level>
    <log>${dir}/log/server.log</log>
    <errorlog>${dir}/log/server.err.log</errorlog>
    <size>10M</size>
    <count>1</count>
  </logger>
  <http_port>${httpPort}</http_port>
  <tcp_port>${tcpPort}</tcp_port>
  <listen_host>127.0.0.1</listen_host>
  <path>${dir}/data/</path>
  <tmp_path>${dir}/tmp/</tmp_path>
  <user_files_path>${dir}/user_files/</user_files_path>
  <format_schema_path>${dir}/format_schemas/</format_schema_path>
  <users_config>${dir}/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <timezone>UTC</timezone>
  <mark_cache_size>67108864</mark_cache_size>
  <uncompressed_cache_size>67108864</uncompressed_cache_size>
  <keep_alive_timeout>3</keep_alive_timeout>
  <mlock_executable>false</mlock_executable>
</yandex>
`;
}

// <clickhouse> is the root element of newer releases; <yandex> is still accepted by them.
function usersXml(password: string): string {
  const user = (pw: string) =>
    `<password>${pw}</password><networks><ip>127.0.0.1</ip><ip>::1</ip></networks><profile>default</profile><quota>default</quota>`;
  return `<?xml version="1.0"?>
<yandex>
  <profiles><default><max_memory_usage>2000000000</max_memory_usage></default></profiles>
  <users>
    <default>${user("")}</default>
    <tributary>${user(password)}</tributary>
  </users>
  <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors><result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval></default></quotas>
</yandex>
`;
}

async function ping(port: number): Promise<boolean> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/ping`, { signal: AbortSignal.timeout(1_000) });
    return res.ok && (await res.text()).trim() === "Ok.";
  } catch {
    return false;
  }
}

export async function startClickHouse(): Promise<ClickHouseTestServer> {
  const command = clickHouseCommand();
  const dir = mkdtempSync(join(tmpdir(), "tributary-clickhouse-"));
  for (const sub of ["log", "data", "tmp", "user_files", "format_schemas"]) mkdirSync(join(dir, sub));
  const [httpPort, tcpPort] = (await freePorts(2)) as [number, number];
  const password = "s3cret:p@ss";
  writeFileSync(join(dir, "config.xml"), configXml(dir, httpPort, tcpPort));
  writeFileSync(join(dir, "users.xml"), usersXml(password));
  let child: ChildProcess | null = null;
  let exited: Promise<void> = Promise.resolve();

  const start = async () => {
    if (child) return;
    const proc = spawn(command[0], [...command.slice(1), `--config-file=${join(dir, "config.xml")}`], {
      cwd: dir,
      stdio: ["ignore", "ignore", "pipe"],
    });
    track(proc); // killed with the test process, whatever happens
    let stderr = "";
    proc.stderr!.on("data", (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4_000);
    });
    let gone = false;
    exited = new Promise((done) => proc.once("exit", () => ((gone = true), done())));
    child = proc;
    const deadline = Date.now() + 30_000;
    while (!(await ping(httpPort))) {
      if (gone || Date.now() > deadline) {
        child = null;
        proc.kill("SIGKILL");
        const errLog = join(dir, "log/server.err.log");
        const tail = existsSync(errLog) ? readFileSync(errLog, "utf8").slice(-2_000) : "";
        throw new Error(`ClickHouse (${command.join(" ")}) did not answer /ping on ${httpPort}: ${stderr}\n${tail}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  const stop = async () => {
    const proc = child;
    if (!proc) return;
    child = null;
    proc.kill("SIGCONT"); // in case it was paused
    proc.kill("SIGTERM");
    const killer = setTimeout(() => proc.kill("SIGKILL"), 10_000);
    await exited;
    clearTimeout(killer);
  };

  await start();
  return {
    httpPort,
    dir,
    user: { name: "tributary", password },
    url: (database) => `clickhouse://127.0.0.1:${httpPort}/${database}`,
    start,
    stop,
    pause: () => void child?.kill("SIGSTOP"),
    resume: () => void child?.kill("SIGCONT"),
    dispose: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
