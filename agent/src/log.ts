// Structured JSON logs on stdout (pino), one line per event.
import pino from "pino";

export type Logger = pino.Logger;

export function createLogger(level: string): Logger {
  return pino({ level, base: { app: "node-router" }, timestamp: pino.stdTimeFunctions.isoTime });
}
