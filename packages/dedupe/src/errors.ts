/**
 * Thrown for bad configuration (RecentKeys options, a source id) — never for event input.
 * `field` names the offending option so start-up errors point at the fix.
 */
export class DedupeConfigError extends Error {
  override readonly name = "DedupeConfigError";
  readonly code = "dedupe_config_invalid";
  readonly field: string;

  constructor(field: string, message: string, options?: { cause?: unknown }) {
    super(`${field}: ${message}`, options);
    this.field = field;
  }
}

export function isDedupeConfigError(err: unknown): err is DedupeConfigError {
  return err instanceof DedupeConfigError;
}
