// Lint for the whole repository, run by `npm test` (`pnpm run lint`). Type-aware where it pays:
// a promise nobody awaits or handles is a bug here (an unacknowledged event, a swallowed error),
// so no-floating-promises and no-misused-promises are errors. Formatting is Prettier's job.
import js from "@eslint/js";
import prettier from "eslint-config-prettier";
import tseslint from "typescript-eslint";

export default tseslint.config(
  {
    ignores: [
      "**/dist/**",
      "**/node_modules/**",
      ".tools/**",
      ".tributary/**",
      "**/.turbo/**",
      "loadtest/results/**",
      "deploy/helm/*/charts/**",
      // Generated from the API's OpenAPI document at build time.
      "packages/console/src/api/schema.d.ts",
      "packages/console/generated/**",
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      // A `let` declared before the closures that read it and assigned once after is a forward
      // reference (a shutdown handler registered before the thing it stops exists), not a const.
      "prefer-const": ["error", { ignoreReadBeforeAssign: true }],
    },
  },
  {
    // TypeScript sources, tests and benches: type-aware rules through each package's tsconfig.
    // (.tsx: the console's Preact components.)
    files: ["**/*.ts", "**/*.tsx"],
    languageOptions: {
      parserOptions: {
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": "error",
      "@typescript-eslint/await-thenable": "error",
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrors: "none" },
      ],
      // Packages are used through their public entry points only.
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              group: ["@tributary/*/src/*", "@tributary/*/dist/*"],
              message: "import a package through its entry point",
            },
          ],
        },
      ],
      "no-restricted-syntax": [
        "error",
        { selector: "ExportAllDeclaration", message: "name what a module exports (no export *)" },
      ],
    },
  },
  {
    // Sources: a function over 80 lines is doing several things; split it along the steps it narrates.
    files: ["apps/*/src/**/*.ts", "packages/*/src/**/*.{ts,tsx}", "loadtest/src/**/*.ts", "deploy/helm/src/**/*.ts"],
    rules: { "max-lines-per-function": ["error", { max: 80, skipBlankLines: true, skipComments: true }] },
  },
  {
    // Tests read JSON answers loosely (`as any`): a field that is not there fails the assertion.
    files: ["**/test/**/*.ts"],
    rules: { "@typescript-eslint/no-explicit-any": "off" },
  },
  {
    // Vitest configs sit outside the packages' tsconfig projects: no type information needed there.
    files: ["**/vitest.config.ts", "vitest.shared.ts"],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    // Plain JavaScript (bench drivers, chart scripts, k6): Node and k6 globals, no type information.
    files: ["**/*.{js,mjs,cjs}"],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      globals: {
        process: "readonly",
        console: "readonly",
        Buffer: "readonly",
        URL: "readonly",
        setTimeout: "readonly",
        clearTimeout: "readonly",
        setInterval: "readonly",
        clearInterval: "readonly",
        performance: "readonly",
        fetch: "readonly",
        AbortSignal: "readonly",
        TextEncoder: "readonly",
        TextDecoder: "readonly",
        structuredClone: "readonly",
        __ENV: "readonly",
        __VU: "readonly",
        __ITER: "readonly",
        open: "readonly",
      },
    },
    rules: {
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrors: "none" },
      ],
    },
  },
  prettier,
);
