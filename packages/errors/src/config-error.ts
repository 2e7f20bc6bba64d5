import { defineErrors } from "./define.js";

export const CONFIG_ERRORS = {
  config_invalid: {
    meaning: "A configuration value is missing, malformed or cannot work. The message names the field.",
    fix: "Correct the named field as the message says. A service exits with code 78 on it.",
  },
} as const;

/**
 * A configuration problem found at start-up, by any package: `field` is the path of the value at
 * fault (a JSON path, an option or an environment variable), `fix` says what to do when the
 * problem alone does not.
 */
export class ConfigError extends defineErrors("ConfigError", CONFIG_ERRORS) {
  declare readonly field: string;

  constructor(
    field: string,
    readonly problem: string,
    readonly fix = "",
    options?: ErrorOptions,
  ) {
    super("config_invalid", `config ${field}: ${problem}${fix ? ` — ${fix}` : ""}`, { ...options, field });
  }

  /** The same problem one level down, e.g. a scheme's `secret` as `sources.shop.scheme.secret`. */
  under(prefix: string): ConfigError {
    return new ConfigError(`${prefix}.${this.field}`, this.problem, this.fix, { cause: this.cause });
  }
}

export function isConfigError(err: unknown): err is ConfigError {
  return err instanceof ConfigError;
}
