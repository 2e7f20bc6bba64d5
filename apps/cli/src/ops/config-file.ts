import { readFileSync } from "node:fs";
import { Type, type Static, type TObject, type TSchema } from "@sinclair/typebox";
import { ConfigError, resolveSecret, SecretRef, StringEnum, validateConfig } from "@tributary/config";
import { SourceSettingsSchema } from "@tributary/control";
import { OperatorError } from "./context.js";
import type { Settings } from "./resources.js";

/**
 * The declarative file `config diff` and `config apply` read, and the shapes `sources create
 * --from-file` and `subscriptions create --from-file` take: a source as the gateway's config file
 * gives it (settings, and secrets as env or file references), a subscription as the delivery
 * process's config file gives a destination (without its name). Both are validated with the same
 * schemas, defaults filled, so a setting the file leaves out means its default.
 */

/** A source secret as the gateway's config file names it: an id and exactly one of env or file. */
export const SourceSecretRef = Type.Composite(
  [
    SecretRef,
    Type.Object({
      id: Type.String({ minLength: 1, maxLength: 64, description: "the secret's name, e.g. its creation month" }),
      encoding: Type.Optional(
        StringEnum(["utf8", "base64", "hex"], {
          description: "how the secret's text encodes its bytes (default utf8; whsec_/whpk_ forms read as they are)",
        }),
      ),
    }),
  ],
  { additionalProperties: false, description: "give the secret an id and exactly one of env or file" },
);
export type SourceSecretRef = Static<typeof SourceSecretRef>;

export const SourceEntrySchema = Type.Composite(
  [
    SourceSettingsSchema,
    Type.Object({
      secrets: Type.Optional(
        Type.Array(SourceSecretRef, {
          minItems: 1,
          maxItems: 8,
          description: "the source's secrets, as references (env or file): their values are read, never printed",
        }),
      ),
    }),
  ],
  { additionalProperties: false },
);

/** A source's settings: the fields of its schema (what the gateway's config file gives but secrets). */
export const SOURCE_SETTING_KEYS: readonly string[] = Object.keys(SourceSettingsSchema.properties);

/** A subscription's settings: the destination's fields the API takes (not name, signing, secretHeaders), and description. */
export async function subscriptionSettingKeys(): Promise<readonly string[]> {
  const { DestinationSchema } = await import("@tributary/delivery");
  const not = new Set(["name", "signing", "secretHeaders"]);
  return [...Object.keys(DestinationSchema.properties).filter((k) => !not.has(k)), "description"];
}

/** A subscription: the delivery process's destination without its name (which the key gives). */
export async function subscriptionEntrySchema(): Promise<TObject> {
  // Loaded when needed: the delivery library brings its sandbox and HTTP client along.
  const { DestinationSchema } = await import("@tributary/delivery");
  return Type.Composite(
    [
      Type.Omit(DestinationSchema, ["name"]),
      Type.Object({
        name: Type.Optional(Type.String({ description: "the destination's name; when given, the same as the key" })),
        description: Type.Optional(Type.String({ maxLength: 500 })),
        paused: Type.Optional(
          Type.Boolean({ description: "paused or not (left out: apply leaves the pause state as it is)" }),
        ),
      }),
    ],
    { additionalProperties: false },
  );
}

export interface DesiredSource {
  id: string;
  settings: Settings;
  /** Absent: the file names no secret (the server makes one at creation). */
  secrets: SourceSecretRef[] | undefined;
}

export interface DesiredSubscription {
  id: string;
  settings: Settings;
  /** Absent: apply leaves the pause state alone. */
  paused: boolean | undefined;
  /** What in the file the API does not take (signing secrets, secret headers). */
  notes: string[];
}

/** What a file declares; a kind it does not have (`sources`, `subscriptions`) is left alone, even by --prune. */
export interface DesiredConfig {
  sources: Map<string, DesiredSource> | undefined;
  subscriptions: Map<string, DesiredSubscription> | undefined;
  notes: string[];
}

/** Reads a JSON file; a usage error (exit 2) naming the file when it is missing or malformed. */
export function readJson(file: string, option: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new OperatorError("bad_argument", `${option} ${file}: ${(err as Error).message}`, { cause: err });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new OperatorError("bad_argument", `${option} ${file} is not valid JSON: ${(err as Error).message}`);
  }
}

