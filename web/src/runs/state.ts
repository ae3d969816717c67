// The state of one run's page, folded from the REST answers and the live events: the
// final attempt of each test (per xdist worker), counts kept as rows change, the
// status, the clock, the console lines and the notices (waiting for a worker, a shard
// run again). Plain objects, mutated in place and cheap to
// update: the page copies what it shows once per animation frame.
import type { Schemas } from '@/api/client'
import type { RunEvent } from '@/api/live'

export type Result = Schemas['ResultPublic']
export type RunDetail = Schemas['RunDetail']

export const OUTCOMES = ['passed', 'failed', 'error', 'skipped', 'xfailed', 'xpassed', 'pending'] as const
export const FINISHED = new Set(['passed', 'failed', 'error', 'cancelled', 'timed_out', 'interrupted'])
const STORED = new Set(['run', 'test', 'done', 'timeout', 'notice'])
/** Console lines kept in the page; the whole log is the `log` artifact. */
export const MAX_LOG_LINES = 5000

/** One row of the results table: the latest attempt of one node id on one worker. */
export interface ResultRow {
  key: string
  nodeid: string
  outcome: string
  duration_s: number
  attempt: number
  worker: string
  final: boolean
  flaky: boolean
  message: string
}

/** A notice of the run, with when this page received it (ms, the caller's clock). */
export interface Notice {
  seq: number
  level: 'info' | 'warning'
  message: string
  at: number
}

/** What the run page's warning banner says, or null while all is well. */
export interface Banner {
  level: 'info' | 'warning'
  message: string
}

export interface RunState {
  status: string
  collected: number | null
  startedAt: string | null
  createdAt: string | null
  wall_s: number | null
  error: string | null
  timeout_s: number | null
  /** The seq of the latest stored event folded in: older ones are duplicates. */
  lastSeq: number
  rows: Map<string, ResultRow>
  /** Final results per outcome, plus `total` and `flaky`, from the rows so far. */
  counts: Record<string, number>
  /** The server's counts of a finished run (they win over the rows'). */
  finalCounts: Record<string, number> | null
  /** Full results (traceback, output) as the REST pages gave them, by row key. */
  details: Map<string, Result>
  log: string[]
  logDropped: number
  /** Elapsed seconds the server last said, and when (ms, the caller's clock). */
  clock: { elapsed_s: number; at: number } | null
  /** Why the run makes no progress, as the server last answered (GET /runs/{id}). */
  waiting: string | null
  notices: Notice[]
  /** The seq of the latest test event: a warning notice after it is still current. */
  lastTestSeq: number
}

export function rowKey(nodeid: string, worker: string): string {
  return `${nodeid}\u0000${worker}`
}

export function createRunState(run?: Partial<RunDetail>): RunState {
  return {
    status: run?.status ?? 'queued',
    collected: run?.collected ?? null,
    startedAt: run?.started_at ?? null,
    createdAt: run?.created_at ?? null,
    wall_s: run?.wall_s ?? null,
    error: run?.error ?? null,
    timeout_s: null,
    lastSeq: run?.last_seq ?? 0,
    rows: new Map(),
    counts: { total: 0, flaky: 0 },
    finalCounts: run?.status && FINISHED.has(run.status) ? { ...run.counts } : null,
    details: new Map(),
    log: [],
    logDropped: 0,
    clock: null,
    waiting: run?.waiting ?? null,
    notices: [],
    lastTestSeq: 0,
  }
}

/** Takes the fields of a fresh GET of the run that the live events do not carry. */
export function applyDetail(state: RunState, run: Partial<RunDetail>): void {
  state.waiting = isFinished(state) ? null : (run.waiting ?? null)
  // Notices given before the page followed the run come with the run itself.
  const known = new Set(state.notices.map((n) => n.seq))
  const earlier = (run.notices ?? [])
    .filter((n) => typeof n.seq === 'number' && !known.has(n.seq as number))
    .map((n) => ({
      seq: n.seq as number,
      level: (n.level === 'warning' ? 'warning' : 'info') as Notice['level'],
      message: String(n.message ?? ''),
      at: 0,
    }))
  if (earlier.length) state.notices = [...state.notices, ...earlier].sort((a, b) => a.seq - b.seq)
}

/** The banner of a running run: why it waits (the server's answer), else its latest
 * notice when that is a warning and no test has reported since. */
export function banner(state: RunState): Banner | null {
  if (isFinished(state)) return null
  if (state.waiting) return { level: 'warning', message: state.waiting }
  const latest = state.notices[state.notices.length - 1]
  if (latest?.level === 'warning' && latest.seq > state.lastTestSeq) {
    return { level: 'warning', message: latest.message }
  }
  return null
}

