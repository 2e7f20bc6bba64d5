export { DEFAULT_LOCAL, readSecret, secretFileOf, startLocal } from "./local.js";
export type { LocalOptions, LocalSystem } from "./local.js";
export { curlExample, sendSamples } from "./send.js";
export type { SendOptions, SendResult } from "./send.js";
