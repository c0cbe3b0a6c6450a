// The node-router container must run exactly the agent's `run` (lib/agent-command.ts): not
// `uninstall` (which removes every rule, route and the boot guard on every node), not a shell
// wrapper or another program, not `--help`. Judged on the agent's DaemonSet, a DaemonSetPatch of
// it (only the containers' command/args it sets) and a node-router chart's documented values
// (lib/agent-chart.ts: `extraArgs`).
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { z } from "zod";
import { isAgentChart, isAgentDaemonSet, isAgentDaemonSetPatch, mayBeAgent } from "../lib/agent";
import { chartPodSpec } from "../lib/agent-chart";
import { agentContainers, judgeCommand } from "../lib/agent-command";
import { agentMatcher, policyConfig } from "../lib/config";
import { fromResourceArgs, label } from "../lib/resources";
import { isUnknown, UnknownNotes } from "../lib/unknowns";
import { at } from "../lib/values";

const NAME = "node-router-command";
const schema = z.object({ agent: agentMatcher });
export type NodeRouterCommandConfig = z.infer<typeof schema>;
const config = policyConfig(schema);

export const nodeRouterCommand: ResourceValidationPolicy = {
  name: NAME,
  description: "The node-router container must run the agent's `run` command: no `uninstall`, no shell wrapper, no other program.",
  enforcementLevel: "mandatory",
  configSchema: config.configSchema,
  remediationSteps:
    "Leave the container's command unset (the image runs `node main.js run`) and put only agent flags in args " +
    '(or command ["node", "dist/agent/src/main.js"] and args ["run", "--flag=value", ...]).',
  validateResource: (args, reportViolation) => {
    if (!mayBeAgent(args.type)) return;
    const cfg = config.read(args, NAME);
    const res = fromResourceArgs(args);
    let spec: unknown;
    let base = "spec.template.spec";
    let partial = false;
    if (isAgentDaemonSet(res, cfg.agent)) spec = at(res.props, "spec.template.spec");
    else if (isAgentDaemonSetPatch(res, cfg.agent)) {
      spec = at(res.props, "spec.template.spec");
      partial = true;
    } else if (isAgentChart(res, cfg.agent)) {
      spec = chartPodSpec(res.props["values"]).spec;
      base = "values.extraArgs";
    } else return;
    if (spec === undefined) return;
    const who = label(res);
    const notes = new UnknownNotes();
    if (isUnknown(spec) || isUnknown(at(spec, "containers"))) notes.add(`${base} of ${who}`);
    else {
      for (const { c, index } of agentContainers(spec, cfg.agent.value)) {
        judgeCommand(c, base === "values.extraArgs" ? "values" : `${base}.containers[${index}]`, who, reportViolation, notes, partial);
      }
    }
    notes.finish();
  },
};
