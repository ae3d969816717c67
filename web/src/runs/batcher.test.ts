import { describe, expect, it, vi } from 'vitest'
import { createBatcher, nextFrame } from './batcher'

function manual() {
  const waiting: (() => void)[] = []
  return {
    schedule: (run: () => void) => void waiting.push(run),
    frame: () => waiting.splice(0).forEach((run) => run()),
    get pending() {
      return waiting.length
    },
  }
}

describe('createBatcher', () => {
  it('delivers everything pushed before a frame in one call', () => {
    const clock = manual()
    const deliver = vi.fn()
    const batcher = createBatcher<number>(deliver, clock.schedule)
    for (let i = 0; i < 1000; i++) batcher.push(i)
    expect(clock.pending).toBe(1) // one frame asked for, not a thousand
    expect(deliver).not.toHaveBeenCalled()
    clock.frame()
    expect(deliver).toHaveBeenCalledOnce()
    expect(deliver.mock.calls[0][0]).toHaveLength(1000)
    batcher.push(1000)
    clock.frame()
    expect(deliver).toHaveBeenLastCalledWith([1000])
  })

  it('flushes on demand and stays quiet once stopped', () => {
    const clock = manual()
    const deliver = vi.fn()
    const batcher = createBatcher<string>(deliver, clock.schedule)
    batcher.push('a')
    batcher.flush()
    expect(deliver).toHaveBeenCalledWith(['a'])
    clock.frame() // the frame asked for earlier finds nothing
    expect(deliver).toHaveBeenCalledOnce()
    batcher.push('b')
    batcher.stop()
    batcher.push('c')
    clock.frame()
    expect(deliver).toHaveBeenCalledOnce()
  })
})

describe('nextFrame', () => {
  it('runs once, on a frame or after 250 ms without one', () => {
    vi.useFakeTimers()
    const run = vi.fn()
    nextFrame(run)
    vi.advanceTimersByTime(300)
    expect(run).toHaveBeenCalledOnce()
    vi.useRealTimers()
  })
})
