import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { debounce, listState } from './listState'

describe('listState', () => {
  it('is one object per project that keeps what it was given', () => {
    listState(1).search = 'login'
    listState(1).page = 3
    expect(listState(1)).toEqual({ search: 'login', page: 3, perPage: 50 })
    expect(listState(2).search).toBe('')
  })
})

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
