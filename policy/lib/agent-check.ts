// Judges the agent settings found in a pod spec (agent-sources.ts). The resource policy
// node-router-daemonset judges what the pod spec says itself; node-router-indirect-settings
// resolves ConfigMaps, Secrets and mounted files from the stack and judges what they hold
// (occurrences it resolved carry `resolved: true`), so each value is judged once.
import { AGENT_SETTINGS, judgeMark, judgeValue, type AgentLimits } from "./agent-settings";
import { isIndirect, type Occurrence } from "./agent-sources";
import { isUnknown, type UnknownNotes } from "./unknowns";

export type Judged = Occurrence & { resolved?: boolean };

export function judgeSettings(
  occs: readonly Judged[],
  who: string,
  limits: AgentLimits,
  report: (m: string) => void,
  notes: UnknownNotes,
  onlyResolved: boolean,
): void {
  const mine = (o: Judged) => (onlyResolved ? o.resolved === true : !o.resolved);
  for (const o of occs) {
    if (!mine(o)) continue;
    if (isUnknown(o.value)) {
      notes.add(`${o.field} of ${who}`);
      continue;
    }
    if (isIndirect(o.value)) {
      if (o.value.from === "runtime") notes.notVisible(`${o.field} of ${who}: ${o.value.what} is computed when the container starts`);
      continue;
    }
    if (o.setting === undefined || o.setting === "wgMark" || o.setting === "wgMask") continue;
    const why = judgeValue(o.setting, o.value, limits);
    if (why) report(`${who}: ${o.field} ${why}; fix ${o.name}.`);
  }
  // The mark and mask are judged as a pair per container; an unset one is the agent's default.
  const containers = new Set(occs.filter((o) => o.setting === "wgMark" || o.setting === "wgMask").map((o) => o.container));
  for (const c of containers) {
    const last = (s: "wgMark" | "wgMask") => occs.filter((o) => o.container === c && o.setting === s).pop();
    const mark = last("wgMark");
    const mask = last("wgMask");
    if (!((mark && mine(mark)) || (mask && mine(mask)))) continue;
    const markValue = mark?.value ?? AGENT_SETTINGS.wgMark.default;
    const maskValue = mask?.value ?? AGENT_SETTINGS.wgMask.default;
    // Unknown or indirect: noted above, or judged by the stack policy once resolved.
    if (typeof markValue !== "string" || typeof maskValue !== "string") continue;
    const why = judgeMark(markValue, maskValue, limits);
    const where = [mark, mask]
      .filter((o): o is Judged => o !== undefined)
      .map((o) => `${o.field} (${o.name})`)
      .join(" and ");
    if (why) report(`${who}: ${where}: ${why}; keep the defaults (0xe00/0xf00) or Cilium's WireGuard mark.`);
  }
}
