import { PermanentFailure, TargetGone } from "../../targets/target.js";
import { hasTryLeft, type TriedJob, triesIncludingThis } from "../worker-settings.js";

/** What one failed try means for its delivery. */
export type Verdict =
  | { retry: true; reason: string }
  /** A dead letter: `gone` when the far side said the endpoint no longer exists (410). */
  | { retry: false; reason: string; gone: boolean };

/**
 * The first step after a failed send: is it worth another try? A target's own error says
 * whether it can be (PermanentFailure or not); the job's tries say whether any are left.
 */
export function judgeFailure(error: unknown, job: TriedJob): Verdict {
  const reason = error instanceof Error ? error.message : String(error);
  if (error instanceof TargetGone) return { retry: false, reason, gone: true };
  if (error instanceof PermanentFailure) return { retry: false, reason, gone: false };
  if (hasTryLeft(job)) return { retry: true, reason };
  const tries = triesIncludingThis(job);
  return { retry: false, reason: `${reason} (gave up after ${tries} ${tries === 1 ? "try" : "tries"})`, gone: false };
}
