// Advisory: the agent should get no more than it needs. `privileged: true`
// hands it every capability and device although it needs NET_ADMIN only, and an image not
// pinned by digest can change under the same tag on every node at the next pull.
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { z } from "zod";
import { isAgentChart, isAgentDaemonSet, isAgentDaemonSetPatch, mayBeAgent } from "../lib/agent";
import { chartPodSpec } from "../lib/agent-chart";
import { agentMatcher, policyConfig } from "../lib/config";
import { fromResourceArgs, label } from "../lib/resources";
import { isUnknown, UnknownNotes } from "../lib/unknowns";
import { asArray, asBool, at } from "../lib/values";

const NAME = "node-router-hardening";
const schema = z.object({ agent: agentMatcher });
const config = policyConfig(schema);
const DIGEST = /@sha256:[0-9a-f]{64}$/;

export const nodeRouterHardening: ResourceValidationPolicy = {
  name: NAME,
  description: "The node-router agent should not run privileged and its image should be pinned by digest.",
  enforcementLevel: "advisory",
  configSchema: config.configSchema,
  remediationSteps:
    "Set securityContext.privileged: false with capabilities.add: [NET_ADMIN] and drop: [ALL]; reference the image as repo/name@sha256:<digest>.",
  validateResource: (args, reportViolation) => {
    if (!mayBeAgent(args.type)) return;
    const cfg = config.read(args, NAME);
    const res = fromResourceArgs(args);
    let spec: unknown;
    let base = "spec.template.spec";
    if (isAgentDaemonSet(res, cfg.agent) || isAgentDaemonSetPatch(res, cfg.agent)) spec = at(res.props, "spec.template.spec");
    else if (isAgentChart(res, cfg.agent)) {
      spec = chartPodSpec(res.props["values"]).spec;
      base = "values (documented shape)";
    } else return;
    if (spec === undefined) return;
    const who = label(res);
    const notes = new UnknownNotes();
    if (isUnknown(spec)) {
      notes.add(`${base} of ${who}`);
      notes.finish();
      return;
    }
    for (const list of ["initContainers", "containers"]) {
      const cs = asArray(at(spec, list));
      if (isUnknown(cs)) {
        notes.add(`${base}.${list} of ${who}`);
        continue;
      }
      cs.forEach((c, i) => {
        const field = `${base}.${list}[${i}]`;
        const privileged = asBool(at(c, "securityContext.privileged"));
        if (isUnknown(privileged)) notes.add(`${field}.securityContext.privileged of ${who}`);
        else if (privileged === true)
          reportViolation(
            `${who}: ${field}.securityContext.privileged is true: the agent gets every capability and host device although it needs NET_ADMIN only; drop privileged and add NET_ADMIN.`,
          );
        const image = at(c, "image");
        if (isUnknown(image)) notes.add(`${field}.image of ${who}`);
        else if (typeof image === "string" && !DIGEST.test(image))
          reportViolation(
            `${who}: ${field}.image '${image}' is not pinned by digest, so nodes can pull different code under the same tag; use ${image.replace(/@.*$/, "").replace(/:[^/]*$/, "")}@sha256:<digest>.`,
          );
      });
    }
    notes.finish();
  },
};
