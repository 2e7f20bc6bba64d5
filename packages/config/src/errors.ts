// Every package's config errors are one class; it lives in @tributary/errors with the other catalogues.
export { ConfigError, isConfigError } from "@tributary/errors";
