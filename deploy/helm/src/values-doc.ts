import { isMap, isPair, isScalar, isSeq, parseDocument, type Node, type Pair, type YAMLMap } from "yaml";

/** One documented value of a chart: its dotted path, default and meaning (from the comment above it). */
export interface ValueDoc {
  path: string;
  default: unknown;
  description: string;
}

export class ValuesDocError extends Error {
  readonly code = "values_undocumented";
  constructor(message: string) {
    super(message);
    this.name = "ValuesDocError";
  }
}

function commentOf(pair: Pair): string {
  const key = pair.key as Node | null;
  const text = (key && (key as { commentBefore?: string | null }).commentBefore) ?? "";
  return text
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean)
    .join(" ");
}

function pairsOf(map: YAMLMap): Pair[] {
  return map.items.filter(isPair) as Pair[];
}

/** Whether any key below this map carries a comment (then its keys are listed one by one). */
function hasComments(map: YAMLMap): boolean {
  if ((map as { commentBefore?: string | null }).commentBefore) return true;
  return pairsOf(map).some((p) => commentOf(p) || (isMap(p.value) && !templateOf(p.value) && hasComments(p.value)));
}

/** A value the NATS chart templates (`$tplYaml`) is shown by the template it includes. */
function templateOf(value: unknown): string | undefined {
  if (!isMap(value)) return undefined;
  const items = pairsOf(value);
  if (items.length !== 1 || String((items[0]!.key as { value?: unknown }).value) !== "$tplYaml") return undefined;
  const text = String((items[0]!.value as { value?: unknown }).value);
  return /include "([^"]+)"/.exec(text)?.[1];
}

/**
 * Every value of a values.yaml with its comment. A map is a single value when none of its keys
 * carries a comment of its own (an example like `sources`), else each key is listed. The comment
 * of the first key of a map sits on the map in the YAML tree; it is moved back to that key.
 */
export function valuesDoc(yamlText: string): ValueDoc[] {
  const doc = parseDocument(yamlText);
  const rows: ValueDoc[] = [];
  const walk = (map: YAMLMap, prefix: string, firstComment: string | undefined) => {
    pairsOf(map).forEach((pair, i) => {
      const key = String((pair.key as { value?: unknown }).value);
      const path = prefix ? `${prefix}.${key}` : key;
      let description = commentOf(pair);
      if (i === 0 && !description && firstComment) description = firstComment;
      const value = pair.value;
      const template = templateOf(value);
      if (isMap(value) && !template && value.items.length > 0) {
        const first = (value as { commentBefore?: string | null }).commentBefore ?? undefined;
        if (hasComments(value)) {
          walk(
            value,
            path,
            first
              ? first
                  .split("\n")
                  .map((l) => l.trim())
                  .join(" ")
                  .trim()
              : undefined,
          );
          return;
        }
      }
      const def = template
        ? `(template ${template})`
        : isScalar(value) || isSeq(value) || isMap(value)
          ? (value as Node).toJSON()
          : null;
      rows.push({ path, default: def, description });
    });
  };
  const root = doc.contents;
  if (!isMap(root)) throw new ValuesDocError("values.yaml must be a map");
  walk(root, "", undefined);
  return rows;
}

/** Markdown table cell text: pipes escaped, and `<NAME>` kept visible (not read as an HTML tag). */
function cell(text: string): string {
  return text.replace(/\|/g, "\\|").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** The Markdown table of a chart's values, as written between the README's markers. */
export function valuesTable(rows: readonly ValueDoc[]): string {
  const lines = ["| value | default | meaning |", "| --- | --- | --- |"];
  for (const r of rows) {
    const def =
      typeof r.default === "string" && r.default.startsWith("(template ")
        ? r.default
        : `\`${JSON.stringify(r.default).replace(/\|/g, "\\|")}\``;
    lines.push(`| \`${r.path}\` | ${def} | ${cell(r.description)} |`);
  }
  return lines.join("\n");
}

export const VALUES_START =
  "<!-- values:start (generated from values.yaml by `bash scripts/pnpm.sh --filter @tributary/deploy-helm run readme`; do not edit) -->";
export const VALUES_END = "<!-- values:end -->";

/** The README with its values table regenerated from values.yaml. */
export function withValuesTable(readme: string, valuesYaml: string): string {
  const start = readme.indexOf(VALUES_START);
  const end = readme.indexOf(VALUES_END);
  if (start < 0 || end < start) throw new ValuesDocError(`README lacks the markers ${VALUES_START} … ${VALUES_END}`);
  return `${readme.slice(0, start + VALUES_START.length)}\n${valuesTable(valuesDoc(valuesYaml))}\n${readme.slice(end)}`;
}
