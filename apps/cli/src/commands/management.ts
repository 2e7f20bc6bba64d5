import type { Command } from "commander";
import { registerConfig } from "./config.js";
import { registerErase } from "./erase.js";
import { registerSources } from "./sources.js";
import { registerSubscriptions } from "./subscriptions.js";

/** The management API's commands: `sources`, `subscriptions`, `config` (export, diff, apply) and `erase`. */
export function registerManagement(program: Command): void {
  registerSources(program);
  registerSubscriptions(program);
  registerConfig(program);
  registerErase(program);
}
