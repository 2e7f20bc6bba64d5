// `pnpm run lint`: ESLint over the whole repository, one process per workspace package (two at a
// time, one per core) and a last one for everything outside the packages. Why not one `eslint .`:
// type-aware rules keep a TypeScript program per tsconfig in memory, and one process holding all
// of them passed V8's default 4 GiB heap as the workspace grew (a CI run died "heap out of
// memory"). Per package, each process holds one program and exits.
import { spawn } from "node:child_process";
import { workspaceDirs } from "./workspace-dirs.mjs";

const eslint = "node_modules/eslint/bin/eslint.js";
const packages = workspaceDirs();
const rest = ["."].concat(...packages.map((dir) => ["--ignore-pattern", `${dir}/**`]));
const runs = [...packages.map((dir) => [dir]), rest];

function lint(args) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [eslint, ...args], { stdio: "inherit" });
    child.on("exit", (code, signal) => resolve(code === 0 ? 0 : (code ?? (signal ? 1 : 0))));
  });
}

let failed = 0;
async function worker() {
  for (let next = runs.shift(); next; next = runs.shift()) if ((await lint(next)) !== 0) failed++;
}
await Promise.all([worker(), worker()]);
if (failed > 0) console.error(`lint: ${failed} of ${packages.length + 1} parts have problems (above)`);
process.exitCode = failed > 0 ? 1 : 0;
