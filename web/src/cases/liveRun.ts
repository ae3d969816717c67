// Folds one run's live events into what the case editor's run panel shows: the final
// attempt of each test as it arrives, the run's status, and the counts.
import type { RunEvent } from '@/api/live'

export interface LiveRow {
  nodeid: string
  outcome: string
  duration_s: number
  attempt: number
  final: boolean
  flaky: boolean
  message: string
}

export interface LiveRun {
  status: string
  collected: number | null
  elapsed_s: number | null
  rows: LiveRow[]
  /** From the results so far; replaced by the server's own counts when the run is done. */
  counts: Record<string, number>
  wall_s: number | null
  error: string | null
  timeout_s: number | null
  done: boolean
}

export const OUTCOMES = ['passed', 'failed', 'error', 'skipped', 'xfailed', 'xpassed']

export function emptyRun(): LiveRun {
  return {
    status: 'queued',
    collected: null,
    elapsed_s: null,
    rows: [],
    counts: {},
    wall_s: null,
    error: null,
    timeout_s: null,
    done: false,
  }
}

function countRows(rows: LiveRow[]): Record<string, number> {
  const counts: Record<string, number> = {}
  for (const row of rows) counts[row.outcome] = (counts[row.outcome] ?? 0) + 1
  return counts
}

/** Applies one event to `state` (in place, so a reactive state updates the page). */
export function fold(state: LiveRun, event: RunEvent): void {
  switch (event.event) {
    case 'run':
      if (!state.done) state.status = event.run.status
      state.collected = event.run.collected
      break
    case 'tick':
      if (!state.done) state.status = event.status
      state.elapsed_s = event.elapsed_s
      break
    case 'test': {
      if (!state.done && state.status === 'queued') state.status = 'running'
      const row: LiveRow = {
        nodeid: event.nodeid,
        outcome: event.outcome,
        duration_s: event.duration_s,
        attempt: event.attempt,
        final: event.final,
        flaky: event.flaky,
        message: event.message,
      }
      const at = state.rows.findIndex((r) => r.nodeid === event.nodeid)
      if (at < 0) state.rows.push(row)
      else if (event.attempt >= state.rows[at].attempt) state.rows.splice(at, 1, row)
      if (!state.done) state.counts = countRows(state.rows)
      break
    }
    case 'timeout':
      state.timeout_s = event.timeout_s
      break
    case 'done':
      state.done = true
      state.status = event.status
      state.counts = { ...event.counts }
      state.wall_s = event.wall_s
      state.error = event.error
      break
    case 'log':
      break
  }
}

/** A run's state after `events`, for tests and for replaying a finished run. */
export function foldAll(events: RunEvent[]): LiveRun {
  const state = emptyRun()
  for (const event of events) fold(state, event)
  return state
}

const NOT_OUTCOMES = new Set(['total', 'flaky'])

/** Outcome counts in a stable order, known outcomes first, zeros and the summary
 * entries (total, flaky) left out. */
export function orderedCounts(counts: Record<string, number>): [string, number][] {
  const known = OUTCOMES.filter((o) => counts[o])
  const other = Object.keys(counts).filter((o) => !OUTCOMES.includes(o) && !NOT_OUTCOMES.has(o) && counts[o]).sort()
  return [...known, ...other].map((o) => [o, counts[o]])
}

/** The part of a node id after the file: `test_x[1]` of `tests/test_a.py::test_x[1]`. */
export function shortNodeid(nodeid: string): string {
  const at = nodeid.indexOf('::')
  return at < 0 ? nodeid : nodeid.slice(at + 2)
}
