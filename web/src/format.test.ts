import { describe, expect, it } from 'vitest'
import { duration, statusType } from '@/format'

describe('duration', () => {
  it('keeps short durations precise and long ones readable', () => {
    expect(duration(0.423)).toBe('0.42 s')
    expect(duration(12.34)).toBe('12.3 s')
    expect(duration(245)).toBe('4 min 05 s')
    expect(duration(7380)).toBe('2 h 03 min')
  })
  it('shows a dash when there is no duration yet', () => {
    expect(duration(null)).toBe('—')
    expect(duration(undefined)).toBe('—')
  })
})

describe('statusType', () => {
  it('colours bad outcomes as danger and good ones as success', () => {
    expect(statusType('failed')).toBe('danger')
    expect(statusType('timed_out')).toBe('danger')
    expect(statusType('passed')).toBe('success')
    expect(statusType('running')).toBe('primary')
    expect(statusType('queued')).toBe('info')
  })
})
