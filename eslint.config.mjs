// Lint: typescript-eslint's recommended rules; the compiler (strict) does the rest.
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["node_modules/**", "dist/**", "bin/cellctl.js"] },
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
    },
  },
  {
    // Tests and the offline runner (mocks, registrations) handle deserialized engine
    // payloads, which are untyped by nature.
    files: ["test/**/*.ts", "offline/**/*.ts", "bench/**/*.ts"],
    rules: { "@typescript-eslint/no-explicit-any": "off" },
  },
);
