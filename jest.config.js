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
  // time what they do), each in a fresh worker process: run in one process, what the files left
  // behind grew its resident memory to 24 GB and the kernel killed the run, while the V8 heap that
  // jest can measure stayed under 1 GB. A limit this low replaces the worker after every file.
  maxWorkers: 1,
  workerIdleMemoryLimit: "1MB",
};
