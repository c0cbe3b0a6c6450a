// Child process entry of the API stand-in, started inside the control-plane node's namespace:
//   node apiserverMain.js --listen 198.51.100.10:6443 --control /path/api.sock --state state.json
// The state file (objects and a starting resourceVersion) is read before listening, so a
// restarted stand-in never serves an empty cluster.
import { readFileSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { parseArgs } from "node:util";
import { ApiStore } from "./apistore";
import { controlHandler, kubeHandler, type OpenWatches } from "./apiserver";
import type { Kind, KubeObject } from "./objects";

const { values } = parseArgs({ options: { listen: { type: "string" }, control: { type: "string" }, state: { type: "string" } } });
if (!values.listen || !values.control || !values.state) {
  process.stderr.write("usage: apiserverMain --listen host:port --control socket --state file\n");
  process.exit(2);
}
const state = JSON.parse(readFileSync(values.state, "utf8")) as { resourceVersion: number; objects: { kind: Kind; object: KubeObject }[] };
const store = new ApiStore(state.resourceVersion, state.objects);
const [host, port] = [values.listen.replace(/:\d+$/, ""), Number(/:(\d+)$/.exec(values.listen)?.[1])];
const control = values.control;
rmSync(control, { force: true });
// The watches the control API can end are this stand-in's own.
const watches: OpenWatches = new Set();
const api = createServer(kubeHandler(store, { watches }));
const ctl = createServer(controlHandler(store, watches));
api.listen(port, host, () => {
  ctl.listen(control, () => process.stdout.write(`listening ${values.listen} control ${control}\n`));
});
process.on("SIGTERM", () => process.exit(0));
