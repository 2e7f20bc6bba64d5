import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, mkdir, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { findNatsServer } from "./nats-binary.js";
import { stopProcess, track, waitFor } from "./processes.js";

export interface NatsServerOptions {
  /** Server name (shows in logs and `server_name`); default "tributary-test". */
  name?: string;
  /** Enable JetStream with a store dir; default true. */
  jetstream?: boolean;
  /** JetStream domain, e.g. a region name or "hub". */
  domain?: string;
  /** Client port; default: a free port chosen by the server (`-1`), kept across restarts. */
  port?: number;
  /** Store and log dir; default: a new temp dir, removed by `cleanup()`. */
  dir?: string;
  /** Extra config appended verbatim (leafnodes, accounts, authorization …). */
  extraConfig?: string;
  /** Extra lines inside the `jetstream { }` block, e.g. `sync_interval: always`. */
  jetstreamExtra?: string;
  /** Path of the nats-server binary; default: findNatsServer(). */
  binary?: string;
  /**
   * Renders the whole server config instead (topology tests use the production renderer). Ports
   * are -1 on the first start and pinned afterwards; startNatsServer appends only its ports-file and
   * monitoring lines.
   */
  config?: (ctx: { storeDir: string; port: number; leafnodePort: number }) => string;
  /** The config listens for leafnodes: wait for that port and pin it across restarts. */
  leafnodeListener?: boolean;
}

export interface NatsServerPorts {
  client: number;
  monitoring: number;
  leafnode: number | null;
}

/** A real nats-server child process on loopback. */
export interface NatsServer {
  readonly url: string;
  readonly ports: NatsServerPorts;
  readonly dir: string;
  readonly configPath: string;
  readonly pid: number;
  /** Graceful stop (SIGTERM, then SIGKILL after a grace period). */
  stop(): Promise<void>;
  /** Hard kill, as a crash would. */
  kill(): Promise<void>;
  /** Starts it again on the same ports and store dir. */
  restart(): Promise<void>;
  /** Stops it if running and removes the temp dir (when startNatsServer created it). */
  cleanup(): Promise<void>;
}

function renderConfig(opts: NatsServerOptions, dir: string, ports: Partial<NatsServerPorts>): string {
  if (opts.config) {
    const body = opts.config({
      storeDir: join(dir, "jetstream"),
      port: ports.client ?? opts.port ?? -1,
      leafnodePort: ports.leafnode ?? -1,
    });
    return `${body}\nhttp: "127.0.0.1:${ports.monitoring ?? -1}"\nports_file_dir: ${JSON.stringify(dir)}\n`;
  }
  const lines = [
    `server_name: ${JSON.stringify(opts.name ?? "tributary-test")}`,
    `host: 127.0.0.1`,
    `port: ${ports.client ?? opts.port ?? -1}`,
    `http: "127.0.0.1:${ports.monitoring ?? -1}"`,
    `ports_file_dir: ${JSON.stringify(dir)}`,
  ];
  if (opts.jetstream !== false) {
    lines.push(
      `jetstream {`,
      `  store_dir: ${JSON.stringify(join(dir, "jetstream"))}`,
      // Streams reserve their max_bytes against this limit, which nats-server otherwise sets to 75 %
      // of the disk's free space when it starts: the project's default stream sizes (a 50 GiB hub)
      // would then fail with "insufficient storage resources" wherever the disk has less free, which
      // says nothing about the code. Test streams hold megabytes.
      `  max_file_store: 1T`,
      ...(opts.domain ? [`  domain: ${JSON.stringify(opts.domain)}`] : []),
      ...(opts.jetstreamExtra ? [`  ${opts.jetstreamExtra}`] : []),
      `}`,
    );
  }
  let extra = opts.extraConfig ?? "";
  // A leafnode listen port of -1 must be pinned after the first start, so restarts keep it.
  if (ports.leafnode) extra = extra.replace(/(leafnodes\s*\{[^}]*?port:\s*)-1/, `$1${ports.leafnode}`);
  lines.push(extra);
  return lines.join("\n") + "\n";
}

/** The ports file lists client and monitoring ports only; the leafnode port is read from the log. */
const LEAFNODE_LISTEN_LINE = /Listening for leafnode connections on [^\s]*:(\d+)/;

