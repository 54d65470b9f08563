// ESLint flat config: typescript-eslint recommended rules plus Pulumi's rule that forbids
// Outputs inside template literals (use pulumi.interpolate instead).
import tseslint from "typescript-eslint";
import pulumi from "@pulumi/eslint-plugin";

export default tseslint.config(
    { ignores: ["node_modules/", "bin/", "out/", "dist/", "**/*.js", "**/*.mjs"] },
    ...tseslint.configs.recommended,
    {
        files: ["**/*.ts"],
        languageOptions: {
            parserOptions: { project: "./tsconfig.json", tsconfigRootDir: import.meta.dirname },
        },
        plugins: { "@pulumi": pulumi },
        rules: {
            "@pulumi/no-output-in-template-literal": "error",
            "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_" }],
            "@typescript-eslint/no-explicit-any": "error",
        },
    },
    // Import direction (test/config/imports.test.ts checks the same and finds cycles): the library never
    // imports the tools or the tests, and components/core/ is pure, shared code that imports no other area.
    {
        files: ["components/**/*.ts"],
        ignores: ["components/core/**"],
        rules: {
            "no-restricted-imports": [
                "error",
                {
                    patterns: [
                        {
                            group: ["**/tools/**", "**/test/**"],
                            message: "components never import tools/ or test/",
                        },
                    ],
                },
            ],
        },
    },
    {
        files: ["components/core/**/*.ts"],
        rules: {
            "no-restricted-imports": [
                "error",
                {
                    patterns: [
                        { group: ["../**"], message: "components/core imports nothing outside core" },
                        {
                            group: ["@pulumi/aws", "@pulumi/kubernetes", "@pulumi/tls", "@pulumi/random"],
                            message: "components/core is pure: no cloud SDK",
                        },
                    ],
                },
            ],
        },
    },
    {
        files: ["test/**/*.ts", "tools/bench/**/*.ts"],
        rules: { "@typescript-eslint/no-unused-expressions": "off" },
    },
);
