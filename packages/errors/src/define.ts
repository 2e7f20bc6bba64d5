/** What one stable error code means, for whoever meets it. */
export interface ErrorSpec {
  /** The HTTP status it answers with; absent for errors no HTTP client sees (start-up, CLI, internal). */
  readonly status?: number;
  /** What happened, in the reader's terms. */
  readonly meaning: string;
  /** What to do about it. */
  readonly fix: string;
}

/** Stable code → spec. Codes are API: clients, dashboards and tests branch on them, never on messages. */
export type ErrorCatalogue = Readonly<Record<string, ErrorSpec>>;

export interface CodedErrorOptions extends ErrorOptions {
  /** The config path, query parameter or header at fault. */
  field?: string;
  /** Machine-readable detail a caller may branch on (the message is for people only). */
  details?: unknown;
}

/**
 * An error with a stable code from a catalogue. Branch on `code` (and `details`); the message is
 * prose for people and may change in any release.
 */
export class CodedError<Code extends string = string> extends Error {
  readonly status: number | undefined;
  readonly field: string | undefined;
  readonly details: unknown;

  constructor(
    readonly code: Code,
    readonly spec: ErrorSpec,
    message: string,
    options?: CodedErrorOptions,
  ) {
    super(message, options);
    this.status = spec.status;
    this.field = options?.field;
    this.details = options?.details;
  }
}

/** The class `defineErrors` makes: constructible by code, carrying its catalogue for docs. */
export interface CodedErrorClass<C extends ErrorCatalogue> {
  new (code: keyof C & string, message: string, options?: CodedErrorOptions): CodedError<keyof C & string>;
  readonly catalogue: C;
}

/**
 * Defines a package's errors from their catalogue: the one place a code, its status, meaning and
 * fix are written. Extend the result to add typed fields:
 *
 *     export const WAREHOUSE_ERRORS = { warehouse_unavailable: { meaning: "…", fix: "…" } } as const;
 *     export class WarehouseError extends defineErrors("WarehouseError", WAREHOUSE_ERRORS) {}
 */
export function defineErrors<const C extends ErrorCatalogue>(name: string, catalogue: C): CodedErrorClass<C> {
  return class extends CodedError<keyof C & string> {
    static readonly catalogue = catalogue;
    constructor(code: keyof C & string, message: string, options?: CodedErrorOptions) {
      const spec = catalogue[code];
      if (spec === undefined) throw new TypeError(`${name}: ${String(code)} is not in its catalogue`);
      super(code, spec, message, options);
      this.name = name;
    }
  };
}

/** The catalogue as a Markdown table (code, status where any has one, meaning, fix): docs are generated from it. */
export function renderErrorTable(catalogue: ErrorCatalogue): string {
  const entries = Object.entries(catalogue);
  const withStatus = entries.some(([, spec]) => spec.status !== undefined);
  const header = withStatus
    ? "| code | status | meaning | fix |\n| --- | --- | --- | --- |"
    : "| code | meaning | fix |\n| --- | --- | --- |";
  const rows = entries.map(([code, spec]) => {
    const cells = [`\`${code}\``, ...(withStatus ? [String(spec.status ?? "")] : []), spec.meaning, spec.fix];
    return `| ${cells.map((cell) => cell.replaceAll("|", "\\|")).join(" | ")} |`;
  });
  return [header, ...rows].join("\n");
}
