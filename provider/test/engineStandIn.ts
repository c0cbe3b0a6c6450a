// The engine's side of a Construct call: the provider process logs to the Engine service and
// registers the component's children with the ResourceMonitor at the address the request names.
// Here both are served over real gRPC from the test process, the monitor being Pulumi's own
// mock monitor (pulumi.runtime.setMocks, via test/pulumiMocks.ts installMocks), so children
// get the outputs the stack tests' mocks give them and are recorded with their URNs, options
// and dependencies, exactly as in the program's tests.
import * as grpc from "@grpc/grpc-js";
import { Empty } from "google-protobuf/google/protobuf/empty_pb";
import { Struct } from "google-protobuf/google/protobuf/struct_pb";
import * as pulumi from "@pulumi/pulumi";
import * as engineRpc from "@pulumi/pulumi/proto/engine_grpc_pb";
import * as enginePb from "@pulumi/pulumi/proto/engine_pb";
import * as resourceRpc from "@pulumi/pulumi/proto/resource_grpc_pb";
import * as resourcePb from "@pulumi/pulumi/proto/resource_pb";

export interface LogEntry {
  readonly severity: number;
  readonly message: string;
  readonly urn: string;
}

/** A RegisterResource request as the monitor received it, with the URN it answered. */
export interface Registration {
  readonly type: string;
  readonly name: string;
  readonly parent: string;
  readonly provider: string;
  readonly custom: boolean;
  readonly dependencies: string[];
  urn: string;
}

export interface EngineStandIn {
  /** Where the provider reaches the Engine and the ResourceMonitor. */
  readonly address: string;
  readonly logs: LogEntry[];
  /** Every registration, in the order the requests arrived. */
  readonly registrations: Registration[];
  close(): Promise<void>;
}

type Handler = (req: any, cb: (err: unknown, res?: any) => void) => unknown;
type MockMonitor = Record<"registerResource" | "registerResourceOutputs" | "invoke" | "readResource" | "getDeploymentInfo" | "registerPackage", Handler>;

const { specialSigKey: SIG_KEY, specialSecretSig: SECRET_SIG } = pulumi.runtime;

/**
 * What the engine does and the mock monitor does not: outputs a registration lists in
 * additionalSecretOutputs come back (and go into state) as secrets (pkg/resource/deploy/
 * step_executor.go), so a component's output built from them is secret as it is under the CLI.
 */
function markAdditionalSecretOutputs(res: resourcePb.RegisterResourceResponse, names: string[]) {
  const state = (res.getObject()?.toJavaScript() ?? {}) as Record<string, unknown>;
  let changed = false;
  for (const name of names) {
    const v = state[name] as Record<string, unknown> | undefined;
    if (v === undefined || (typeof v === "object" && v !== null && v[SIG_KEY] === SECRET_SIG)) continue;
    state[name] = { [SIG_KEY]: SECRET_SIG, value: v };
    changed = true;
  }
  if (changed) res.setObject(Struct.fromJavaScript(state as Record<string, never>));
}

/**
 * Serves the mock monitor that `pulumi.runtime.setMocks` installed; each request goes to the one
 * installed at that moment, so a test can switch to preview mocks between Construct calls.
 */
export async function startEngine(): Promise<EngineStandIn> {
  const current = () => {
    const m = pulumi.runtime.getMonitor() as unknown as MockMonitor | undefined;
    if (!m) throw new Error("install the Pulumi mocks (test/pulumiMocks.ts installMocks) before calling the engine stand-in");
    return m;
  };
  const monitor = new Proxy({} as MockMonitor, {
    get: (_t, key: keyof MockMonitor) => {
      const m = current();
      return m[key].bind(m);
    },
  });
  const logs: LogEntry[] = [];
  const registrations: Registration[] = [];
  const register: Handler = (req: resourcePb.RegisterResourceRequest, cb) => {
    const r: Registration = {
      type: req.getType(),
      name: req.getName(),
      parent: req.getParent(),
      provider: req.getProvider(),
      custom: req.getCustom(),
      dependencies: req.getDependenciesList(),
      urn: "",
    };
    registrations.push(r);
    return monitor.registerResource(req, (err, res?: resourcePb.RegisterResourceResponse) => {
      if (res) {
        r.urn = res.getUrn();
        markAdditionalSecretOutputs(res, req.getAdditionalsecretoutputsList());
      }
      cb(err, res);
    });
  };
  const unary = (f: Handler) => (call: grpc.ServerUnaryCall<any, any>, cb: grpc.sendUnaryData<any>) => {
    try {
      f(call.request, (err: unknown, res?: any) => cb(err as grpc.ServiceError | null, res));
    } catch (e) {
      cb(e as grpc.ServiceError);
    }
  };
  const server = new grpc.Server();
  server.addService(engineRpc.EngineService, {
    log: (call: grpc.ServerUnaryCall<enginePb.LogRequest, Empty>, cb: grpc.sendUnaryData<Empty>) => {
      logs.push({ severity: call.request.getSeverity(), message: call.request.getMessage(), urn: call.request.getUrn() });
      cb(null, new Empty());
    },
    getRootResource: (_call: unknown, cb: grpc.sendUnaryData<enginePb.GetRootResourceResponse>) => cb(null, new enginePb.GetRootResourceResponse()),
    setRootResource: (_call: unknown, cb: grpc.sendUnaryData<enginePb.SetRootResourceResponse>) => cb(null, new enginePb.SetRootResourceResponse()),
  });
  server.addService(resourceRpc.ResourceMonitorService, {
    registerResource: unary(register),
    invoke: unary((req, cb) => monitor.invoke(req, cb)),
    readResource: unary((req, cb) => monitor.readResource(req, cb)),
    getDeploymentInfo: unary((req, cb) => monitor.getDeploymentInfo(req, cb)),
    registerPackage: unary((req, cb) => monitor.registerPackage(req, cb)),
    // The mock monitor answers these with plain objects; the wire needs the messages.
    registerResourceOutputs: unary((req, cb) => monitor.registerResourceOutputs(req, (err) => cb(err, new Empty()))),
    supportsFeature: (
      call: grpc.ServerUnaryCall<resourcePb.SupportsFeatureRequest, resourcePb.SupportsFeatureResponse>,
      cb: grpc.sendUnaryData<resourcePb.SupportsFeatureResponse>,
    ) => {
      const res = new resourcePb.SupportsFeatureResponse();
      // As the mock monitor: everything but output values.
      res.setHassupport(call.request.getId() !== "outputValues");
      cb(null, res);
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
  );
  return {
    address: `127.0.0.1:${port}`,
    logs,
    registrations,
    close: () => new Promise<void>((done) => server.tryShutdown(() => done())),
  };
}
