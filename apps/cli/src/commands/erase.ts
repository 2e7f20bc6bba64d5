import type { Command } from "commander";
import { Option } from "commander";
import { time } from "../args.js";
import { cliOf } from "../cli.js";
import { OperatorError } from "../ops/context.js";
import { erase, eraseRequest } from "../ops/erase.js";
import { eraseText } from "../render/management.js";

/** `erase`: remove or anonymise events by key, source or visitor, everywhere they are kept (an admin token). */
export function registerErase(program: Command): void {
  const cli = cliOf(program);
  program
    .command("erase")
    .description(
      "erase events by --key, --source or --visitor-ip/--visitor-ua: warehouse rows anonymised, their delivery log, DLQ entries and stream copies deleted, audited; needs an admin token",
    )
    .option("--key <key...>", "event keys (source:id)")
    .option("--source <id>", "every event of a source")
    .option("--visitor-ip <ip>", "a visitor's client address, as senders sent it")
    .option("--visitor-ua <ua>", "the visitor's user agent, as sent (leave out when none was sent)")
    .addOption(
      new Option("--from <time>", "a visitor's events from this time (default: the retention window)").argParser(time),
    )
    .addOption(new Option("--to <time>", "a visitor's events until this time (default: now)").argParser(time))
    .option("--reason <text>", "why (a ticket or request id), kept in the audit log")
    .action(
      async (opts: {
        key?: string[];
        source?: string;
        visitorIp?: string;
        visitorUa?: string;
        from?: Date;
        to?: Date;
        reason?: string;
      }) => {
        const request = eraseRequest(opts);
        const report = await erase(cli.api(), () => optionalContext(cli), request);
        cli.print(report, () => eraseText(report));
      },
    );
}

/** The context when there is one: it gives the regions' admin access; without it the regions' copies age out. */
function optionalContext(cli: ReturnType<typeof cliOf>) {
  try {
    return cli.context();
  } catch (err) {
    if (err instanceof OperatorError && err.code === "context_missing") return undefined;
    throw err;
  }
}
