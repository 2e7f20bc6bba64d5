/**
 * nats-server's config syntax, as packages/streams' renderers write it (`accounts { TRIBUTARY: {
 * users: [ { user: "admin", password: $ADMIN_PASSWORD } ] } }`): blocks with or without `:`/`=`,
 * items separated by commas or newlines, quoted strings and bare tokens (`$VAR`, `enabled`,
 * numbers). Enough of it to compare the code's rendering with the charts' as data; the charts'
 * own files are JSON with bare tokens and go through parseNatsChartConfig.
 */
type Value = string | number | boolean | Value[] | { [key: string]: Value };

export function parseNatsConf(text: string): Record<string, Value> {
  const tokens = tokenize(text);
  let i = 0;
  const peek = () => tokens[i];
  const next = () => {
    const t = tokens[i++];
    if (t === undefined) throw new Error("nats conf: unexpected end");
    return t;
  };
  const skipCommas = () => {
    while (peek()?.kind === "," || peek()?.kind === ";") i++;
  };

  function value(): Value {
    const t = next();
    if (t.kind === "{") return object("}");
    if (t.kind === "[") {
      const list: Value[] = [];
      for (skipCommas(); peek()?.kind !== "]"; skipCommas()) list.push(value());
      next();
      return list;
    }
    if (t.kind === "string") return t.text;
    if (t.kind === "bare") {
      if (/^-?\d+(\.\d+)?$/.test(t.text)) return Number(t.text);
      if (t.text === "true" || t.text === "false") return t.text === "true";
      return t.text;
    }
    throw new Error(`nats conf: unexpected ${t.kind}`);
  }

  function object(end: "}" | undefined): Record<string, Value> {
    const result: Record<string, Value> = {};
    for (skipCommas(); peek() !== undefined && peek()!.kind !== end; skipCommas()) {
      const key = next();
      if (key.kind !== "bare" && key.kind !== "string") throw new Error(`nats conf: a key, not ${key.kind}`);
      if (peek()?.kind === ":" || peek()?.kind === "=") i++;
      result[key.text] = value();
    }
    if (end) next();
    return result;
  }

  return object(undefined);
}

interface Token {
  kind: "{" | "}" | "[" | "]" | "," | ";" | ":" | "=" | "string" | "bare";
  text: string;
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === "#" || (c === "/" && text[i + 1] === "/")) {
      while (i < text.length && text[i] !== "\n") i++;
    } else if ("{}[],;:=".includes(c)) {
      tokens.push({ kind: c as Token["kind"], text: c });
      i++;
    } else if (c === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === "\\" ? 2 : 1;
      tokens.push({ kind: "string", text: JSON.parse(text.slice(i, j + 1)) as string });
      i = j + 1;
    } else {
      let j = i;
      while (j < text.length && !/[\s{}[\],;:="#]/.test(text[j]!)) j++;
      tokens.push({ kind: "bare", text: text.slice(i, j) });
      i = j;
    }
  }
  return tokens;
}
