export { buildApp, DEFAULT_RANGE_REPLAY_BUDGET, DELIVERY_API_ERRORS, OPEN_ROUTES } from "./app.js";
export type { DeliveryAppDeps, RangeReplayBudget } from "./app.js";
export {
  DEFAULT_DELIVERY_ACK_WAIT_MS,
  DEFAULT_HTTP_PORT,
  DeliveryAppConfigSchema,
  loadDeliveryConfig,
} from "./config.js";
export type { DeliveryAppConfig, LoadedDeliveryConfig } from "./config.js";
export { DeliveryService } from "./service.js";
export type { DeliveryServiceOptions } from "./service.js";
