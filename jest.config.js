// Every test file in the repository, transpiled by SWC (type checking is `npm run typecheck`).
const { existsSync } = require("node:fs");
const { join } = require("node:path");

/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: "node",
  roots: ["infra", "components", "provider", "agent", "policy", "lab", "test"].filter((d) => existsSync(join(__dirname, d))).map((d) => `<rootDir>/${d}`),
  testMatch: ["**/*.test.ts"],
  transform: { "^.+\\.ts$": ["@swc/jest", { jsc: { parser: { syntax: "typescript" }, target: "es2022" }, module: { type: "commonjs" } }] },
  testTimeout: 60000,
};
