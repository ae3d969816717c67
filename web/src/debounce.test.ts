import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { debounce } from './debounce'

describe('debounce', () => {
  beforeEach(() => vi.useFakeTimers())
  afterEach(() => vi.useRealTimers())

  it('calls once with the last arguments after a pause', () => {
    const fn = vi.fn()
    const call = debounce(fn, 300)
    call('l')
    call('lo')
    vi.advanceTimersByTime(299)
    call('log')
    vi.advanceTimersByTime(299)
    expect(fn).not.toHaveBeenCalled()
    vi.advanceTimersByTime(1)
    expect(fn).toHaveBeenCalledOnce()
    expect(fn).toHaveBeenCalledWith('log')
  })

  it('can be cancelled', () => {
    const fn = vi.fn()
    const call = debounce(fn, 100)
    call()
    call.cancel()
    vi.advanceTimersByTime(200)
    expect(fn).not.toHaveBeenCalled()
  })
})
