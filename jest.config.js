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
  // One test file at a time (the lab and kernel tests share the machine's CPU, netns and nft, and
  // time what they do), in a worker process that is replaced once it holds more than this after a
  // file: in the main process, memory that test files leave behind (modules, Pulumi's runtime
  // state) added up to 24 GB over the whole suite and the kernel killed the run.
  maxWorkers: 1,
  workerIdleMemoryLimit: "1GB",
};
