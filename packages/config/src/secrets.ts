import { readFileSync } from "node:fs";
import { Type, type Static } from "@sinclair/typebox";
import { envString } from "./env.js";
import { ConfigError } from "./errors.js";

/**
 * Where a secret lives: `{ "env": "VAR" }` or `{ "file": "/path" }`, exactly one. A config file
 * holds the reference, never the secret. Extend it with `Type.Composite([SecretRef, Type.Object({ … })],
 * { additionalProperties: false })` for refs that carry more (an id, an encoding); the composite keeps
 * env and file but not the exactly-one rule, which `resolveSecret` checks again in every case.
 */
export const SecretRef = Type.Object(
  {
    env: Type.Optional(
      Type.String({ minLength: 1, description: "name of the environment variable that holds the secret" }),
    ),
    file: Type.Optional(
      Type.String({ minLength: 1, description: "path of a file that holds the secret (one trailing newline ignored)" }),
    ),
  },
  {
    additionalProperties: false,
    minProperties: 1,
    maxProperties: 1,
    description: "give exactly one of env (an environment variable) or file (a path) holding the secret",
  },
);
export type SecretRef = Static<typeof SecretRef>;

/** What `resolveSecret` says in its fixes; the secret's value never appears in a message. */
export interface ResolveSecretOptions {
  /** What the secret is, for the fixes: "token", "hash key". Default "secret". */
  what?: string;
  /** The value shown in `export VAR=<example>`. Default `<what>` in angle brackets. */
  example?: string;
}

const FILE_PROBLEMS: Record<string, string> = {
  ENOENT: "no such file",
  EACCES: "permission denied",
  EPERM: "permission denied",
  EISDIR: "is a directory",
};

/**
 * The secret a reference points to. An environment variable that is unset, empty or blank counts
 * as not set (the value is trimmed, as every env reader here does); a file's text is used as it is
 * but for one trailing newline (`\n` or `\r\n`), and an empty file is refused. Every problem is a
 * ConfigError naming `<field>` (neither or both given), `<field>.env` or `<field>.file` and the fix.
 */
export function resolveSecret(
  field: string,
  ref: { env?: string | undefined; file?: string | undefined },
  env: NodeJS.ProcessEnv = process.env,
  options: ResolveSecretOptions = {},
): string {
  const what = options.what ?? "secret";
  if ((ref.env === undefined) === (ref.file === undefined))
    throw new ConfigError(
      field,
      `needs exactly one of env or file (${ref.env === undefined ? "neither is" : "both are"} given)`,
      `name the environment variable or the file that holds the ${what}`,
    );
  if (ref.env !== undefined) {
    const value = envString(env, ref.env);
    if (value === undefined)
      throw new ConfigError(
        `${field}.env`,
        `environment variable ${ref.env} is not set`,
        `export ${ref.env}=${options.example ?? `<${what}>`}`,
      );
    return value;
  }
  const path = ref.file!;
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? "";
    throw new ConfigError(
      `${field}.file`,
      `cannot read ${path} (${FILE_PROBLEMS[code] ?? (code || "unreadable")})`,
      `check the path and its permissions, or create the file with the ${what}`,
      { cause: err },
    );
  }
  const secret = text.replace(/\r?\n$/, "");
  if (secret === "") throw new ConfigError(`${field}.file`, `${path} is empty`, `write the ${what} into ${path}`);
  return secret;
}