async function readPortsFile(
  dir: string,
  pid: number,
  log: string,
  wantsLeafnode: boolean,
): Promise<NatsServerPorts | undefined> {
  const file = join(dir, `nats-server_${pid}.ports`);
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch {
    return undefined;
  }
  const parsed = JSON.parse(text) as { nats?: string[]; monitoring?: string[]; leafnodes?: string[] };
  const portOf = (urls: string[] | undefined): number | null => {
    const first = urls?.[0];
    return first ? Number(new URL(first).port) : null;
  };
  const client = portOf(parsed.nats);
  const monitoring = portOf(parsed.monitoring);
  if (!client || !monitoring) return undefined;
  const leafMatch = LEAFNODE_LISTEN_LINE.exec(log);
  if (wantsLeafnode && !leafMatch) return undefined;
  return { client, monitoring, leafnode: leafMatch ? Number(leafMatch[1]) : null };
}

async function waitHealthy(monitoringPort: number, jetstream: boolean): Promise<void> {
  const path = jetstream ? "/healthz?js-enabled-only=true" : "/healthz";
  await waitFor(`nats-server healthz on ${monitoringPort}`, async () => {
    const res = await fetch(`http://127.0.0.1:${monitoringPort}${path}`);
    return res.ok ? true : undefined;
  });
}

/**
 * Starts a real nats-server on loopback with its own temp dir. The first start lets the server pick
 * free ports (`-1`) and reads them back from its ports file, so parallel tests never race for a port;
 * restarts reuse the same ports and store.
 */
export async function startNatsServer(opts: NatsServerOptions = {}): Promise<NatsServer> {
  const binary = opts.binary ?? findNatsServer();
  const ownsDir = !opts.dir;
  const dir = opts.dir ?? (await mkdtemp(join(tmpdir(), "tributary-nats-")));
  await mkdir(dir, { recursive: true });
  const configPath = join(dir, "nats.conf");
  let ports: Partial<NatsServerPorts> = {};
  let child: ChildProcess | undefined;
  let stderrTail = "";

  const launch = async (): Promise<NatsServerPorts> => {
    await writeFile(configPath, renderConfig(opts, dir, ports));
    // Stale ports files from a previous run would be read as this run's.
    for (const name of await readdir(dir)) {
      if (name.endsWith(".ports")) await rm(join(dir, name), { force: true });
    }
    stderrTail = "";
    const proc = spawn(binary, ["-c", configPath], { stdio: ["ignore", "ignore", "pipe"] });
    track(proc);
    child = proc;
    proc.stderr?.setEncoding("utf8");
    proc.stderr?.on("data", (chunk: string) => {
      stderrTail = (stderrTail + chunk).slice(-4000);
    });
    const pid = proc.pid;
    if (pid === undefined) throw new Error(`could not start ${binary}`);
    const found = await waitFor(`nats-server ports file (pid ${pid})`, async () => {
      if (proc.exitCode !== null) throw new Error(`nats-server exited with ${proc.exitCode}: ${stderrTail}`);
      return readPortsFile(
        dir,
        pid,
        stderrTail,
        opts.leafnodeListener ?? /leafnodes\s*\{[^}]*port:/.test(opts.extraConfig ?? ""),
      );
    }).catch((err: unknown) => {
      throw new Error(`nats-server did not start: ${stderrTail}`, { cause: err });
    });
    await waitHealthy(found.monitoring, opts.jetstream !== false);
    return found;
  };

  const first = await launch();
  ports = first;
  const server: NatsServer = {
    url: `nats://127.0.0.1:${first.client}`,
    ports: first,
    dir,
    configPath,
    get pid() {
      return child?.pid ?? -1;
    },
    async stop() {
      if (child) await stopProcess(child, "SIGTERM");
    },
    async kill() {
      if (child) await stopProcess(child, "SIGKILL");
    },
    async restart() {
      if (child && child.exitCode === null && child.signalCode === null) await stopProcess(child, "SIGTERM");
      await launch();
    },
    async cleanup() {
      if (child) await stopProcess(child, "SIGKILL");
      if (ownsDir) await rm(dir, { recursive: true, force: true });
    },
  };
  return server;
}
