import { useCallback, useEffect, useMemo, useState } from "preact/hooks";
import { apiClient, type ApiError } from "./api/client";
import { AuditPage } from "./pages/audit";
import { DeadLettersPage } from "./pages/dead-letters";
import { EventDetailPage } from "./pages/event-detail";
import { EventsPage } from "./pages/events";
import { OverviewPage } from "./pages/overview";
import { SignInPage } from "./pages/sign-in";
import { SourceDetailPage } from "./pages/source-detail";
import { SourcesPage } from "./pages/sources";
import { SubscriptionDetailPage } from "./pages/subscription-detail";
import { SubscriptionsPage } from "./pages/subscriptions";
import { href, navigate, useRoute, type Route } from "./router";
import {
  forgetToken,
  scopeBelow,
  sessionOf,
  SessionContext,
  storedToken,
  storeToken,
  whoAmI,
  type Identity,
  type Session,
} from "./session";

const NAV = [
  { part: "overview", label: "Overview", admin: false },
  { part: "events", label: "Events", admin: false },
  { part: "subscriptions", label: "Subscriptions", admin: false },
  { part: "sources", label: "Sources", admin: false },
  { part: "dead-letters", label: "Dead letters", admin: false },
  { part: "audit", label: "Audit log", admin: true },
] as const;

interface SignedIn {
  token: string;
  identity: Identity;
}

/** Signs in with a token: asks the API who it is (`GET /v1/whoami`); undefined when unknown. */
async function signIn(token: string): Promise<SignedIn | undefined> {
  const identity = await whoAmI(apiClient(token, () => {}));
  return identity === "invalid" ? undefined : { token, identity };
}

function useSignedIn() {
  const [signedIn, setSignedIn] = useState<SignedIn | undefined>();
  const [checking, setChecking] = useState(() => storedToken() !== undefined);
  const [notice, setNotice] = useState<string>();
  const signOut = useCallback((why?: string) => {
    forgetToken();
    setSignedIn(undefined);
    setNotice(why);
    navigate(href(["sign-in"]));
  }, []);
  useEffect(() => {
    const token = storedToken();
    if (token === undefined) return;
    signIn(token).then(
      (found) => {
        setChecking(false);
        if (found) setSignedIn(found);
        else signOut("The stored token is no longer accepted: sign in again.");
      },
      () => {
        setChecking(false);
        signOut("The API did not say who the stored token is: sign in again.");
      },
    );
  }, [signOut]);
  const accept = useCallback((found: SignedIn) => {
    storeToken(found.token);
    setNotice(undefined);
    setSignedIn(found);
  }, []);
  return { signedIn, setSignedIn, checking, notice, signOut, accept };
}

/** The session of a signed-in token: a 401 signs out, a 403 forbidden_scope lowers the known scope. */
function useSession(signedIn: SignedIn | undefined, update: (s: SignedIn) => void, signOut: (why?: string) => void) {
  return useMemo<Session | undefined>(() => {
    if (!signedIn) return undefined;
    const onRefused = (error: ApiError) => {
      if (error.status === 401) signOut("The API no longer accepts this token: sign in again.");
      else if (error.code === "forbidden_scope") {
        // A refusal after sign-in (the token's scope was lowered meanwhile): show less from now on.
        const scope = scopeBelow(error.message, signedIn.identity.scope);
        if (scope !== signedIn.identity.scope) update({ ...signedIn, identity: { ...signedIn.identity, scope } });
      }
    };
    return sessionOf(apiClient(signedIn.token, onRefused), signedIn.identity, () => signOut());
  }, [signedIn, update, signOut]);
}

export function App() {
  const route = useRoute();
  const { signedIn, setSignedIn, checking, notice, signOut, accept } = useSignedIn();
  const session = useSession(signedIn, setSignedIn, signOut);
  return (
    <>
      <a class="skip" href="#main" onClick={skipToMain}>
        Skip to content
      </a>
      <header class="banner">
        <p class="brand">Tributary console</p>
        {session ? <Nav route={route} session={session} /> : null}
      </header>
      <main id="main" tabIndex={-1}>
        {checking ? (
          <p role="status">Checking the stored token…</p>
        ) : session ? (
          <SessionContext.Provider value={session}>
            <Page route={route} />
          </SessionContext.Provider>
        ) : (
          <SignInPage notice={notice} signIn={signIn} onSignedIn={(found) => accept(found)} />
        )}
      </main>
    </>
  );
}

/** The skip link moves the focus without changing the hash (the hash is the route). */
function skipToMain(event: Event): void {
  event.preventDefault();
  document.getElementById("main")?.focus();
}

function Nav({ route, session }: { route: Route; session: Session }) {
  const current = route.parts[0] ?? "overview";
  return (
    <nav aria-label="Main">
      <ul>
        {NAV.filter((item) => !item.admin || session.canAdmin).map((item) => (
          <li key={item.part}>
            <a href={href([item.part])} aria-current={current === item.part ? "page" : undefined}>
              {item.label}
            </a>
          </li>
        ))}
      </ul>
      <p class="who">
        Token <strong data-testid="token-id">{session.identity.id}</strong>, scope{" "}
        <strong data-testid="scope">{session.scope}</strong>
        {session.identity.sources ? `, sources ${session.identity.sources.join(", ")}` : ""}{" "}
        <button type="button" onClick={session.signOut}>
          Sign out
        </button>
      </p>
    </nav>
  );
}

function Page({ route }: { route: Route }) {
  const [first, second, third] = route.parts;
  if (first === "events" && second !== undefined) return <EventDetailPage key={second} eventKey={second} />;
  if (first === "subscriptions" && second !== undefined)
    return (
      <SubscriptionDetailPage key={second} id={second} tab={third === "dlq" ? "dlq" : "settings"} query={route.query} />
    );
  if (first === "subscriptions") return <SubscriptionsPage />;
  if (first === "sources" && second !== undefined) return <SourceDetailPage key={second} id={second} />;
  if (first === "sources") return <SourcesPage deleted={route.query.get("deleted") ?? undefined} />;
  if (first === "audit") return <AuditPage query={route.query} />;
  if (first === "dead-letters") return <DeadLettersPage query={route.query} />;
  if (first === "events") return <EventsPage query={route.query} />;
  return <OverviewPage />;
}
