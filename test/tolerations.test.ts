// The toleration matcher the DaemonSet and Hubble tests rely on follows Kubernetes' rules.
import { tolerates, type Taint } from "./tolerations";

describe("tolerates (Kubernetes semantics)", () => {
  const cp: Taint = { key: "node-role.kubernetes.io/control-plane", effect: "NoSchedule" };
  test("matching rules", () => {
    expect(tolerates([{ operator: "Exists" }], cp)).toBe(true);
    expect(tolerates([], cp)).toBe(false);
    expect(tolerates([{ key: "other", operator: "Exists" }], cp)).toBe(false);
    expect(tolerates([{ key: cp.key, operator: "Exists", effect: "NoExecute" }], cp)).toBe(false);
    expect(tolerates([{ key: "k", operator: "Equal", value: "a" }], { key: "k", value: "b", effect: "NoSchedule" })).toBe(false);
    expect(tolerates([{ key: "k", value: "a" }], { key: "k", value: "a", effect: "NoSchedule" })).toBe(true);
    expect(tolerates([{ operator: "Equal" }], cp)).toBe(false);
  });
  test("NoExecute with tolerationSeconds only delays eviction", () => {
    const t: Taint = { key: "node.kubernetes.io/unreachable", effect: "NoExecute" };
    expect(tolerates([{ operator: "Exists", tolerationSeconds: 300 }], t)).toBe(false);
    expect(tolerates([{ operator: "Exists" }], t)).toBe(true);
  });
});
