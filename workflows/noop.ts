/** Does nothing: the benchmark's floor for one workflow's start-to-complete on this Temporal server. */
export async function noopWorkflow(): Promise<void> {}
