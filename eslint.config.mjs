// ESLint flat config: type-aware typescript-eslint rules plus both Pulumi rules as errors
// (an Output inside a template literal renders as a warning string, never as the value).
import tseslint from "typescript-eslint";
import pulumi from "@pulumi/eslint-plugin";

export default tseslint.config(
  {
    ignores: [
      "node_modules/**",
      "dist/**",
      "render/**",
      "out/**",
      "docs/api/**",
      "**/*.js",
      "**/*.mjs",
      "examples/*/node_modules/**",
      // Run only in the consumer test's scratch project, against the packed tarball, where
      // scripts/consumer-test.sh type-checks them with the consumer's strict tsconfig.
      "examples/consumer-stack/mock-run.ts",
      "examples/analytics-stack/**",
    ],
  },
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
      },
    },
    plugins: { "@pulumi": pulumi },
    rules: {
      "@pulumi/no-output-in-template-literal": "error",
      "@pulumi/no-output-instance-in-template-literal": "error",
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/consistent-type-imports": ["error", { fixStyle: "inline-type-imports" }],
      eqeqeq: ["error", "always"],
    },
  },
  {
    // The library and the program read top-down: a constructor is a list of named steps, and no
    // function runs over about a screen (issue 14). Data builders that grow stay as top-level data.
    files: ["components/**/*.ts", "config/**/*.ts", "services/**/*.ts", "analysis/**/*.ts", "index.ts"],
    rules: {
      "max-lines-per-function": ["error", { max: 100, skipBlankLines: true, skipComments: true }],
    },
  },
  {
    // Tests, scripts and the mocks of the testing entry point handle loosely-typed recorded
    // resources; keep the safety rules, relax the any-rules.
    files: ["test/**/*.ts", "scripts/**/*.ts", "components/testing/mocks/**/*.ts"],
    rules: {
      "@typescript-eslint/no-unsafe-member-access": "off",
      "@typescript-eslint/no-unsafe-assignment": "off",
      "@typescript-eslint/no-unsafe-argument": "off",
      "@typescript-eslint/no-unsafe-call": "off",
      "@typescript-eslint/no-unsafe-return": "off",
    },
  },
);