/** Validates against a schema (defaults filled); a problem is a usage error naming the field in the file. */
export function validated<S extends TSchema>(schema: S, value: unknown, where: string): Static<S> {
  try {
    return validateConfig(schema, value);
  } catch (err) {
    if (err instanceof ConfigError)
      throw new OperatorError(
        "bad_argument",
        `${where}${err.field === "(root)" ? "" : `.${err.field}`}: ${err.problem}${err.fix ? ` — ${err.fix}` : ""}`,
      );
    throw err;
  }
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** A source entry checked and split into its settings and its secret references. */
export function desiredSource(id: string, entry: unknown, where: string): DesiredSource {
  const { secrets, ...settings } = validated(SourceEntrySchema, entry, where);
  return { id, settings, secrets };
}

/** A subscription entry checked and split; what the API cannot take becomes a note. */
export function desiredSubscription(id: string, entry: unknown, schema: TSchema, where: string): DesiredSubscription {
  const checked = validated(schema, entry, where) as Settings;
  const { name, signing, secretHeaders, paused, ...settings } = checked;
  if (name !== undefined && name !== id)
    throw new OperatorError("bad_argument", `${where}.name: ${JSON.stringify(name)} is not the key ${id}`);
  const notes: string[] = [];
  const sign = signing as { type: string; secrets: unknown[] };
  if (sign.type === "none")
    notes.push("signing.type none is not applied: the API signs every subscription (standard-webhooks)");
  if (sign.secrets.length > 0)
    notes.push(
      "signing.secrets are not applied: the API makes a subscription's signing secrets itself (`subscriptions rotate-secret`)",
    );
  if (Object.keys(secretHeaders as object).length > 0)
    notes.push("secretHeaders are not applied: the management API does not hold header credentials");
  return { id, settings, paused: paused as boolean | undefined, notes };
}

/**
 * The file `config diff`/`apply` read: `{"sources": {id: …}, "subscriptions": {id: …}}`. A
 * gateway config file (its `sources`) or a delivery config file (its `destinations` list) applies
 * as it is: their other settings are not the API's and are ignored (each named in a note).
 */
export async function readDesiredConfig(file: string): Promise<DesiredConfig> {
  const raw = readJson(file, "--file");
  if (!isObject(raw))
    throw new OperatorError(
      "bad_argument",
      `--file ${file}: expected a JSON object {"sources": …, "subscriptions": …}`,
    );
  const { sources, subscriptions, destinations, ...rest } = raw;
  const notes = Object.keys(rest).length
    ? [`ignored (not sources or subscriptions): ${Object.keys(rest).join(", ")}`]
    : [];
  return {
    sources: sources === undefined ? undefined : sourcesOf(sources),
    subscriptions: await subscriptionsOf(subscriptions, destinations),
    notes,
  };
}

function sourcesOf(sources: unknown): Map<string, DesiredSource> {
  if (!isObject(sources)) throw new OperatorError("bad_argument", `sources: expected an object of source ids`);
  return new Map(Object.entries(sources).map(([id, entry]) => [id, desiredSource(id, entry, `sources.${id}`)]));
}

async function subscriptionsOf(
  subscriptions: unknown,
  destinations: unknown,
): Promise<Map<string, DesiredSubscription> | undefined> {
  if (subscriptions === undefined && destinations === undefined) return undefined;
  if (subscriptions !== undefined && destinations !== undefined)
    throw new OperatorError("bad_argument", "give subscriptions or destinations (a delivery config's list), not both");
  let entries: Array<[string, unknown, string]>;
  if (subscriptions !== undefined) {
    if (!isObject(subscriptions))
      throw new OperatorError("bad_argument", "subscriptions: expected an object of subscription ids");
    entries = Object.entries(subscriptions).map(([id, entry]) => [id, entry, `subscriptions.${id}`]);
  } else {
    if (!Array.isArray(destinations))
      throw new OperatorError("bad_argument", "destinations: expected a list of destinations (each with a name)");
    entries = destinations.map((d: unknown, i) => {
      const name = isObject(d) ? d.name : undefined;
      if (typeof name !== "string")
        throw new OperatorError("bad_argument", `destinations[${i}].name is missing: it is the subscription's id`);
      return [name, d, `destinations[${i}]`];
    });
  }
  const seen = new Set<string>();
  for (const [id, , where] of entries) {
    if (seen.has(id)) throw new OperatorError("bad_argument", `${where}: a second subscription ${id}`);
    seen.add(id);
  }
  const schema = await subscriptionEntrySchema();
  return new Map(entries.map(([id, entry, where]) => [id, desiredSubscription(id, entry, schema, where)]));
}

/** A secret reference's value, read as the gateway reads it; a problem is a usage error naming the field. */
export function secretValue(ref: { env?: string; file?: string }, field: string, env = process.env): string {
  try {
    return resolveSecret(field, ref, env);
  } catch (err) {
    // A command-line flag (`--secret-env`) is named as it is, not as a file's field (`….env`).
    if (err instanceof ConfigError)
      throw new OperatorError(
        "bad_argument",
        `${field.startsWith("--") ? field : err.field}: ${err.problem}${err.fix ? ` — ${err.fix}` : ""}`,
      );
    throw err;
  }
}
