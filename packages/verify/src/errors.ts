/**
 * Thrown by `createScheme` for a bad scheme config — the only throw in this package; request
 * input never throws. `field` names the offending config key so start-up errors point at the fix.
 */
export class SchemeConfigError extends Error {
  override readonly name = "SchemeConfigError";
  readonly code = "scheme_config_invalid";
  readonly field: string;

  constructor(field: string, message: string, options?: { cause?: unknown }) {
    super(`${field}: ${message}`, options);
    this.field = field;
  }
}

export function isSchemeConfigError(err: unknown): err is SchemeConfigError {
  return err instanceof SchemeConfigError;
}
