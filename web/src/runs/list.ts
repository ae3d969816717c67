// The run history's live updates: a status change patches its row in place; a run the
// page has not seen, newer than its rows, belongs at the top of the first page.
import type { Schemas } from '@/api/client'
import type { StatusEvent } from '@/api/live'

export type RunRow = Schemas['RunPublic']

/** Patches the row of `event`'s run; answers it, or null when the page does not hold it. */
export function applyStatus(rows: RunRow[], event: StatusEvent): RunRow | null {
  const row = rows.find((r) => r.id === event.run_id)
  if (!row) return null
  row.status = event.status
  row.title = event.title
  row.counts = { ...event.counts }
  if (event.finished_at) row.finished_at = event.finished_at
  return row
}

/** Whether an unseen run should be fetched and put on top: only on the first page,
 * and only when it is newer than every row there. */
export function isNewer(rows: RunRow[], runId: number, page: number): boolean {
  if (page !== 1) return false
  return rows.every((r) => r.id < runId)
}

/** `run` on top, the page kept at `perPage` rows; a run already there is replaced. */
export function putOnTop(rows: RunRow[], run: RunRow, perPage: number): RunRow[] {
  return [run, ...rows.filter((r) => r.id !== run.id)].slice(0, perPage)
}
