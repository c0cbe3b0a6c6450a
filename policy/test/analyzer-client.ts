// Starts the pack exactly as the Pulumi CLI does (`node @pulumi/pulumi/cmd/run-policy-pack
// <engine-address> <pack dir>`, cwd = pack dir, port read from stdout) and talks to it with the
// analyzer gRPC stubs that @pulumi/pulumi ships.
import { type ChildProcess, spawn } from "node:child_process";
import { dirname, join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { Empty } from "google-protobuf/google/protobuf/empty_pb";
import { Struct } from "google-protobuf/google/protobuf/struct_pb";
import * as rpc from "@pulumi/pulumi/proto/analyzer_grpc_pb";
import * as pb from "@pulumi/pulumi/proto/analyzer_pb";
import type { PluginInfo } from "@pulumi/pulumi/proto/plugin_pb";
import type { FixtureResource } from "./fixtures/load";

export interface Diagnostic {
  policy: string;
  level: "advisory" | "mandatory" | "other";
  message: string;
  urn: string;
}

export interface PackProcess {
  client: rpc.AnalyzerClient;
  child: ChildProcess;
  stderr: () => string;
  stop(): Promise<void>;
}

const RUN_POLICY_PACK = join(dirname(require.resolve("@pulumi/pulumi/package.json")), "cmd", "run-policy-pack");

/** Spawns the pack; resolves once it printed its port. `engineAddress` is discarded by run-policy-pack. */
export function startPack(packDir: string, timeoutMs = 90_000): Promise<PackProcess> {
  const child = spawn(process.execPath, [RUN_POLICY_PACK, "127.0.0.1:0", packDir], { cwd: packDir, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stderr.on("data", (d: Buffer) => {
    err += d.toString();
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error(`pack printed no port within ${timeoutMs} ms; stderr:\n${err}`));
    }, timeoutMs);
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`pack exited with ${code} before printing its port; stderr:\n${err}`));
    });
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /^(\d+)\s*$/m.exec(out);
      if (!m) return;
      clearTimeout(timer);
      child.removeAllListeners("exit");
      const client = new rpc.AnalyzerClient(`127.0.0.1:${m[1]}`, grpc.credentials.createInsecure(), {
        // Same ceiling as the pack's server (400 MiB), as the CLI allows for big stacks.
        "grpc.max_receive_message_length": 400 * 1024 * 1024,
        "grpc.max_send_message_length": 400 * 1024 * 1024,
      });
      resolve({
        client,
        child,
        stderr: () => err,
        stop: () =>
          new Promise<void>((done) => {
            client.close();
            if (child.exitCode !== null) return done();
            child.once("exit", () => done());
            child.kill("SIGTERM");
          }),
      });
    });
  });
}

function call<Req, Res>(fn: (req: Req, cb: (e: grpc.ServiceError | null, r: Res) => void) => unknown, req: Req): Promise<Res> {
  return new Promise((resolve, reject) => {
    fn(req, (e, r) => (e ? reject(e) : resolve(r)));
  });
}

export const getAnalyzerInfo = (c: rpc.AnalyzerClient) => call<Empty, pb.AnalyzerInfo>(c.getAnalyzerInfo.bind(c), new Empty());
export const getPluginInfo = (c: rpc.AnalyzerClient) => call<Empty, PluginInfo>(c.getPluginInfo.bind(c), new Empty());

/**
 * Configure as the CLI does: every policy of the pack gets an entry, with its own default level
 * unless the config sets one (the CLI reconciles the config file with GetAnalyzerInfo), plus the
 * properties the config gives.
 */
export async function configure(
  c: rpc.AnalyzerClient,
  config: Record<string, { level?: "advisory" | "mandatory" | "disabled"; props?: object }>,
): Promise<unknown> {
  const req = new pb.ConfigureAnalyzerRequest();
  const levels = { advisory: pb.EnforcementLevel.ADVISORY, mandatory: pb.EnforcementLevel.MANDATORY, disabled: pb.EnforcementLevel.DISABLED };
  const info = await getAnalyzerInfo(c);
  for (const p of info.getPoliciesList()) {
    const cfg = config[p.getName()] ?? {};
    const pc = new pb.PolicyConfig();
    pc.setEnforcementlevel(cfg.level ? levels[cfg.level] : p.getEnforcementlevel());
    pc.setProperties(Struct.fromJavaScript((cfg.props ?? {}) as Record<string, never>));
    req.getPolicyconfigMap().set(p.getName(), pc);
  }
  return call(c.configure.bind(c), req);
}

