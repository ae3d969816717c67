import { describe, expect, it } from 'vitest'
import { applyStatus, isNewer, putOnTop, type RunRow } from './list'

const run = (id: number, status = 'queued') => ({ id, status, title: `run ${id}`, counts: {}, finished_at: null }) as unknown as RunRow

describe('run history live updates', () => {
  it('patches the row of a run the page holds', () => {
    const rows = [run(3), run(2)]
    const patched = applyStatus(rows, { event: 'status', run_id: 2, status: 'failed', title: 'renamed',
      counts: { failed: 1, total: 1 }, finished_at: '2024-01-01T00:00:00Z' })
    expect(patched).toBe(rows[1])
    expect(rows[1]).toMatchObject({ status: 'failed', title: 'renamed', counts: { failed: 1, total: 1 }, finished_at: '2024-01-01T00:00:00Z' })
    expect(applyStatus(rows, { event: 'status', run_id: 9, status: 'queued', title: '', counts: {}, finished_at: null })).toBeNull()
  })

  it('puts only newer runs on top of the first page, keeping its size', () => {
    const rows = [run(3), run(2), run(1)]
    expect(isNewer(rows, 4, 1)).toBe(true)
    expect(isNewer(rows, 4, 2)).toBe(false)
    expect(isNewer(rows, 0, 1)).toBe(false)
    expect(putOnTop(rows, run(4), 3).map((r) => r.id)).toEqual([4, 3, 2])
    expect(putOnTop(rows, run(3, 'running'), 3).map((r) => r.id)).toEqual([3, 2, 1])
  })
})
