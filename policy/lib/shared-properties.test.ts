import { unknownCheckingProxy, type PolicyResource } from "@pulumi/policy";
import * as deserializeModule from "@pulumi/policy/deserialize";
import { Struct } from "google-protobuf/google/protobuf/struct_pb";
import { join } from "node:path";
import { loadStack, type FixtureResource } from "../test/fixtures/load";
import { toPolicyResources } from "../test/harness";
import { z } from "zod";
import { policyConfig } from "./config";
import { firewallContext, type RoleOptions } from "./firewall-scope";
import { fromPolicyResource, type Res } from "./resources";
import { installSharedProperties } from "./shared-properties";

const ROLE_OPTIONS: RoleOptions = {
  roleTagKey: "wg-mesh/role",
  controlPlaneRole: "control-plane",
  gcpControlPlaneTagSuffix: "-control-plane",
  gcpWorkerTagSuffix: "-worker",
  peerAddresses: "public",
};
const runtime = deserializeModule as unknown as { deserializeProperties: (s: unknown, proxySecrets: boolean) => Record<string, unknown> };
const struct = (v: object) => Struct.fromJavaScript(JSON.parse(JSON.stringify(v)) as Record<string, never>);

beforeAll(() => {
  expect(installSharedProperties()).toBe(true);
  expect(installSharedProperties()).toBe(true); // idempotent
});

/** A stack as AnalyzeStack hands it to one stack policy: each policy gets its own objects around the request's Structs. */
function asRuntime(stack: readonly FixtureResource[], structs: Struct[]): PolicyResource[] {
  return toPolicyResources(stack).map((r, i) => ({ ...r, props: unknownCheckingProxy(runtime.deserializeProperties(structs[i], false)) }));
}

describe("shared properties", () => {
  it("deserializes one Struct once, every new Struct afresh, and never caches the remediation path", () => {
    const s = struct({ a: { b: [1, 2] } });
    const t = runtime.deserializeProperties(s, false);
    expect(runtime.deserializeProperties(s, false)).toBe(t);
    expect(t).toEqual({ a: { b: [1, 2] } });
    expect(runtime.deserializeProperties(struct({ a: { b: [1, 3] } }), false)).toEqual({ a: { b: [1, 3] } });
    expect(runtime.deserializeProperties(s, true)).not.toBe(t);
  });

  it("shares one frozen copy of a stack resource's properties between stack policies; plain objects are copied on every call", () => {
    const s = struct({ tags: { "wg-mesh/role": "control-plane" }, ingress: [{ fromPort: 1 }] });
    const args = (props: unknown) => ({ ...toPolicyResources([{ type: "t", name: "n", urn: "u", props: {} }])[0], props: props as Record<string, unknown> });
    const one = fromPolicyResource(args(unknownCheckingProxy(runtime.deserializeProperties(s, false))));
    const two = fromPolicyResource(args(unknownCheckingProxy(runtime.deserializeProperties(s, false))));
    expect(two.props).toBe(one.props);
    expect(Object.isFrozen(one.props) && Object.isFrozen(one.props["ingress"])).toBe(true);
    expect(() => {
      (one.props["tags"] as Record<string, unknown>)["x"] = 1;
    }).toThrow(TypeError);
    const mutable: Record<string, unknown> = { tags: { a: "1" } };
    const first = fromPolicyResource(args(mutable));
    (mutable["tags"] as Record<string, unknown>)["a"] = "2";
    const second = fromPolicyResource(args(mutable));
    expect([first.props, second.props]).toEqual([{ tags: { a: "1" } }, { tags: { a: "2" } }]);
    expect(Object.isFrozen(second.props)).toBe(false);
  });

  it("builds the firewall view once per stack and options, and again for any other stack", () => {
    const stack = loadStack(join(__dirname, "..", "test", "fixtures", "stacks", "handwritten.json"));
    const structs = stack.map((r) => struct(r.props));
    const view = (s: PolicyResource[], opts = ROLE_OPTIONS) => firewallContext(s.map(fromPolicyResource), opts);
    const summary = (c: ReturnType<typeof view>) => ({
      nodes: c.nodes.map((n) => ({ ...n, res: n.res.urn, groups: n.groups.map((g: Res) => g.urn) })),
      rules: c.rules.map((r) => ({ ...r, origin: r.origin.urn })),
    });
    const fresh = view(toPolicyResources(stack)); // plain objects: never shared
    expect(view(toPolicyResources(stack))).not.toBe(fresh);
    const ctx = view(asRuntime(stack, structs));
    expect(ctx.nodes.length).toBeGreaterThan(0);
    expect(summary(ctx)).toEqual(summary(fresh));
    expect(Object.isFrozen(ctx.nodes[0]) && Object.isFrozen(ctx.rules)).toBe(true);
    // Another policy of the same AnalyzeStack: new objects around the same request.
    expect(view(asRuntime(stack, structs))).toBe(ctx);
    // Other options, other dependencies, another request with equal content: built afresh.
    const other = view(asRuntime(stack, structs), { ...ROLE_OPTIONS, controlPlaneRole: "cp" });
    expect(other).not.toBe(ctx);
    const before = view(asRuntime(stack, structs));
    const moved = asRuntime(stack, structs);
    moved[0] = { ...moved[0], propertyDependencies: { ...moved[0].propertyDependencies, extra: [moved[1]] } };
    expect(view(moved)).not.toBe(before);
    const again = view(
      asRuntime(
        stack,
        stack.map((r) => struct(r.props)),
      ),
    );
    expect(again).not.toBe(view(asRuntime(stack, structs)));
    expect(summary(again)).toEqual(summary(fresh));
  });

  it("parses a policy's config once per JSON text, frozen; anything but plain JSON and invalid config every time", () => {
    const config = policyConfig(z.object({ ports: z.array(z.string()).default(["1"]), n: z.number().default(2) }));
    const read = (c: object) => config.read({ getConfig: <T>() => c as T }, "p");
    const a = read({ ports: ["5"] });
    expect(read({ ports: ["5"] })).toBe(a);
    expect(a).toEqual({ ports: ["5"], n: 2 });
    expect(Object.isFrozen(a.ports)).toBe(true);
    expect(read({ ports: ["6"] })).toEqual({ ports: ["6"], n: 2 });
    const withUndefined = read({ ports: ["6"], n: undefined });
    expect(withUndefined).toEqual({ ports: ["6"], n: 2 });
    expect(Object.isFrozen(withUndefined)).toBe(false);
    expect(() => read({ n: "x" })).toThrow("invalid config for policy 'p'");
    expect(() => read({ n: "x" })).toThrow("invalid config for policy 'p'");
  });
});
