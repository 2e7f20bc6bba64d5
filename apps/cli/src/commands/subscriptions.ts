import { Option, type Command } from "commander";
import { time, upTo, wholeNumber } from "../args.js";
import { cliOf, type Cli } from "../cli.js";
import { OperatorError } from "../ops/context.js";
import { deleteResource, listResources, showResource, type SubscriptionView } from "../ops/resources.js";
import {
  createSubscription,
  pauseSubscription,
  resendBulk,
  resendEvent,
  resumeSubscription,
  rotateSigningSecret,
  subscriptionCreateBody,
  testSubscription,
  updateSubscription,
  type SubscriptionFlags,
} from "../ops/subscriptions.js";
import { bulkText, recordText, secretsOnce, subscriptionsText, testText } from "../render/management.js";

/** `--source a --source b`: each use adds one. */
const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

/** The settings flags `create` and `update` share. */
function settingsOptions(command: Command): Command {
  return command
    .option("--url <url>", "where events are POSTed (http or https)")
    .option("--source <id>", "a source it takes (repeat for more; none: every source)", collect)
    .option("--type <type>", "an event type it takes (repeat for more; none: every type)", collect)
    .option(
      "--filter <expr>",
      "a JSONata expression over {key, source, type, region, receivedAt, body}; truthy delivers",
    )
    .option("--description <text>", "what it is for")
    .option("--from-file <file>", "settings as a delivery config file gives a destination (no name needed)");
}

/** `subscriptions`: webhook subscriptions through the management API (changes need a write token). */
export function registerSubscriptions(program: Command): void {
  const cli = cliOf(program);
  const subs = program
    .command("subscriptions")
    .description(
      "webhook subscriptions through the management API: list, show, create, update, delete, pause, resume, rotate-secret, test, resend, resend-bulk",
    );
  subs
    .command("list")
    .description("every subscription: url, sources, types, paused or active, signing secret ids")
    .action(async () => {
      const list = await listResources<SubscriptionView>(cli.api(), "subscriptions");
      cli.print(list, () => subscriptionsText(list));
    });
  subs
    .command("show <id>")
    .description("one subscription's settings and signing secret ids (never a secret's value)")
    .action(async (id: string) => {
      const s = await showResource<SubscriptionView>(cli.api(), "subscriptions", id);
      cli.print(s, () => recordText("subscriptions", s));
    });
  settingsOptions(subs.command("create <id>"))
    .description("a new subscription; its signing secret is made by the server and shown once")
    .option("--paused", "create it paused")
    .action(async (id: string, flags: SubscriptionFlags & { paused?: boolean }) => {
      const { body, notes } = await subscriptionCreateBody(id, flags);
      for (const note of notes) console.error(`note: ${note}`);
      const created = await createSubscription(cli.api(), body);
      cli.print(
        created,
        () =>
          `created subscription ${id} (revision ${created.subscription.revision})${secretsOnce([{ id: created.subscription.signingSecrets[0]?.id ?? "k1", value: created.signingSecret }])}`,
      );
    });
  settingsOptions(subs.command("update <id>"))
    .description("change what the flags and the file give (the others stay)")
    .action(async (id: string, flags: SubscriptionFlags) => {
      const { subscription, notes } = await updateSubscription(cli.api(), id, flags);
      for (const note of notes) console.error(`note: ${note}`);
      cli.print(subscription, () => `updated subscription ${id} (revision ${subscription.revision})`);
    });
  subs
    .command("delete <id>")
    .description("delete a subscription: nothing more is delivered to it")
    .action(async (id: string) => {
      await deleteResource(cli.api(), "subscriptions", id);
      cli.print({ deleted: id }, () => `deleted subscription ${id}`);
    });
  registerStateCommands(subs, cli);
  registerResendCommands(subs, cli);
}

