import { describe, expect, it } from 'vitest'
import { deliveryType, lastAttempt, millis, pollDelay, POLL_MAX_MS, POLL_MIN_MS, type Delivery } from '@/channels/delivery'

const NOW = Date.parse('2026-03-01T12:00:00Z')

function delivery(fields: Partial<Delivery>): Delivery {
  return {
    id: 1,
    channel_id: 2,
    channel_name: 'hook',
    channel_kind: 'webhook',
    run_id: null,
    event: 'test',
    title: 'testyard: test message',
    status: 'sent',
    attempt_count: 1,
    next_attempt_at: null,
    created_at: '2026-03-01T11:59:00Z',
    finished_at: '2026-03-01T11:59:01Z',
    attempts: [],
    ...fields,
  }
}

const inSeconds = (s: number) => new Date(NOW + s * 1000).toISOString()

describe('pollDelay', () => {
  it('stops when nothing is pending', () => {
    expect(pollDelay([], NOW)).toBeNull()
    expect(pollDelay([delivery({}), delivery({ id: 2, status: 'failed' })], NOW)).toBeNull()
  })

  it('looks again soon at a delivery due now or overdue', () => {
    expect(pollDelay([delivery({ status: 'pending', next_attempt_at: inSeconds(-5) })], NOW)).toBe(POLL_MIN_MS)
    expect(pollDelay([delivery({ status: 'pending', next_attempt_at: null })], NOW)).toBe(POLL_MIN_MS)
  })

  it('waits for the next try, at most the longest pause', () => {
    expect(pollDelay([delivery({ status: 'pending', next_attempt_at: inSeconds(4) })], NOW)).toBe(4000)
    expect(pollDelay([delivery({ status: 'pending', next_attempt_at: inSeconds(600) })], NOW)).toBe(POLL_MAX_MS)
  })

  it('follows the soonest of several pending deliveries', () => {
    const list = [
      delivery({ id: 1, status: 'pending', next_attempt_at: inSeconds(8) }),
      delivery({ id: 2, status: 'pending', next_attempt_at: inSeconds(3) }),
      delivery({ id: 3 }),
    ]
    expect(pollDelay(list, NOW)).toBe(3000)
  })

  it('keeps looking for a tracked delivery not in the list yet', () => {
    expect(pollDelay([], NOW, 9)).toBe(POLL_MIN_MS)
    expect(pollDelay([delivery({ id: 9 })], NOW, 9)).toBeNull()
  })
})

describe('delivery helpers', () => {
  it('name the last attempt', () => {
    const first = { id: 1, at: inSeconds(-60), status_code: 500, error: 'HTTP 500', duration_ms: 12 }
    const second = { id: 2, at: inSeconds(-1), status_code: 200, error: '', duration_ms: 30 }
    expect(lastAttempt(delivery({ attempts: [first, second] }))).toEqual(second)
    expect(lastAttempt(delivery({}))).toBeNull()
  })

  it('format milliseconds and colour statuses', () => {
    expect(millis(35)).toBe('35 ms')
    expect(millis(1234)).toBe('1.2 s')
    expect(deliveryType('sent')).toBe('success')
    expect(deliveryType('failed')).toBe('danger')
    expect(deliveryType('pending')).toBe('info')
  })
})
