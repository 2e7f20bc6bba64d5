/** A configuration problem found at start-up; `field` is the JSON path, `fix` says what to do. */
export class ConfigError extends Error {
  readonly code = "config_invalid";
  constructor(
    readonly field: string,
    readonly problem: string,
    readonly fix: string,
    options?: ErrorOptions,
  ) {
    super(`config ${field}: ${problem}${fix ? ` — ${fix}` : ""}`, options);
    this.name = "ConfigError";
  }
}

export function isConfigError(err: unknown): err is ConfigError {
  return err instanceof ConfigError;
}
