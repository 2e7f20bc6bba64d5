import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { ConfigError, defineErrors } from "@tributary/errors";

export const SEALED_ERRORS = {
  sealed_key_unknown: {
    meaning: "A sealed secret names a key id this process was not given.",
    fix: "Give the process every key id still in use (TRIBUTARY_SEALING_KEYS); retire a key only after re-sealing.",
  },
  sealed_invalid: {
    meaning:
      "A sealed secret is malformed, or does not open with its key and record (tampered, or moved to another record).",
    fix: "Set the secret again through the API; check the keys given to the process.",
  },
} as const;

export class SealedSecretError extends defineErrors("SealedSecretError", SEALED_ERRORS) {}

const VERSION = "v1";
const KEY_BYTES = 32;
const IV_BYTES = 12;
const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;

/**
 * AES-256-GCM keys by id; the first is the one new secrets are sealed with, the others still open
 * what they sealed (rotation: add a new key first in the list, re-seal, then drop the old one).
 * node:crypto is the library here: GCM with a random 96-bit IV per seal and the record's name as
 * additional data, so a sealed value copied into another record does not open.
 */
export class SealingKeys {
  private constructor(
    private readonly keys: ReadonlyMap<string, Buffer>,
    readonly currentId: string,
  ) {}

  /** `kid:base64key[,kid:base64key…]`, current first; each key 32 bytes. `field` names where it came from. */
  static parse(text: string, field: string): SealingKeys {
    const keys = new Map<string, Buffer>();
    const entries = text
      .split(/[,\s]+/)
      .map((e) => e.trim())
      .filter(Boolean);
    if (entries.length === 0)
      throw new ConfigError(
        field,
        "holds no key",
        "give kid:base64 with a 32-byte key, e.g. k1:$(openssl rand -base64 32)",
      );
    for (const entry of entries) {
      const colon = entry.indexOf(":");
      const id = entry.slice(0, colon);
      const key = Buffer.from(entry.slice(colon + 1), "base64");
      if (colon < 1 || !KEY_ID.test(id))
        throw new ConfigError(field, "an entry is not kid:base64key", "name each key with letters, digits, _ or -");
      if (key.length !== KEY_BYTES)
        throw new ConfigError(
          field,
          `key ${id} is ${key.length} bytes, not ${KEY_BYTES}`,
          "use openssl rand -base64 32",
        );
      if (keys.has(id)) throw new ConfigError(field, `key id ${id} appears twice`, "give every key its own id");
      keys.set(id, key);
    }
    return new SealingKeys(keys, entries[0]!.slice(0, entries[0]!.indexOf(":")));
  }

  /** From TRIBUTARY_SEALING_KEYS, or the file TRIBUTARY_SEALING_KEYS_FILE names. */
  static fromEnv(env: NodeJS.ProcessEnv = process.env): SealingKeys {
    const file = env.TRIBUTARY_SEALING_KEYS_FILE?.trim();
    if (file) {
      let text: string;
      try {
        text = readFileSync(file, "utf8");
      } catch (err) {
        throw new ConfigError(
          "TRIBUTARY_SEALING_KEYS_FILE",
          `cannot read ${file}`,
          "check the path and its permissions",
          {
            cause: err,
          },
        );
      }
      return SealingKeys.parse(text, "TRIBUTARY_SEALING_KEYS_FILE");
    }
    const text = env.TRIBUTARY_SEALING_KEYS?.trim();
    if (!text)
      throw new ConfigError(
        "TRIBUTARY_SEALING_KEYS",
        "is not set",
        "export TRIBUTARY_SEALING_KEYS=k1:$(openssl rand -base64 32) (or TRIBUTARY_SEALING_KEYS_FILE)",
      );
    return SealingKeys.parse(text, "TRIBUTARY_SEALING_KEYS");
  }

  /** `v1.<kid>.<iv>.<ciphertext>.<tag>` (base64url), bound to `record` (e.g. "sources/shop/secrets/s1"). */
  seal(plaintext: string, record: string): string {
    const key = this.keys.get(this.currentId)!;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv("aes-256-gcm", key, iv);
    cipher.setAAD(Buffer.from(record));
    const ciphertext = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
    const parts = [iv, ciphertext, cipher.getAuthTag()].map((b) => b.toString("base64url"));
    return [VERSION, this.currentId, ...parts].join(".");
  }

  open(sealed: string, record: string): string {
    const [version, id, iv, ciphertext, tag, ...rest] = sealed.split(".");
    if (version !== VERSION || !id || iv === undefined || ciphertext === undefined || !tag || rest.length > 0)
      throw new SealedSecretError("sealed_invalid", `the sealed secret of ${record} is not ${VERSION}.kid.iv.data.tag`);
    const key = this.keys.get(id);
    if (!key)
      throw new SealedSecretError("sealed_key_unknown", `the secret of ${record} is sealed with key ${id}, not given`);
    try {
      const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(iv, "base64url"));
      decipher.setAAD(Buffer.from(record));
      decipher.setAuthTag(Buffer.from(tag, "base64url"));
      return Buffer.concat([decipher.update(Buffer.from(ciphertext, "base64url")), decipher.final()]).toString("utf8");
    } catch (err) {
      throw new SealedSecretError("sealed_invalid", `the secret of ${record} does not open with key ${id}`, {
        cause: err,
      });
    }
  }

  /** Whether a sealed value was sealed with the current key (else re-seal it when rotating). */
  isCurrent(sealed: string): boolean {
    return sealed.split(".")[1] === this.currentId;
  }
}
