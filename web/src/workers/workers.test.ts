import { describe, expect, it } from 'vitest'
import { ago, alertOf, ordered } from './workers'

const NOW = Date.parse('2026-01-02T10:00:00Z')

describe('the Workers page', () => {
  it('says how long ago a heartbeat was, in either language', () => {
    expect(ago('2026-01-02T09:59:55Z', NOW)).toBe('5 seconds ago')
    expect(ago('2026-01-02T10:00:00Z', NOW)).toBe('now')
    expect(ago('2026-01-02T09:57:00Z', NOW)).toBe('3 minutes ago')
    expect(ago('2026-01-02T07:00:00Z', NOW)).toBe('3 hours ago')
    expect(ago('2025-12-31T10:00:00Z', NOW)).toBe('2 days ago')
    expect(ago('2026-01-02T09:57:00Z', NOW, 'zh')).toBe('3分钟前')
    expect(ago(null, NOW)).toBe('—')
  })

  it('warns when runs execute on this server or no worker lives', () => {
    expect(alertOf(null)).toBeNull()
    expect(alertOf({ executor: 'local', live: 0 })).toBe('local')
    expect(alertOf({ executor: 'celery', live: 0 })).toBe('none-live')
    expect(alertOf({ executor: 'celery', live: 2 })).toBeNull()
  })

  it('lists the live workers first, then by name', () => {
    const workers = [
      { name: 'b', live: false },
      { name: 'c', live: true },
      { name: 'a', live: true },
    ]
    expect(ordered(workers).map((w) => w.name)).toEqual(['a', 'c', 'b'])
    expect(workers[0].name).toBe('b') // the input stays as it was
  })
})
