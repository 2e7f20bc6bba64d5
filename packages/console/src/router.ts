import { useEffect, useState } from "preact/hooks";

/** Where the console is: the hash route (`#/events?source=shop`), so every page is a shareable URL. */
export interface Route {
  /** Path segments, decoded: ["events", "shop:evt_1"]. */
  parts: string[];
  query: URLSearchParams;
}

export function parseRoute(hash: string): Route {
  const [path = "", search = ""] = hash.replace(/^#/, "").split("?", 2);
  const parts = path
    .split("/")
    .filter((p) => p !== "")
    .map((p) => decodeURIComponent(p));
  return { parts, query: new URLSearchParams(search) };
}

/** The href of a route: `href(["events", key], {cursor})`. Empty query values are left out. */
export function href(parts: readonly string[], query: Record<string, string | undefined> = {}): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) if (value !== undefined && value !== "") search.set(name, value);
  const text = search.toString();
  return `#/${parts.map((p) => encodeURIComponent(p)).join("/")}${text ? `?${text}` : ""}`;
}

export function navigate(to: string): void {
  window.location.hash = to;
}

/** The current route, following hash changes. */
export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(window.location.hash));
  useEffect(() => {
    const follow = () => setRoute(parseRoute(window.location.hash));
    window.addEventListener("hashchange", follow);
    return () => window.removeEventListener("hashchange", follow);
  }, []);
  return route;
}
