import { describe, expect, it } from 'vitest'
import type { RunEvent, RunInfo, TestEvent } from '@/api/live'
import { emptyRun, fold, foldAll, orderedCounts, shortNodeid } from './liveRun'

function test(nodeid: string, outcome: string, extra: Partial<TestEvent> = {}): TestEvent {
  return {
    event: 'test', seq: 0, nodeid, case_id: 1, outcome, duration_s: 0.5, attempt: 1,
    worker: 'gw0', final: true, flaky: false, message: '', ...extra,
  }
}

const info = { id: 7, status: 'running', collected: 3 } as RunInfo

describe('fold', () => {
  it('adds each test as it arrives and counts the outcomes so far', () => {
    const state = foldAll([
      { event: 'run', seq: 1, run: info },
      test('tests/test_a.py::test_ok', 'passed'),
      test('tests/test_a.py::test_bad', 'failed', { message: 'assert 1 == 2' }),
    ])
    expect(state.status).toBe('running')
    expect(state.collected).toBe(3)
    expect(state.rows.map((r) => [r.nodeid, r.outcome])).toEqual([
      ['tests/test_a.py::test_ok', 'passed'],
      ['tests/test_a.py::test_bad', 'failed'],
    ])
    expect(state.counts).toEqual({ passed: 1, failed: 1 })
    expect(state.done).toBe(false)
  })

  it('keeps the latest attempt of a retried test in its place', () => {
    const state = foldAll([
      test('t.py::a', 'failed', { attempt: 1, final: false }),
      test('t.py::b', 'passed'),
      test('t.py::a', 'passed', { attempt: 2, flaky: true }),
      test('t.py::a', 'failed', { attempt: 1, final: false }), // a late duplicate
    ])
    expect(state.rows.map((r) => [r.nodeid, r.outcome, r.attempt])).toEqual([
      ['t.py::a', 'passed', 2],
      ['t.py::b', 'passed', 1],
    ])
    expect(state.rows[0].flaky).toBe(true)
    expect(state.counts).toEqual({ passed: 2 })
  })

  it('takes the final status and counts from done', () => {
    const state = emptyRun()
    const events: RunEvent[] = [
      { event: 'tick', seq: 0, status: 'queued', elapsed_s: 1 },
      test('t.py::a', 'failed'),
      { event: 'timeout', seq: 3, timeout_s: 60 },
      { event: 'done', seq: 4, status: 'timed_out', counts: { failed: 1, error: 1 }, wall_s: 61.5, error: 'too slow' },
      { event: 'tick', seq: 0, status: 'running', elapsed_s: 62 },
    ]
    for (const event of events) fold(state, event)
    expect(state.status).toBe('timed_out')
    expect(state.done).toBe(true)
    expect(state.counts).toEqual({ failed: 1, error: 1 })
    expect(state.wall_s).toBe(61.5)
    expect(state.error).toBe('too slow')
    expect(state.timeout_s).toBe(60)
  })

  it('moves a queued run to running when the first result arrives', () => {
    expect(foldAll([test('t.py::a', 'passed')]).status).toBe('running')
  })
})

describe('orderedCounts', () => {
  it('lists known outcomes first and leaves zeros out', () => {
    expect(orderedCounts({ weird: 1, skipped: 2, passed: 3, failed: 0, total: 6, flaky: 1 })).toEqual([
      ['passed', 3],
      ['skipped', 2],
      ['weird', 1],
    ])
  })
})

describe('shortNodeid', () => {
  it('drops the file part of a node id', () => {
    expect(shortNodeid('tests/test_a.py::TestX::test_y[1-2]')).toBe('TestX::test_y[1-2]')
    expect(shortNodeid('tests/test_a.py')).toBe('tests/test_a.py')
  })
})
