// ESLint (flat config) for the JavaScript in web/ and the package (core/webtensor/**/*.mjs): modest rules that catch real mistakes
// (undefined names, unused bindings, unreachable code), not style. Run by `make lint`.
import js from "@eslint/js";
import globals from "globals";

export default [
  { ignores: ["node_modules/**", "build/**", "site/**", ".venv/**"] },
  {
    files: ["web/**/*.mjs", "web/**/*.js", "core/webtensor/**/*.mjs"],
    ...js.configs.recommended,
    languageOptions: {
      ecmaVersion: 2024,
      sourceType: "module",
      // the same modules run in pages, workers and Node (tests/runtime)
      globals: { ...globals.browser, ...globals.worker, ...globals.node },
    },
    rules: {
      ...js.configs.recommended.rules,
      "no-unused-vars": ["error", { args: "after-used", argsIgnorePattern: "^_", caughtErrors: "none" }],
      "no-empty": ["error", { allowEmptyCatch: true }],
    },
  },
];
