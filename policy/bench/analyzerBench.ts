// Evaluation time of the pack over the analyzer protocol for a stack of N resources (default
// 1,000): the pack is started exactly as the Pulumi CLI starts it (test/analyzer-client.ts),
// then each round sends Analyze for every resource and one AnalyzeStack, as `pulumi preview`
// does. Prints one JSON line: per-round milliseconds and their median.
//
//   tsc -p policy/tsconfig.bench.json && node dist/policy/bench/analyzerBench.js [--pack DIR] [--rounds 5] [--size 1000]
//
// --pack points at any checkout's policy/ directory, so two versions of the pack can be timed
// on the same input (the stack is built by THIS checkout's fixtures and scale rules).
import { join, resolve } from "node:path";
import { analyze, analyzeStack, configure, startPack } from "../test/analyzer-client";
import { loadStack } from "../test/fixtures/load";
import { scaleStack } from "../test/scale";

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : fallback;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function main(): Promise<void> {
  const sourceDir = resolve(__dirname, "..", "..", "..", "policy");
  const packDir = resolve(option("pack", sourceDir));
  const rounds = Number(option("rounds", "5"));
  const size = Number(option("size", "1000"));
  const stack = scaleStack(loadStack(join(sourceDir, "test", "fixtures", "stacks", "handwritten.json")), size);
  const pack = await startPack(packDir);
  try {
    await configure(pack.client, {});
    const round = async (): Promise<{ ms: number; diagnostics: number }> => {
      const t0 = performance.now();
      const perResource = await Promise.all(stack.map((r) => analyze(pack.client, r)));
      const whole = await analyzeStack(pack.client, stack);
      return { ms: performance.now() - t0, diagnostics: perResource.flat().length + whole.length };
    };
    await round(); // warm-up: JIT and the pack's lazy module loading
    const times: number[] = [];
    let diagnostics = 0;
    for (let i = 0; i < rounds; i++) {
      const r = await round();
      times.push(r.ms);
      diagnostics = r.diagnostics;
    }
    console.log(
      JSON.stringify({
        pack: packDir,
        resources: stack.length,
        rounds,
        msPerRound: times.map((t) => Math.round(t)),
        medianMs: Math.round(median(times)),
        diagnostics,
      }),
    );
  } finally {
    await pack.stop();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
