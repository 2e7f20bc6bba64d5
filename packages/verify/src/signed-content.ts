import { ConfigError } from "@tributary/errors";

/** The pieces of the signed bytes, in order: fixed text, or a request part. */
export type ContentPart =
  { readonly kind: "literal"; readonly bytes: Buffer } | { readonly kind: "id" | "timestamp" | "body" };

const PLACEHOLDERS = ["id", "timestamp", "body"] as const;
type Placeholder = (typeof PLACEHOLDERS)[number];

/**
 * Parses a signed-content template such as `{timestamp}.{body}` or `{id}.{timestamp}.{body}`.
 * `{body}` must appear exactly once and `{id}`/`{timestamp}` at most once; any other brace is an
 * error (so a typo like `{ts}` fails at start-up instead of signing the literal text `{ts}`).
 * Literal text is signed as its UTF-8 bytes.
 */
export function parseSignedContent(template: string): ContentPart[] {
  const field = "signedContent";
  if (template.length === 0 || template.length > 128) {
    throw new ConfigError(field, 'must be 1 to 128 characters, e.g. "{timestamp}.{body}"');
  }
  const parts: ContentPart[] = [];
  const seen = new Set<Placeholder>();
  let rest = template;
  while (rest.length > 0) {
    const open = rest.indexOf("{");
    const literal = open === -1 ? rest : rest.slice(0, open);
    if (literal.includes("}")) throw new ConfigError(field, "has a } without a matching {");
    if (literal.length > 0) parts.push({ kind: "literal", bytes: Buffer.from(literal, "utf8") });
    if (open === -1) break;
    const close = rest.indexOf("}", open);
    const name = close === -1 ? "" : rest.slice(open + 1, close);
    if (!(PLACEHOLDERS as readonly string[]).includes(name)) {
      throw new ConfigError(field, "may only use the placeholders {id}, {timestamp} and {body}");
    }
    const placeholder = name as Placeholder;
    if (seen.has(placeholder)) throw new ConfigError(field, `uses {${placeholder}} more than once`);
    seen.add(placeholder);
    parts.push({ kind: placeholder });
    rest = rest.slice(close + 1);
  }
  if (!seen.has("body")) throw new ConfigError(field, "must include {body}");
  return parts;
}

/** True when the template signs that request part. */
export function signs(parts: readonly ContentPart[], kind: "id" | "timestamp"): boolean {
  return parts.some((part) => part.kind === kind);
}
