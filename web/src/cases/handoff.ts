// What the editor of a new case hands to the editor of the same case once saved (the
// page is re-created for its new address): the save's problems and a run it started.
import type { Schemas } from '@/api/client'

export interface Handoff {
  problems: Schemas['ProblemPublic'][]
  runId: number | null
}

const pending = new Map<number, Handoff>()

export function handOver(caseId: number, handoff: Handoff): void {
  pending.set(caseId, handoff)
}

/** The hand-off left for `caseId`, once. */
export function takeOver(caseId: number): Handoff | null {
  const found = pending.get(caseId) ?? null
  pending.delete(caseId)
  return found
}
