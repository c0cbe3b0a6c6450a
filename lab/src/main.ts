// `npm run lab`: builds the lab, prints the leak matrix before and after the agents start,
// and removes everything on exit (also on Ctrl-C / SIGTERM).
//   --nodes N (default 3)  --mark 0xe00|0x1e00  --no-table (no node table, no boot guard)  --json
//   --cleanup (remove leftovers of dead runs)
import { parseArgs } from "node:util";
import { requireTools } from "./preflight";
import { Lab } from "./lab";
import { formatMatrix, runMatrix } from "./matrix";
import { cleanupLeftovers } from "./netns";

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      nodes: { type: "string", default: "3" },
      mark: { type: "string", default: "0xe00" },
      json: { type: "boolean", default: false },
      "no-table": { type: "boolean", default: false },
      cleanup: { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    process.stdout.write("usage: npm run lab -- [--nodes N] [--mark 0xe00|0x1e00] [--no-table] [--json] [--cleanup]\n");
    return 0;
  }
  requireTools();
  if (values.cleanup) {
    const removed = cleanupLeftovers();
    process.stdout.write(`removed ${removed.length} leftover namespaces${removed.length ? ": " + removed.join(" ") : ""}\n`);
    return 0;
  }
  const say = (s: string) => (values.json ? process.stderr : process.stdout).write(s + "\n");
  const lab = await Lab.create({ nodes: Number(values.nodes), wgMark: Number(values.mark), nodeTable: !values["no-table"], log: say });
  let cleaning: Promise<void> | undefined;
  const cleanup = () => (cleaning ??= lab.destroy());
  for (const sig of ["SIGINT", "SIGTERM"] as const) {
    process.once(sig, () => {
      say(`${sig}: cleaning up`);
      void cleanup().then(() => process.exit(130));
    });
  }
  try {
    const before = await runMatrix(lab);
    if (!values.json) say(formatMatrix(values["no-table"] ? "before the agents" : "before the agents (boot guard only)", before));
    say("starting the node-router agents ...");
    const started = Date.now();
    await lab.startAgents();
    say(`agents ready in ${Date.now() - started} ms`);
    const after = await runMatrix(lab);
    if (values.json) {
      process.stdout.write(
        JSON.stringify(
          {
            id: lab.plan.id,
            wgMark: lab.plan.wgMark,
            nodes: lab.nodes.map((n) => ({ name: n.name, ip: n.underlayIp, podCidr: n.podCidr, controlPlane: n.controlPlane })),
            before,
            after,
          },
          null,
          2,
        ) + "\n",
      );
    } else {
      say(formatMatrix("after the agents", after));
    }
    return after.leakedPackets === 0 && after.failedFlows === 0 ? 0 : 1;
  } finally {
    await cleanup();
  }
}

main().then(
  (code) => process.exit(code),
  (e: Error) => {
    process.stderr.write(`lab: ${process.env.NRLAB_DEBUG ? e.stack : e.message}\n`);
    process.exit(1);
  },
);
