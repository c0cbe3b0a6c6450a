// Advisory: when nodes span clouds (or sit behind NAT), NAT/conntrack state on the
// path expires between handshakes unless WireGuard sends persistent keepalives.
import type { StackValidationPolicy } from "@pulumi/policy";
import { z } from "zod";
import { ciliumSources } from "../lib/cilium";
import { policyConfig } from "../lib/config";
import { cloudOf, nodeResources } from "../lib/nodes";
import { fromPolicyResource, label, withAssets } from "../lib/resources";
import { isUnknown, UnknownNotes } from "../lib/unknowns";

const NAME = "wireguard-keepalive";
const schema = z.object({
  nodesBehindNat: z.boolean().default(false).describe("Set true when nodes reach each other through NAT even within one cloud"),
  maxKeepaliveSeconds: z.number().int().min(1).default(60).describe("Largest acceptable keepalive interval"),
});
export type WireguardKeepaliveConfig = z.infer<typeof schema>;
const config = policyConfig(schema);

/** Seconds in a Go-style duration ("25s", "1m", "1m30s") or a bare number; NaN when unreadable. */
export function durationSeconds(text: string): number {
  const t = text.trim();
  if (/^\d+(\.\d+)?$/.test(t)) return Number(t);
  const parts = [...t.matchAll(/(\d+(?:\.\d+)?)(h|ms|m|s)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join("") !== t) return NaN;
  const unit: Record<string, number> = { h: 3600, m: 60, s: 1, ms: 0.001 };
  return parts.reduce((sum, p) => sum + Number(p[1]) * unit[p[2]], 0);
}

export const wireguardKeepalive: StackValidationPolicy = {
  name: NAME,
  description: "WireGuard persistent keepalive should be set when nodes span clouds or sit behind NAT.",
  enforcementLevel: "advisory",
  configSchema: config.configSchema,
  remediationSteps: 'Set Helm value encryption.wireguard.persistentKeepalive: "25s" (cilium-config: wireguard-persistent-keepalive: "25s").',
  validateStack: async (args, reportViolation) => {
    const cfg = config.read(args, NAME);
    const resources = await withAssets(args.resources.map(fromPolicyResource));
    const clouds = new Set(nodeResources(resources).map(cloudOf));
    if (clouds.size < 2 && !cfg.nodesBehindNat) return;
    const why = clouds.size >= 2 ? `nodes span ${[...clouds].sort().join(" and ")}` : "nodes sit behind NAT";
    const notes = new UnknownNotes();
    for (const src of ciliumSources(resources)) {
      const ka = src.keepalive;
      if (isUnknown(ka)) {
        notes.add(`${src.field("keepalive")} of ${label(src.res)}`);
        continue;
      }
      if (src.partial && ka === undefined) continue;
      const secs = ka === undefined ? 0 : durationSeconds(ka);
      if (!(secs > 0) || secs > cfg.maxKeepaliveSeconds) {
        reportViolation(
          `${label(src.res)}: ${src.field("keepalive")} is ${ka === undefined ? "unset (0s)" : `'${ka}'`} although ${why}; ` +
            `NAT state expires between handshakes; set it to 25s (at most ${cfg.maxKeepaliveSeconds}s).`,
          src.res.urn,
        );
      }
    }
    notes.finish();
  },
};
