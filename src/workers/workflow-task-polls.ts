/**
 * How many workflow-task polls the orchestrator keeps open. Each poll holds one of its workflow-task slots while it
 * waits, and Core hands a start's first task (an eager start) only to a free slot. Where a bridge in the same
 * process starts workflows eagerly (`up`), the polls take a quarter of the slots (2 to 10, the SDK's own cap) and
 * leave the rest to those starts; elsewhere the SDK's default, as many polls as slots up to 10.
 */
export function workflowTaskPolls(slots: number, eagerStartsFromLocalBridge: boolean): number {
  return eagerStartsFromLocalBridge ? Math.min(10, Math.max(2, Math.floor(slots / 4))) : Math.min(10, slots);
}
