import type { ApiError } from "./api/client";
import { ErrorNote } from "./components";

/** The `If-Match` header of a change to the revision a form was filled from. */
export function ifMatch(revision: number): { "if-match": string } {
  return { "if-match": `"${revision}"` };
}

/** "a, b" as the API's array ("" is none). */
export function listOf(text: string): string[] {
  return text
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
}

/**
 * The outcome of a change sent with `If-Match`: `409 revision_conflict` means someone changed the
 * record after the form was filled; nothing was saved, and the form offers the current settings.
 */
export function ChangeError({
  error,
  what,
  revision,
  reload,
}: {
  error: ApiError | undefined;
  what: string;
  revision: number;
  reload: () => void;
}) {
  if (error?.code !== "revision_conflict") return <ErrorNote error={error} />;
  return (
    <div class="error" role="alert" data-testid="conflict">
      <p>
        <strong>Not saved: {what} changed meanwhile.</strong> This form was filled from revision {revision}, and someone
        (or something: an automatic pause, <code>config apply</code>) has changed it since. Load the current settings
        and make your change again.
      </p>
      <button type="button" onClick={reload}>
        Load the current settings
      </button>
    </div>
  );
}
