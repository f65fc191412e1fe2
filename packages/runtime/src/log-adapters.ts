import type { Logger } from "./logger.js";

type Level = "error" | "warn" | "info" | "debug";

/** Libraries (Yoga) log as console would; this turns their calls into our JSON lines. */
export function libraryLogger(log: Logger, library: string) {
  const child = log.child({ library });
  const write =
    (level: Level) =>
    (...args: unknown[]): void => {
      const err = args.find((a): a is Error => a instanceof Error);
      const text = args
        .filter((a) => a !== err)
        .map((a) => (typeof a === "string" ? a : JSON.stringify(a)))
        .join(" ");
      if (err) child[level]({ err }, text || err.message);
      else child[level](text);
    };
  return {
    error: write("error"),
    warn: write("warn"),
    info: write("info"),
    verbose: write("debug"),
    debug: write("debug"),
  };
}