export function isFinished(state: RunState): boolean {
  return FINISHED.has(state.status)
}

/** Whether `incoming` replaces `current`: a final attempt is never replaced by a
 * non-final one, and a later attempt replaces an earlier one. */
export function wins(current: ResultRow | undefined, incoming: ResultRow): boolean {
  if (!current) return true
  if (current.final && !incoming.final) return false
  if (incoming.final && !current.final) return true
  return incoming.attempt >= current.attempt
}

function bump(counts: Record<string, number>, row: ResultRow, by: 1 | -1): void {
  if (!row.final) return
  counts[row.outcome] = (counts[row.outcome] ?? 0) + by
  counts.total = (counts.total ?? 0) + by
  if (row.flaky) counts.flaky = (counts.flaky ?? 0) + by
}

/** Puts `row` in, keeping counts right; true when it changed anything. */
export function upsert(state: RunState, row: ResultRow): boolean {
  const current = state.rows.get(row.key)
  if (!wins(current, row)) return false
  if (current) bump(state.counts, current, -1)
  state.rows.set(row.key, row)
  bump(state.counts, row, 1)
  return true
}

function toRow(source: Omit<ResultRow, 'key'>): ResultRow {
  const { nodeid, outcome, duration_s, attempt, worker, final, flaky, message } = source
  return { key: rowKey(nodeid, worker), nodeid, outcome, duration_s, attempt, worker, final, flaky, message }
}

/** Folds a page of REST results (full fields: kept for the detail drawer). */
export function applyResults(state: RunState, results: Result[]): boolean {
  let changed = false
  for (const result of results) {
    const row = toRow(result)
    if (upsert(state, row)) changed = true
    const kept = state.details.get(row.key)
    if (!kept || wins(toRow(kept), row)) state.details.set(row.key, result)
  }
  return changed
}

/** Folds one live event; false when it was a duplicate or changed nothing. */
export function applyEvent(state: RunState, event: RunEvent, now = Date.now()): boolean {
  if (STORED.has(event.event)) {
    if (event.seq <= state.lastSeq) return false
    state.lastSeq = event.seq
  }
  switch (event.event) {
    case 'run':
      if (!isFinished(state)) {
        if (event.run.status !== state.status) state.clock = null
        state.status = event.run.status
      }
      state.collected = event.run.collected ?? state.collected
      state.startedAt = event.run.started_at ?? state.startedAt
      return true
    case 'test': {
      // A test reporting means a worker runs the run: what the banner said is over.
      const warned = banner(state) !== null
      state.lastTestSeq = event.seq
      state.waiting = null
      return upsert(state, toRow(event)) || warned
    }
    case 'tick':
      if (isFinished(state)) return false
      state.status = event.status
      state.clock = { elapsed_s: event.elapsed_s, at: now }
      return true
    case 'log':
      state.log.push(...event.lines)
      if (state.log.length > MAX_LOG_LINES) {
        const extra = state.log.length - MAX_LOG_LINES
        state.log.splice(0, extra)
        state.logDropped += extra
      }
      return event.lines.length > 0
    case 'done':
      state.status = event.status
      state.finalCounts = { ...event.counts }
      state.wall_s = event.wall_s
      state.error = event.error
      state.clock = null
      state.waiting = null
      return true
    case 'timeout':
      state.timeout_s = event.timeout_s
      return true
    case 'notice':
      state.notices.push({ seq: event.seq, level: event.level, message: event.message, at: now })
      return true
  }
  return false
}

/** Seconds the run has taken: its wall time once finished, else counted on from the
 * server's last tick (or from its start on this clock until a tick comes). */
export function elapsed(state: RunState, now = Date.now()): number | null {
  if (isFinished(state)) return state.wall_s
  if (state.clock) return state.clock.elapsed_s + Math.max(0, now - state.clock.at) / 1000
  const since = state.status === 'queued' ? state.createdAt : (state.startedAt ?? state.createdAt)
  return since ? Math.max(0, (now - Date.parse(since)) / 1000) : null
}

export function countsOf(state: RunState): Record<string, number> {
  return state.finalCounts ?? state.counts
}

/** Results so far over collected tests, 0–100; null while the count is unknown. */
export function progress(state: RunState): number | null {
  const done = countsOf(state).total ?? 0
  if (state.collected) return Math.min(100, Math.round((100 * done) / state.collected))
  return isFinished(state) ? 100 : null
}

/** The rows in the order they first arrived. */
export function rowsOf(state: RunState): ResultRow[] {
  return Array.from(state.rows.values())
}