/** google.protobuf.Struct has no undefined: drop such keys as JSON does (the CLI never sends them). */
const struct = (value: unknown) => Struct.fromJavaScript(JSON.parse(JSON.stringify(value ?? {})) as Record<string, never>);

function options(r: FixtureResource): pb.AnalyzerResourceOptions {
  const o = new pb.AnalyzerResourceOptions();
  o.setCustomtimeouts(new pb.AnalyzerResourceOptions.CustomTimeouts());
  if (r.parent) o.setParent(r.parent);
  return o;
}

function diagnostics(res: pb.AnalyzeResponse): Diagnostic[] {
  return res.getDiagnosticsList().map((d) => ({
    policy: d.getPolicyname(),
    message: d.getMessage(),
    urn: d.getUrn(),
    level:
      d.getEnforcementlevel() === pb.EnforcementLevel.MANDATORY ? "mandatory" : d.getEnforcementlevel() === pb.EnforcementLevel.ADVISORY ? "advisory" : "other",
  }));
}

/** Analyze gets a resource's inputs (`inputs` when the fixture carries them), AnalyzeStack its outputs (`props`). */
export async function analyze(c: rpc.AnalyzerClient, r: FixtureResource & { inputs?: Record<string, unknown> }): Promise<Diagnostic[]> {
  const req = new pb.AnalyzeRequest();
  req.setType(r.type);
  req.setUrn(r.urn);
  req.setName(r.name);
  req.setProperties(struct(r.inputs ?? r.props));
  req.setOptions(options(r));
  return diagnostics(await call(c.analyze.bind(c), req));
}

export async function analyzeStack(c: rpc.AnalyzerClient, stack: readonly FixtureResource[]): Promise<Diagnostic[]> {
  const req = new pb.AnalyzeStackRequest();
  req.setResourcesList(
    stack.map((r) => {
      const ar = new pb.AnalyzerResource();
      ar.setType(r.type);
      ar.setUrn(r.urn);
      ar.setName(r.name);
      ar.setProperties(struct(r.props));
      ar.setOptions(options(r));
      if (r.parent) ar.setParent(r.parent);
      for (const [k, urns] of Object.entries(r.propertyDependencies ?? {})) {
        const deps = new pb.AnalyzerPropertyDependencies();
        deps.setUrnsList(urns);
        ar.getPropertydependenciesMap().set(k, deps);
      }
      return ar;
    }),
  );
  return diagnostics(await call(c.analyzeStack.bind(c), req));
}

/** What `pulumi preview` does with one stack: Analyze every resource, then AnalyzeStack. */
export async function previewLike(c: rpc.AnalyzerClient, stack: ReadonlyArray<FixtureResource & { inputs?: Record<string, unknown> }>): Promise<Diagnostic[]> {
  const perResource = await Promise.all(stack.map((r) => analyze(c, r)));
  return [...perResource.flat(), ...(await analyzeStack(c, stack))];
}

/** Configure from a --policy-pack-config file, as the CLI does: a bare string is the level; `enforcementLevel` is split from the properties. */
export function configureFromFile(c: rpc.AnalyzerClient, file: Record<string, unknown>): Promise<unknown> {
  const config: Record<string, { level?: "advisory" | "mandatory" | "disabled"; props?: object }> = {};
  for (const [name, value] of Object.entries(file)) {
    if (typeof value === "string") {
      config[name] = { level: value as "advisory" };
      continue;
    }
    const { enforcementLevel, ...props } = value as { enforcementLevel?: "advisory" | "mandatory" | "disabled" };
    config[name] = { level: enforcementLevel, props };
  }
  return configure(c, config);
}
