import { patched, workflowInfo } from '@temporalio/workflow';

/**
 * `patched(patchId)` for a run that may have been started for code that has the patch (its input
 * carries the flow's revision, `startedWithIt`). Such a run takes the patched path without
 * recording a marker: a marker is an event plus an upsert of TemporalChangeVersion (a visibility
 * write on the Temporal server) on the path of every run. Replaying, it still asks `patched()`,
 * and ignores the answer, so that a marker a worker of the code before recorded for it (the new
 * API started it while an older worker ran its first task, during a rolling deploy) is matched;
 * without the call the SDK fails the replay on the unmatched marker.
 */
export function patchedOrStartedWith(patchId: string, startedWithIt: boolean): boolean {
  if (!startedWithIt) return patched(patchId);
  if (workflowInfo().unsafe.isReplaying) patched(patchId);
  return true;
}
