import { ConfigError } from "../config/errors.js";
import { loadConfig } from "../config/load.js";
import type { Config } from "../config/schema.js";

/** The config, or undefined after printing every problem in it (the command then exits 1). */
export async function loadOrReport(file: string): Promise<Config | undefined> {
  try {
    return await loadConfig(file);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    const n = error.problems.length;
    console.error(`${file}: ${n} problem${n === 1 ? "" : "s"}\n${error.message}`);
    return undefined;
  }
}
