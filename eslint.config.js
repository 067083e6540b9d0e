// Lint rules: typescript-eslint's recommended set, plus the project's boundaries.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist/**", "node_modules/**", "bench/out/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "no-console": "off",
    },
  },
  {
    // The dashboard runs in the browser.
    files: ["web/**/*.js"],
    languageOptions: {
      sourceType: "script",
      globals: Object.fromEntries(
        [
          "document",
          "window",
          "fetch",
          "sessionStorage",
          "confirm",
          "setInterval",
          "clearInterval",
          "setTimeout",
          "clearTimeout",
          "URLSearchParams",
          "Node",
          "console",
        ].map((g) => [g, "readonly"]),
      ),
    },
  },
  {
    // Only the entry points touch the process; everything else gets what it needs as parameters.
    files: ["src/**/*.ts"],
    ignores: ["src/cli/main.ts", "src/daemon/main.ts", "src/**/*.test.ts"],
    rules: {
      "no-restricted-properties": [
        "error",
        { object: "process", property: "exit", message: "Only main.ts exits." },
      ],
    },
  },
);
