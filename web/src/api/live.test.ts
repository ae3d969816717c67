import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { followRun, type RunEvent } from '@/api/live'
import { session } from '@/session'

// A stand-in for the browser's WebSocket that the test drives by hand.
class FakeSocket {
  static all: FakeSocket[] = []
  sent: string[] = []
  onopen: (() => void) | null = null
  onmessage: ((m: { data: string }) => void) | null = null
  onclose: ((e: { code: number }) => void) | null = null
  constructor(readonly url: string) {
    FakeSocket.all.push(this)
  }
  send(data: string) {
    this.sent.push(data)
  }
  close() {}
  emit(event: object) {
    this.onmessage?.({ data: JSON.stringify(event) })
  }
}

beforeEach(() => {
  FakeSocket.all = []
  vi.stubGlobal('WebSocket', FakeSocket)
  vi.useFakeTimers()
  session.token = 'tok'
})
afterEach(() => {
  vi.useRealTimers()
  vi.unstubAllGlobals()
})

const test = (seq: number, nodeid: string) => ({ event: 'test', seq, nodeid, outcome: 'passed' })

describe('followRun', () => {
  it('sends the token first and resumes after the last stored seq, without duplicates', () => {
    const seen: RunEvent[] = []
    followRun(7, (e) => seen.push(e))
    const first = FakeSocket.all[0]
    first.onopen?.()
    expect(first.url).toMatch(/\/ws\/runs\/7\?after=0$/)
    expect(JSON.parse(first.sent[0])).toEqual({ token: 'tok' })
    first.emit(test(1, 'a'))
    first.emit({ event: 'tick', seq: 1, status: 'running', elapsed_s: 1 })
    first.emit(test(2, 'b'))
    first.onclose?.({ code: 1006 })

    vi.advanceTimersByTime(600)
    const second = FakeSocket.all[1]
    expect(second.url).toMatch(/after=2$/)
    second.emit(test(2, 'b')) // replayed by the server: dropped
    second.emit(test(3, 'c'))
    second.emit({ event: 'done', seq: 4, status: 'passed', counts: {}, wall_s: 1, error: null })

    expect(seen.map((e) => e.event + ('nodeid' in e ? e.nodeid : ''))).toEqual(['testa', 'tick', 'testb', 'testc', 'done'])
  })

  it('does not reconnect after done or after the server refused the token', () => {
    followRun(1, () => {})
    FakeSocket.all[0].onclose?.({ code: 1008 })
    vi.advanceTimersByTime(10_000)
    expect(FakeSocket.all).toHaveLength(1)
  })
})
