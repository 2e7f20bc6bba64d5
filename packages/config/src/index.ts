export { ConfigError, isConfigError } from "./errors.js";
export { loadConfig, readJsonFile, setPath, StringEnum, validateConfig } from "./load.js";
export type { LoadConfigOptions } from "./load.js";
export { configFileFrom, envInt, envList, envString, natsCredentials, serviceEnvOverrides } from "./env.js";
export type { NatsLogin } from "./env.js";
export { resolveSecret, SecretRef } from "./secrets.js";
export type { ResolveSecretOptions } from "./secrets.js";
