export { curlExample, sendSamples } from "./send.js";
export type { SendOptions, SendResult } from "./send.js";
export { passwordVar, renderProductionNatsConfigs } from "./render-nats.js";
