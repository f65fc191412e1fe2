import path from "node:path";
import { fileURLToPath } from "node:url";

/** The checkout's root, and the chart's files the local mesh shares with the cluster (one source). */
export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
export const CHART_FILES = path.join(REPO, "charts", "lsp", "files");
