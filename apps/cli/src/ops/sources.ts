import { SourceSettingsSchema } from "@tributary/control";
import type { ManagementApi } from "./api.js";
import { desiredSource, isObject, readJson, secretValue, SOURCE_SETTING_KEYS, validated } from "./config-file.js";
import { OperatorError } from "./context.js";
import {
  resourcePath,
  updateResource,
  type NewSecret,
  type SecretView,
  type Settings,
  type SourceView,
} from "./resources.js";

/** Sources through the management API: what gateways verify senders with. Changes need an admin token. */

export interface SourceCreateOptions {
  scheme?: string;
  secretId: string;
  secretFile?: string;
  secretEnv?: string;
  encoding?: "utf8" | "base64" | "hex";
  tolerance?: number;
  fromFile?: string;
}

function fileObject(file: string): Record<string, unknown> {
  const raw = readJson(file, "--from-file");
  if (!isObject(raw)) throw new OperatorError("bad_argument", `--from-file ${file}: expected a JSON object`);
  return raw;
}

/** A secret given on the command line (a file or an env variable holding it), or none. */
function flagSecret(opts: SourceCreateOptions, env: NodeJS.ProcessEnv) {
  if (opts.secretFile && opts.secretEnv)
    throw new OperatorError("bad_argument", "give the secret with --secret-file or --secret-env, not both");
  const ref = opts.secretFile ? { file: opts.secretFile } : opts.secretEnv ? { env: opts.secretEnv } : undefined;
  if (!ref) return undefined;
  return {
    id: opts.secretId,
    value: secretValue(ref, opts.secretFile ? "--secret-file" : "--secret-env", env),
    ...(opts.encoding ? { encoding: opts.encoding } : {}),
  };
}

/**
 * The body of a new source: the file's settings (the gateway config's shape) with the flags over
 * them; its secrets read from the file's references and the flags. Without any, the server makes
 * one named --secret-id, answered once.
 */
export function sourceCreateBody(id: string, opts: SourceCreateOptions, env = process.env): Settings {
  const entry = opts.fromFile ? fileObject(opts.fromFile) : {};
  if (opts.scheme) entry.scheme = { ...(isObject(entry.scheme) ? entry.scheme : {}), type: opts.scheme };
  if (opts.tolerance !== undefined) entry.toleranceSeconds = opts.tolerance;
  if (entry.scheme === undefined)
    throw new OperatorError("bad_argument", "--scheme is required (or a scheme in --from-file)");
  const desired = desiredSource(id, entry, opts.fromFile ?? `sources.${id}`);
  const fromFile = (desired.secrets ?? []).map((ref) => ({
    id: ref.id,
    value: secretValue(ref, `${opts.fromFile}: secrets[${ref.id}]`, env),
    ...(ref.encoding ? { encoding: ref.encoding } : {}),
  }));
  const flag = flagSecret(opts, env);
  const secrets = [...fromFile, ...(flag ? [flag] : [])];
  return { id, ...desired.settings, secrets: secrets.length > 0 ? secrets : [{ id: opts.secretId }] };
}

export function createSource(
  api: ManagementApi,
  body: Settings,
): Promise<{ source: SourceView; secrets: NewSecret[] }> {
  return api.post("/v1/sources", body);
}

/**
 * Changes the settings a file gives (the others stay as they are); secrets have commands of
 * their own. Checked against the gateway's schema before sending.
 */
export async function updateSource(
  api: ManagementApi,
  id: string,
  opts: { fromFile?: string; tolerance?: number },
): Promise<{ source: SourceView; ignored: string[] }> {
  const changes = opts.fromFile ? fileObject(opts.fromFile) : {};
  if (opts.tolerance !== undefined) changes.toleranceSeconds = opts.tolerance;
  const { secrets, ...given } = changes;
  if (Object.keys(given).length === 0)
    throw new OperatorError("bad_argument", "nothing to change: give --from-file FILE (and/or --tolerance)");
  const source = await updateResource<SourceView>(
    api,
    "sources",
    id,
    (settings) => validated(SourceSettingsSchema, { ...settings, ...given }, opts.fromFile ?? `sources.${id}`),
    SOURCE_SETTING_KEYS,
  );
  return { source, ignored: secrets === undefined ? [] : ["secrets (use add-secret and retire-secret)"] };
}

export async function addSourceSecret(
  api: ManagementApi,
  id: string,
  secretId: string,
  opts: { valueFile?: string; valueEnv?: string; encoding?: "utf8" | "base64" | "hex" },
  env = process.env,
): Promise<{ secret: SecretView; value?: string }> {
  if (opts.valueFile && opts.valueEnv)
    throw new OperatorError("bad_argument", "give the value with --value-file or --value-env, not both");
  const ref = opts.valueFile ? { file: opts.valueFile } : opts.valueEnv ? { env: opts.valueEnv } : undefined;
  return api.post(resourcePath("sources", id, "/secrets"), {
    id: secretId,
    ...(ref ? { value: secretValue(ref, opts.valueFile ? "--value-file" : "--value-env", env) } : {}),
    ...(opts.encoding ? { encoding: opts.encoding } : {}),
  });
}

export async function retireSourceSecret(api: ManagementApi, id: string, secretId: string): Promise<SourceView> {
  return (
    await api.request<SourceView>("DELETE", resourcePath("sources", id, `/secrets/${encodeURIComponent(secretId)}`))
  ).data;
}
