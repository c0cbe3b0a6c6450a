// Starts the package as the Pulumi CLI does and talks to it over the provider protocol. The
// CLI's nodejs language host runs `node <@pulumi/pulumi>/cmd/run-plugin <plugin dir> <engine
// address>` with the user's project as working directory (no tsconfig of ours there), and reads
// the port the plugin prints; the engine then calls it with the ResourceProvider stubs that
// @pulumi/pulumi ships (the same messages as the CLI's Go client).
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { Empty } from "google-protobuf/google/protobuf/empty_pb";
import { Struct } from "google-protobuf/google/protobuf/struct_pb";
import * as rpc from "@pulumi/pulumi/proto/provider_grpc_pb";
import * as pb from "@pulumi/pulumi/proto/provider_pb";

export const PLUGIN_DIR = join(__dirname, "..");
const RUN_PLUGIN = join(dirname(require.resolve("@pulumi/pulumi/package.json")), "cmd", "run-plugin");

export interface PluginProcess {
  readonly client: rpc.ResourceProviderClient;
  readonly stderr: () => string;
  stop(): Promise<void>;
}

/** Spawns the plugin; resolves once it printed its port. */
export function startPlugin(engineAddress: string, pluginDir = PLUGIN_DIR, timeoutMs = 180_000): Promise<PluginProcess> {
  // A user's project folder: run-plugin reads no tsconfig from it, as from a Python project.
  const cwd = mkdtempSync(join(tmpdir(), "wg-mesh-user-project-"));
  const child: ChildProcess = spawn(process.execPath, [RUN_PLUGIN, pluginDir, engineAddress], { cwd, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stderr!.on("data", (d: Buffer) => {
    err += d.toString();
  });
  const cleanup = () => rmSync(cwd, { recursive: true, force: true });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill();
      cleanup();
      reject(new Error(`plugin printed no port within ${timeoutMs} ms; stderr:\n${err}`));
    }, timeoutMs);
    child.on("exit", (code) => {
      clearTimeout(timer);
      cleanup();
      reject(new Error(`plugin exited with ${code} before printing its port; stdout:\n${out}\nstderr:\n${err}`));
    });
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /^(\d+)\s*$/m.exec(out);
      if (!m) return;
      clearTimeout(timer);
      child.removeAllListeners("exit");
      const client = new rpc.ResourceProviderClient(`127.0.0.1:${m[1]}`, grpc.credentials.createInsecure());
      resolve({
        client,
        stderr: () => err,
        stop: () =>
          new Promise<void>((done) => {
            client.close();
            const finish = () => {
              cleanup();
              done();
            };
            if (child.exitCode !== null || child.signalCode !== null) return finish();
            child.once("exit", finish);
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

/** GetSchema, version 0 (the only one the CLI asks for), parsed. */
export async function getSchema(c: rpc.ResourceProviderClient): Promise<any> {
  const res = await call<pb.GetSchemaRequest, pb.GetSchemaResponse>(c.getSchema.bind(c), new pb.GetSchemaRequest());
  return JSON.parse(res.getSchema());
}

export async function getPluginVersion(c: rpc.ResourceProviderClient): Promise<string> {
  const info = await call<Empty, { getVersion(): string }>(c.getPluginInfo.bind(c), new Empty());
  return info.getVersion();
}

export interface ConstructCall {
  readonly type: string;
  readonly name: string;
  /** Inputs as the engine sends them (already serialized: plain JSON, secrets in their envelope). */
  readonly inputs: Record<string, unknown>;
  /** Package -> provider reference (`<urn>::<id>`), what `opts.providers` becomes. */
  readonly providers?: Record<string, string>;
  readonly dependencies?: string[];
  readonly project: string;
  readonly stack: string;
  readonly monitorEndpoint: string;
  readonly dryRun?: boolean;
}

export interface ConstructResult {
  readonly urn: string;
  /** The outputs as serialized on the wire: secrets in Pulumi's envelope. */
  readonly state: Record<string, any>;
  readonly stateDependencies: Record<string, string[]>;
}

/** Construct, as the engine issues it for a remote component a program registered. */
export async function construct(c: rpc.ResourceProviderClient, r: ConstructCall): Promise<ConstructResult> {
  const req = new pb.ConstructRequest();
  req.setProject(r.project);
  req.setStack(r.stack);
  req.setDryrun(r.dryRun ?? false);
  req.setParallel(16);
  req.setMonitorendpoint(r.monitorEndpoint);
  req.setType(r.type);
  req.setName(r.name);
  req.setInputs(Struct.fromJavaScript(r.inputs as Record<string, never>));
  for (const [pkg, ref] of Object.entries(r.providers ?? {})) req.getProvidersMap().set(pkg, ref);
  req.setDependenciesList(r.dependencies ?? []);
  const res = await call<pb.ConstructRequest, pb.ConstructResponse>(c.construct.bind(c), req);
  const stateDependencies: Record<string, string[]> = {};
  res.getStatedependenciesMap().forEach((deps, key) => {
    stateDependencies[key] = deps.getUrnsList();
  });
  return { urn: res.getUrn(), state: (res.getState()?.toJavaScript() ?? {}) as Record<string, any>, stateDependencies };
}
