import { readFile, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";

/** Another process on this machine holds the spool directory. */
export class SpoolInUse extends Error {
  override name = "SpoolInUse";
}

/**
 * One process per spool directory: two writers would interleave their records and two
 * drainers would add each webhook twice. The lock is a file holding the owner's pid; a lock
 * whose process is gone (killed, crashed) is taken over.
 */
export class SpoolDirectoryLock {
  private constructor(private readonly path: string) {}

  static async take(dir: string): Promise<SpoolDirectoryLock> {
    const path = join(dir, "lock");
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        await writeFile(path, String(process.pid), { flag: "wx" });
        return new SpoolDirectoryLock(path);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      }
      const owner = Number((await readFile(path, "utf8").catch(() => "")).trim());
      if (owner > 0 && owner !== process.pid && isAlive(owner)) {
        throw new SpoolInUse(
          `spool.dir ${dir} is in use by process ${owner}: give every ingest process a spool.dir of its own`,
        );
      }
      // Left by a process that is gone: take it over.
      await unlink(path).catch(() => undefined);
    }
    throw new SpoolInUse(`could not take the lock file ${path}`);
  }

  async release(): Promise<void> {
    await unlink(this.path).catch(() => undefined);
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, under another user.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
