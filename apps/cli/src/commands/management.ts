import type { Command } from "commander";
import { registerConfig } from "./config.js";
import { registerSources } from "./sources.js";
import { registerSubscriptions } from "./subscriptions.js";

/** The management API's commands: `sources`, `subscriptions`, and `config` (export, diff, apply). */
export function registerManagement(program: Command): void {
  registerSources(program);
  registerSubscriptions(program);
  registerConfig(program);
}
