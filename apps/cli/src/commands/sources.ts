import { Option, type Command } from "commander";
import { SCHEME_TYPES } from "@tributary/verify";
import { positiveInt } from "../args.js";
import { cliOf } from "../cli.js";
import { deleteResource, listResources, showResource, type SourceView } from "../ops/resources.js";
import {
  addSourceSecret,
  createSource,
  retireSourceSecret,
  sourceCreateBody,
  updateSource,
  type SourceCreateOptions,
} from "../ops/sources.js";
import { recordText, secretsOnce, sourcesText } from "../render/management.js";

const encodingOption = () =>
  new Option("--encoding <encoding>", "how the secret's text encodes its bytes (hmac schemes; default utf8)").choices([
    "utf8",
    "base64",
    "hex",
  ]);

/** `sources`: the senders gateways verify, through the management API (changes need an admin token). */
export function registerSources(program: Command): void {
  const cli = cliOf(program);
  const sources = program
    .command("sources")
    .description(
      "the webhook senders gateways verify, through the management API: list, show, create, update, delete, add-secret, retire-secret",
    );
  sources
    .command("list")
    .description("every source: scheme, tolerance, secret ids, who changed it last")
    .action(async () => {
      const list = await listResources<SourceView>(cli.api(), "sources");
      cli.print(list, () => sourcesText(list));
    });
  sources
    .command("show <id>")
    .description("one source's settings and secret ids (never a secret's value)")
    .action(async (id: string) => {
      const source = await showResource<SourceView>(cli.api(), "sources", id);
      cli.print(source, () => recordText("sources", source));
    });
  sources
    .command("create <id>")
    .description(
      "a new source; its secret from --secret-file/--secret-env (or the file's references), else made by the server and shown once",
    )
    .addOption(new Option("--scheme <type>", "the signature scheme the sender uses").choices(SCHEME_TYPES))
    .option("--secret-id <id>", "the secret's name", "s1")
    .option("--secret-file <file>", "a file holding the secret (as the sender shows it)")
    .option("--secret-env <var>", "an environment variable holding the secret")
    .addOption(encodingOption())
    .option("--tolerance <seconds>", "how far a signed timestamp may be from now", positiveInt)
    .option("--from-file <file>", "settings as a gateway config file gives a source (secrets as env/file references)")
    .action(async (id: string, opts: SourceCreateOptions) => {
      const created = await createSource(cli.api(), sourceCreateBody(id, opts));
      cli.print(
        created,
        () =>
          `created source ${id} (${created.source.scheme.type}, revision ${created.source.revision})${secretsOnce(created.secrets)}`,
      );
    });
  sources
    .command("update <id>")
    .description("change the settings a file gives (the others stay); secrets: add-secret, retire-secret")
    .option("--from-file <file>", "settings, as in a gateway config file's source")
    .option("--tolerance <seconds>", "how far a signed timestamp may be from now", positiveInt)
    .action(async (id: string, opts: { fromFile?: string; tolerance?: number }) => {
      const { source, ignored } = await updateSource(cli.api(), id, opts);
      for (const what of ignored) console.error(`note: not changed by update: ${what}`);
      cli.print(source, () => `updated source ${id} (revision ${source.revision})`);
    });
  sources
    .command("delete <id>")
    .description("delete a source: gateways refuse its events from then on")
    .action(async (id: string) => {
      await deleteResource(cli.api(), "sources", id);
      cli.print({ deleted: id }, () => `deleted source ${id}`);
    });
  registerSecretCommands(sources, cli);
}

function registerSecretCommands(sources: Command, cli: ReturnType<typeof cliOf>): void {
  sources
    .command("add-secret <id> <secretId>")
    .description(
      "add a secret (rotation: add the new one, move the sender, retire the old); made and shown once without a value",
    )
    .option("--value-file <file>", "a file holding the secret's value")
    .option("--value-env <var>", "an environment variable holding it")
    .addOption(encodingOption())
    .action(
      async (
        id: string,
        secretId: string,
        opts: { valueFile?: string; valueEnv?: string; encoding?: "utf8" | "base64" | "hex" },
      ) => {
        const added = await addSourceSecret(cli.api(), id, secretId, opts);
        cli.print(
          added,
          () =>
            `added secret ${added.secret.id} to source ${id}${added.value === undefined ? "" : secretsOnce([{ id: added.secret.id, value: added.value }])}`,
        );
      },
    );
  sources
    .command("retire-secret <id> <secretId>")
    .description("remove a secret: requests signed with it fail from then on (a source keeps at least one)")
    .action(async (id: string, secretId: string) => {
      const source = await retireSourceSecret(cli.api(), id, secretId);
      cli.print(
        source,
        () => `retired secret ${secretId} of source ${id}; its secrets: ${source.secrets.map((s) => s.id).join(", ")}`,
      );
    });
}
