import { Option, type Command } from "commander";
import { positiveInt, time, upTo } from "../args.js";
import { cliOf } from "../cli.js";
import {
  deliveryLog,
  destinationDlq,
  destinationStatus,
  replayDestinationDlq,
  replayDestinationRange,
} from "../ops/destinations.js";
import { deliveryLogText, destinationDlqText, destinationsText } from "../render/destinations.js";

/** Delivery to HTTP destinations: `destinations` and its `dlq`, `dlq-replay`, `replay` and `log`. */
export function registerDestinations(program: Command): void {
  const cli = cliOf(program);
  const destinations = program
    .command("destinations")
    .description(
      "delivery to HTTP destinations: each one's counters, breaker and backlog (subcommands: dlq, dlq-replay, replay, log)",
    )
    .action(async () => {
      const list = await destinationStatus(cli.context());
      cli.print(list, () => (list.length === 0 ? "the delivery process has no destinations" : destinationsText(list)));
      if (list.some((d) => d.breakerState !== "closed")) process.exitCode = 1;
    });
  destinations
    .command("dlq <name>")
    .description("a destination's dead letters, oldest first, with the reason and the destination's answer")
    .option("--limit <n>", "at most", upTo(1_000), 100)
    .option("--from-seq <seq>", "first DLQ sequence", positiveInt)
    .action(async (name: string, opts: { limit: number; fromSeq?: number }) => {
      const page = await destinationDlq(cli.context(), name, opts);
      cli.print(page, () => destinationDlqText(page));
    });
  destinations
    .command("dlq-replay <name>")
    .description(
      "deliver a destination's dead letters again (same ids, fresh attempts, that destination only); they leave its DLQ",
    )
    .option("--limit <n>", "at most this many entries", upTo(10_000))
    .action(async (name: string, opts: { limit?: number }) => {
      const result = await replayDestinationDlq(cli.context(), name, opts);
      cli.print(result, () => `${result.replayed} dead letters of ${name} put back for delivery`);
    });
  destinations
    .command("replay <name>")
    .description("deliver the events of a time range again to one destination (those it takes: sources, types, filter)")
    .requiredOption("--since <time>", "from events stored at this time", time)
    .option("--until <time>", "to events stored at this time (default: now)", time)
    .option("--limit <n>", "at most this many events", upTo(100_000))
    .action(async (name: string, opts: { since: Date; until?: Date; limit?: number }) => {
      const result = await replayDestinationRange(cli.context(), name, {
        from: opts.since,
        to: opts.until ?? new Date(),
        ...(opts.limit ? { limit: opts.limit } : {}),
      });
      cli.print(
        result,
        () =>
          `${result.replayed} events put back for ${name} (${result.scanned} scanned${result.truncated ? "; stopped at the limit: run again from the last one" : ""})`,
      );
    });
  destinations
    .command("log [name]")
    .description("the newest delivery attempts, from the warehouse (every attempt: status, latency, error)")
    .option("--event-key <key>", "only this event's attempts")
    .addOption(new Option("--outcome <outcome>", "only these").choices(["delivered", "retry", "dlq"]))
    .option("--limit <n>", "how many", upTo(1_000), 20)
    .action(async (name: string | undefined, opts: { eventKey?: string; outcome?: string; limit: number }) => {
      const log = await deliveryLog(cli.context(), {
        limit: opts.limit,
        ...(name ? { destination: name } : {}),
        ...(opts.eventKey ? { eventKey: opts.eventKey } : {}),
        ...(opts.outcome ? { outcome: opts.outcome } : {}),
      });
      cli.print(log, () => deliveryLogText(log));
    });
}