function registerStateCommands(subs: Command, cli: Cli): void {
  subs
    .command("pause <id>")
    .description("stop delivering to it (events wait in the hub stream)")
    .option("--reason <text>", "why, for whoever resumes it")
    .action(async (id: string, opts: { reason?: string }) => {
      const s = await pauseSubscription(cli.api(), id, opts.reason);
      cli.print(s, () => `paused ${id}: ${s.pausedReason ?? ""}`);
    });
  subs
    .command("resume <id>")
    .description("deliver again, from where it stopped")
    .action(async (id: string) => {
      const s = await resumeSubscription(cli.api(), id);
      cli.print(s, () => `resumed ${id}`);
    });
  subs
    .command("rotate-secret <id>")
    .description("a new signing secret, shown once; the current ones keep signing for the overlap")
    .option(
      "--overlap-seconds <n>",
      "how long the current secrets keep signing too (default: a day; 0: stop now)",
      wholeNumber,
    )
    .action(async (id: string, opts: { overlapSeconds?: number }) => {
      const r = await rotateSigningSecret(cli.api(), id, opts.overlapSeconds);
      const old = r.subscription.signingSecrets.filter((s) => s.id !== r.secret.id);
      cli.print(
        r,
        () =>
          `new signing secret ${r.secret.id} for ${id}${old.length ? `; ${old.map((s) => `${s.id} signs until ${s.expiresAt ?? "retired"}`).join(", ")}` : ""}${secretsOnce([{ id: r.secret.id, value: r.signingSecret }])}`,
      );
    });
  subs
    .command("test <id>")
    .description("send one signed sample event to its URL now and show the answer; exit 1 if not 2xx")
    .action(async (id: string) => {
      const t = await testSubscription(cli.api(), id);
      cli.print(t, () => testText(id, t));
      if (!t.delivered) process.exitCode = 1;
    });
}

interface BulkOptions {
  from: Date;
  to: Date;
  source?: string[];
  type?: string[];
  outcome?: "delivered" | "failed";
  limit?: number;
  yes?: boolean;
}

function registerResendCommands(subs: Command, cli: Cli): void {
  subs
    .command("resend <id>")
    .description("deliver one event again to this subscription only (same webhook id)")
    .requiredOption("--key <key>", "the event's key (source:event_id)")
    .action(async (id: string, opts: { key: string }) => {
      const r = await resendEvent(cli.api(), id, opts.key);
      cli.print(r, () => `event ${r.key} (hub seq ${r.hubSeq}) put back for ${id}`);
    });
  subs
    .command("resend-bulk <id>")
    .description("deliver a time range's events again to this subscription; without --yes a dry run that counts them")
    .requiredOption("--from <time>", "events stored at or after this time (ISO 8601)", time)
    .requiredOption("--to <time>", "and at or before this time", time)
    .option("--source <id>", "only this source (repeat for more)", collect)
    .option("--type <type>", "only this event type (repeat for more)", collect)
    .addOption(
      new Option("--outcome <outcome>", "only events whose last attempt had this outcome").choices([
        "delivered",
        "failed",
      ]),
    )
    .option("--limit <n>", "resend at most this many", upTo(10_000))
    .option("--yes", "resend (without it: count only)")
    .action((id: string, opts: BulkOptions) => bulk(cli, id, opts));
}

async function bulk(cli: Cli, id: string, opts: BulkOptions): Promise<void> {
  if (opts.from > opts.to) throw new OperatorError("bad_argument", "--from is after --to");
  const filter = {
    from: opts.from,
    to: opts.to,
    ...(opts.source ? { sources: opts.source } : {}),
    ...(opts.type ? { types: opts.type } : {}),
    ...(opts.outcome ? { outcome: opts.outcome } : {}),
    ...(opts.limit ? { limit: opts.limit } : {}),
  };
  const r = await resendBulk(cli.api(), id, { ...filter, dryRun: !opts.yes });
  cli.print(r, () => bulkText(id, r));
}
