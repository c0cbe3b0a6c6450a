// Memory of a process, from Node's own accounting and from the kernel (/proc/<pid>/status):
// RSS split into anonymous memory (heap, malloc) and file-backed pages (the node binary's code,
// shared with every other process that maps the same file).
import { readFileSync } from "node:fs";

export interface MemorySample {
  rssMB: number;
  anonMB: number;
  fileMB: number;
  /** Peak RSS of the process so far (VmHWM): what a memory limit must allow. */
  peakMB: number;
  heapTotalMB?: number;
  heapUsedMB?: number;
  externalMB?: number;
}

const MB = 2 ** 20;

export function procMemory(pid: number | "self" = "self"): MemorySample {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN) / 1024;
  return { rssMB: kb("VmRSS"), anonMB: kb("RssAnon"), fileMB: kb("RssFile") + kb("RssShmem"), peakMB: kb("VmHWM") };
}

export function selfMemory(): MemorySample {
  const m = process.memoryUsage();
  return { ...procMemory(), heapTotalMB: m.heapTotal / MB, heapUsedMB: m.heapUsed / MB, externalMB: m.external / MB };
}

export const fmt = (n: number | undefined, width = 6, digits = 0) => (n === undefined || Number.isNaN(n) ? "-" : n.toFixed(digits)).padStart(width);
