import { useState } from "preact/hooks";
import { ErrorNote, PageHeading } from "../components";
import { href, navigate } from "../router";
import type { Identity } from "../session";

interface Props {
  notice: string | undefined;
  signIn: (token: string) => Promise<{ token: string; identity: Identity } | undefined>;
  onSignedIn: (found: { token: string; identity: Identity }) => void;
}

/**
 * Sign-in: paste an API token (`npm start` prints the local system's admin token). It is checked
 * against the API, kept in this tab's sessionStorage only, and sent to nothing but the API.
 */
export function SignInPage({ notice, signIn, onSignedIn }: Props) {
  const [token, setToken] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error>();
  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const found = await signIn(token.trim());
      if (!found) setError(new Error("The API does not accept this token."));
      else {
        onSignedIn(found);
        if (window.location.hash === "" || window.location.hash.startsWith("#/sign-in")) navigate(href(["overview"]));
      }
    } catch (err) {
      setError(err instanceof Error ? err : new Error(String(err)));
    } finally {
      setBusy(false);
    }
  };
  return (
    <div class="narrow">
      <PageHeading title="Sign in">Sign in</PageHeading>
      {notice ? <p role="status">{notice}</p> : null}
      <p>
        Paste an API token (a bearer token of the query and management API). The local system prints an admin token when
        it starts (<code>npm start</code>). The token stays in this tab only.
      </p>
      <form onSubmit={(e) => void submit(e)}>
        <div class="field">
          <label for="token">API token</label>
          <input
            id="token"
            name="token"
            type="password"
            autocomplete="off"
            required
            value={token}
            onInput={(e) => setToken(e.currentTarget.value)}
          />
        </div>
        <button type="submit" disabled={busy || token.trim() === ""}>
          {busy ? "Checking…" : "Sign in"}
        </button>
      </form>
      <ErrorNote error={error} />
    </div>
  );
}
