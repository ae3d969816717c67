import { describe, expect, it } from 'vitest'
import type { RunEvent, TestEvent } from '@/api/live'
import {
  applyDetail,
  applyEvent,
  banner,
  applyResults,
  countsOf,
  createRunState,
  elapsed,
  MAX_LOG_LINES,
  progress,
  rowKey,
  rowsOf,
  type Result,
} from './state'

let seq = 10
function test(nodeid: string, outcome: string, extra: Partial<TestEvent> = {}): TestEvent {
  return {
    event: 'test', seq: ++seq, nodeid, case_id: 1, outcome, duration_s: 0.1, attempt: 1,
    worker: 'main', final: true, flaky: false, message: '', ...extra,
  }
}

function result(nodeid: string, outcome: string, extra: Partial<Result> = {}): Result {
  return {
    id: 1, nodeid, case_id: 1, outcome, worker: 'main', attempt: 1, final: true, flaky: false,
    duration_s: 0.2, started_at: null, finished_at: null, message: 'm', longrepr: 'trace',
    stdout: 'out', stderr: '', log: '', ...extra,
  }
}

describe('the run page state', () => {
  it('counts final results per outcome as they arrive', () => {
    const state = createRunState({ status: 'running', last_seq: 10, collected: 4 })
    applyEvent(state, test('t::a', 'passed'))
    applyEvent(state, test('t::b', 'failed'))
    applyEvent(state, test('t::c', 'passed'))
    expect(state.counts).toEqual({ passed: 2, failed: 1, total: 3, flaky: 0 })
    expect(progress(state)).toBe(75)
    expect(rowsOf(state).map((r) => r.nodeid)).toEqual(['t::a', 't::b', 't::c'])
  })

  it('keeps the final attempt of a retried test, whatever order they come in', () => {
    const state = createRunState({ status: 'running' })
    applyEvent(state, test('t::a', 'failed', { attempt: 1, final: false }))
    expect(state.counts.total).toBe(0) // a retried attempt does not count
    applyEvent(state, test('t::a', 'passed', { attempt: 2, final: true, flaky: true }))
    expect(state.counts).toEqual({ passed: 1, total: 1, flaky: 1 })
    // A late non-final attempt never replaces the final one.
    expect(applyEvent(state, test('t::a', 'failed', { attempt: 1, final: false }))).toBe(false)
    expect(state.rows.get(rowKey('t::a', 'main'))?.outcome).toBe('passed')
    expect(state.counts).toEqual({ passed: 1, total: 1, flaky: 1 })
  })

  it('moves a test from one outcome to another when a later attempt replaces it', () => {
    const state = createRunState()
    applyResults(state, [result('t::a', 'failed', { final: false, attempt: 1 })])
    applyEvent(state, test('t::a', 'failed', { attempt: 2, final: true }))
    expect(state.counts).toEqual({ failed: 1, total: 1, flaky: 0 })
  })

  it('keeps one row per worker for --dist each', () => {
    const state = createRunState()
    applyEvent(state, test('t::a', 'passed', { worker: 'gw0' }))
    applyEvent(state, test('t::a', 'failed', { worker: 'gw1' }))
    expect(state.rows.size).toBe(2)
    expect(state.counts.total).toBe(2)
  })

  it('ignores stored events it already folded, by seq', () => {
    const state = createRunState({ last_seq: 5 })
    const old = { ...test('t::a', 'passed'), seq: 5 }
    expect(applyEvent(state, old)).toBe(false)
    expect(state.rows.size).toBe(0)
    const fresh = test('t::b', 'passed')
    expect(applyEvent(state, fresh)).toBe(true)
    expect(applyEvent(state, fresh)).toBe(false)
    expect(state.counts.total).toBe(1)
    // tick and log are live only: never dropped for their seq.
    expect(applyEvent(state, { event: 'log', seq: 1, lines: ['x'] })).toBe(true)
  })

  it('merges REST pages and live events of the same test once', () => {
    const state = createRunState({ status: 'running', last_seq: 3 })
    applyResults(state, [result('t::a', 'failed')])
    applyEvent(state, test('t::a', 'failed'))
    expect(state.counts).toEqual({ failed: 1, total: 1, flaky: 0 })
    expect(state.details.get(rowKey('t::a', 'main'))?.longrepr).toBe('trace')
  })

  it('follows the status, the clock and the end', () => {
    const state = createRunState({ status: 'queued', created_at: '2024-01-01T00:00:00Z' })
    applyEvent(state, { event: 'tick', seq: 0, status: 'queued', elapsed_s: 3 }, 1000)
    expect(elapsed(state, 3000)).toBe(5)
    const run = { id: 1, project_id: 1, plan_id: null, title: 't', description: '', source: 'api',
      triggered_by: 'admin', environment: null, status: 'running', collected: 8,
      created_at: '2024-01-01T00:00:00Z', started_at: '2024-01-01T00:00:10Z' }
    applyEvent(state, { event: 'run', seq: 1, run })
    expect(state.status).toBe('running')
    expect(state.collected).toBe(8)
    expect(elapsed(state, Date.parse('2024-01-01T00:00:12Z'))).toBe(2)
    const done: RunEvent = { event: 'done', seq: 2, status: 'failed', counts: { failed: 1, total: 8 }, wall_s: 4.5, error: null }
    applyEvent(state, done)
    expect(state.status).toBe('failed')
    expect(elapsed(state)).toBe(4.5)
    expect(countsOf(state)).toEqual({ failed: 1, total: 8 })
    expect(progress(state)).toBe(100)
    // A tick after the end does not bring the run back.
    expect(applyEvent(state, { event: 'tick', seq: 2, status: 'running', elapsed_s: 9 })).toBe(false)
    expect(state.status).toBe('failed')
  })

  it('records a timeout and keeps only the latest console lines', () => {
    const state = createRunState()
    applyEvent(state, { event: 'timeout', seq: 1, timeout_s: 60 })
    expect(state.timeout_s).toBe(60)
    const lines = Array.from({ length: MAX_LOG_LINES + 10 }, (_, i) => `line ${i}`)
    applyEvent(state, { event: 'log', seq: 1, lines })
    expect(state.log).toHaveLength(MAX_LOG_LINES)
    expect(state.log[0]).toBe('line 10')
    expect(state.logDropped).toBe(10)
  })

  it('starts a finished run with its own counts', () => {
    const state = createRunState({ status: 'passed', counts: { passed: 2, total: 2 }, collected: 2, wall_s: 1 })
    expect(countsOf(state)).toEqual({ passed: 2, total: 2 })
    expect(progress(state)).toBe(100)
  })
})

