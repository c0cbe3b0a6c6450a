// A digest-pinned image reference for tests (the digest is made up; nothing pulls it).
export const TEST_IMAGE = `ghcr.io/example/node-router@sha256:${"5e".repeat(32)}`;
