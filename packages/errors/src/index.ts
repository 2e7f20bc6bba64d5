export { CodedError, defineErrors, renderErrorTable } from "./define.js";
export type { CodedErrorClass, CodedErrorOptions, ErrorCatalogue, ErrorSpec } from "./define.js";
export { CONFIG_ERRORS, ConfigError, isConfigError } from "./config-error.js";
export { checkErrorDoc } from "./docs.js";
export type { ErrorDocCheck } from "./docs.js";
