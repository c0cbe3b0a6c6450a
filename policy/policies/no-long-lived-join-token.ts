// Resource policy: a kubeadm join token lets any machine become a node, and the
// tolerate-everything DaemonSets then hand it their service-account tokens. So a token must
// never sit in user data (readable by anyone who can describe the instance, and by the
// metadata service), and a `bootstrap.kubernetes.io/token` Secret must expire. This policy
// reads what it can see: instance and template user data (plain, base64 or gzipped), and
// bootstrap-token Secrets.
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { gunzipSync } from "node:zlib";
import { z } from "zod";
import { policyConfig } from "../lib/config";
import { fromResourceArgs, label, type Res } from "../lib/resources";
import { isUnknown, UnknownNotes } from "../lib/unknowns";
import { at } from "../lib/values";

const NAME = "no-long-lived-join-token";
const schema = z.object({
  maxTokenLifetimeHours: z.number().int().min(1).default(168).describe("Longest a bootstrap-token Secret may stay valid, counted from now"),
});
export type NoLongLivedJoinTokenConfig = z.infer<typeof schema>;
const config = policyConfig(schema);

/** Where each node-provisioning type keeps its user data, and how it is encoded. */
const USER_DATA: Readonly<Record<string, readonly { path: string; base64: boolean }[]>> = {
  "aws:ec2/instance:Instance": [
    { path: "userData", base64: false },
    { path: "userDataBase64", base64: true },
  ],
  "aws:ec2/launchTemplate:LaunchTemplate": [{ path: "userData", base64: true }],
  "aws:ec2/launchConfiguration:LaunchConfiguration": [
    { path: "userData", base64: false },
    { path: "userDataBase64", base64: true },
  ],
  "gcp:compute/instance:Instance": [
    { path: "metadata.user-data", base64: false },
    { path: "metadata.startup-script", base64: false },
    { path: "metadataStartupScript", base64: false },
  ],
  "gcp:compute/instanceTemplate:InstanceTemplate": [
    { path: "metadata.user-data", base64: false },
    { path: "metadata.startup-script", base64: false },
    { path: "metadataStartupScript", base64: false },
  ],
};

const TOKEN = /(?:^|[^a-z0-9])([a-z0-9]{6})\.[a-z0-9]{16}(?:[^a-z0-9]|$)/;
/** kubeadm's "never expires": `ttl: 0s` / `ttl: "0"` in a bootstrapTokens entry, or `--ttl 0`. */
const NO_EXPIRY = /(?:^|\n)\s*(?:-\s*)?ttl:\s*["']?0s?["']?\s*(?:\n|$)|--ttl[ =]["']?0s?["']?(?:\s|$)/;

/** The text a node sees: base64 and gzip undone where they apply. */
export function userDataText(value: string, base64: boolean): string {
  if (!base64) return value;
  const bytes = Buffer.from(value, "base64");
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      return gunzipSync(bytes).toString("utf8");
    } catch {
      return bytes.toString("utf8");
    }
  }
  return bytes.toString("utf8");
}

function checkUserData(r: Res, report: (m: string) => void, notes: UnknownNotes): void {
  for (const field of USER_DATA[r.type] ?? []) {
    const value = at(r.props, field.path);
    if (isUnknown(value)) {
      notes.add(`${field.path} of ${label(r)}`);
      continue;
    }
    if (typeof value !== "string" || value === "") continue;
    const text = userDataText(value, field.base64);
    const token = TOKEN.exec(text);
    if (token) {
      report(
        `${label(r)}: ${field.path} holds a kubeadm join token (id ${token[1]}), readable by anyone allowed to describe the instance and through the metadata service; ` +
          "keep the token in the cloud's secret store and read it at boot with the instance identity (see the wg-mesh README, Security model).",
      );
    }
    if (/bootstrapTokens:|kubeadm (join|init|token create)/.test(text) && NO_EXPIRY.test(text)) {
      report(
        `${label(r)}: ${field.path} configures a kubeadm bootstrap token that never expires (ttl 0); give tokens a TTL of hours and publish fresh ones as needed.`,
      );
    }
  }
}

function checkTokenSecret(r: Res, cfg: NoLongLivedJoinTokenConfig, report: (m: string) => void, notes: UnknownNotes, now: Date): void {
  if (r.type !== "kubernetes:core/v1:Secret" || at(r.props, "type") !== "bootstrap.kubernetes.io/token") return;
  const plain = at(r.props, "stringData.expiration");
  const encoded = at(r.props, "data.expiration");
  if (isUnknown(plain) || isUnknown(encoded) || isUnknown(at(r.props, "stringData")) || isUnknown(at(r.props, "data"))) {
    notes.add(`the expiration of ${label(r)}`);
    return;
  }
  const expiration = typeof plain === "string" ? plain : typeof encoded === "string" ? Buffer.from(encoded, "base64").toString("utf8") : undefined;
  if (expiration === undefined) {
    report(`${label(r)}: bootstrap token Secret without 'expiration' never expires; set stringData.expiration (RFC 3339), a few hours ahead.`);
    return;
  }
  const at_ = Date.parse(expiration);
  if (!Number.isFinite(at_)) {
    report(`${label(r)}: expiration '${expiration}' is not an RFC 3339 time, so the token cleaner never removes it; use e.g. 2026-01-01T12:00:00Z.`);
  } else if (at_ - now.getTime() > cfg.maxTokenLifetimeHours * 3_600_000) {
    report(`${label(r)}: expiration ${expiration} is more than ${cfg.maxTokenLifetimeHours} hours away (maxTokenLifetimeHours); issue shorter-lived tokens.`);
  }
}

export const noLongLivedJoinToken: ResourceValidationPolicy = {
  name: NAME,
  description: "No kubeadm join token in user data, and no bootstrap token Secret without a near expiration.",
  enforcementLevel: "mandatory",
  configSchema: config.configSchema,
  remediationSteps:
    "Store the join token in the cloud's secret store (read at boot through the instance identity), and give bootstrap-token Secrets an expiration a few hours ahead.",
  validateResource: (args, reportViolation) => {
    const cfg = config.read(args, NAME);
    // Nothing below reads any other type (checkUserData: USER_DATA's types; checkTokenSecret: Secrets): skip the copy of its properties.
    if (USER_DATA[args.type] === undefined && args.type !== "kubernetes:core/v1:Secret") return;
    const r = fromResourceArgs(args);
    const notes = new UnknownNotes();
    checkUserData(r, (m) => reportViolation(m), notes);
    checkTokenSecret(r, cfg, (m) => reportViolation(m), notes, new Date());
    notes.finish();
  },
};