describe('the notices of a run on workers', () => {
  const notice = (n: number, level: 'info' | 'warning', message: string): RunEvent => ({
    event: 'notice', seq: n, level, message,
  })

  it('keeps every notice with the time it arrived, once', () => {
    const state = createRunState({ status: 'running', last_seq: 3 })
    expect(applyEvent(state, notice(4, 'warning', 'no live testyard worker'), 1000)).toBe(true)
    expect(applyEvent(state, notice(4, 'warning', 'no live testyard worker'), 2000)).toBe(false)
    applyEvent(state, notice(5, 'info', 'shard 1 runs again'), 3000)
    expect(state.notices).toEqual([
      { seq: 4, level: 'warning', message: 'no live testyard worker', at: 1000 },
      { seq: 5, level: 'info', message: 'shard 1 runs again', at: 3000 },
    ])
  })

  it("shows the server's waiting reason until a test reports or the run ends", () => {
    const state = createRunState({ status: 'running', last_seq: 0, waiting: 'no live testyard worker' })
    expect(banner(state)).toEqual({ level: 'warning', message: 'no live testyard worker' })
    expect(applyEvent(state, test('t::a', 'passed', { seq: 1 }))).toBe(true)
    expect(banner(state)).toBeNull()
    applyDetail(state, { waiting: 'no live testyard worker' })
    expect(banner(state)?.message).toBe('no live testyard worker')
    applyDetail(state, { waiting: null })
    expect(banner(state)).toBeNull()
  })

  it("adds the notices the run answers that the socket has not brought, in seq order", () => {
    const state = createRunState({ status: 'running', last_seq: 0 })
    applyEvent(state, notice(7, 'info', 'live one'))
    applyDetail(state, {
      notices: [
        { seq: 3, level: 'warning', message: 'worker alpha stopped answering', event: 'notice' },
        { seq: 7, level: 'info', message: 'live one', event: 'notice' },
      ],
    })
    expect(state.notices.map((n) => [n.seq, n.message])).toEqual([
      [3, 'worker alpha stopped answering'],
      [7, 'live one'],
    ])
  })

  it('shows the latest warning notice until a test reports after it', () => {
    const state = createRunState({ status: 'running', last_seq: 0 })
    applyEvent(state, test('t::a', 'passed', { seq: 1 }))
    applyEvent(state, notice(2, 'warning', 'worker alpha stopped answering during shard 0'))
    expect(banner(state)).toEqual({ level: 'warning', message: 'worker alpha stopped answering during shard 0' })
    applyEvent(state, notice(3, 'info', 'all well again'))
    expect(banner(state)).toBeNull() // the latest notice is no warning
    applyEvent(state, notice(4, 'warning', 'shard 0 runs again on beta'))
    expect(banner(state)?.message).toBe('shard 0 runs again on beta')
    // A test event that changes no row still clears the banner (and says so).
    expect(applyEvent(state, test('t::a', 'passed', { seq: 5 }))).toBe(true)
    expect(banner(state)).toBeNull()
  })

  it('shows no banner once the run has ended', () => {
    const state = createRunState({ status: 'running', last_seq: 0, waiting: 'no live testyard worker' })
    applyEvent(state, notice(1, 'warning', 'no live testyard worker'))
    applyEvent(state, { event: 'done', seq: 2, status: 'cancelled', counts: {}, wall_s: 1, error: null })
    expect(banner(state)).toBeNull()
    applyDetail(state, { waiting: 'no live testyard worker' })
    expect(banner(state)).toBeNull()
  })
})
