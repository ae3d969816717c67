import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { latestAfterPause } from '@/plans/preview'

describe('latestAfterPause', () => {
  beforeEach(() => vi.useFakeTimers())
  afterEach(() => vi.useRealTimers())

  it('asks once, after the typing pauses', async () => {
    const run = vi.fn(async (text: string) => text.toUpperCase())
    const answers: string[] = []
    const check = latestAfterPause(run, 300, (a) => answers.push(a), () => {})
    check('0')
    check('0 2')
    await vi.advanceTimersByTimeAsync(200)
    check('0 2 * * 1-5')
    await vi.advanceTimersByTimeAsync(299)
    expect(run).not.toHaveBeenCalled()
    await vi.advanceTimersByTimeAsync(1)
    expect(run).toHaveBeenCalledExactlyOnceWith('0 2 * * 1-5')
    expect(answers).toEqual(['0 2 * * 1-5'])
  })

  it('drops a late answer to an older input', async () => {
    const slow: Record<string, (v: string) => void> = {}
    const run = (text: string) => new Promise<string>((resolve) => (slow[text] = resolve))
    const answers: string[] = []
    const check = latestAfterPause(run, 100, (a) => answers.push(a), () => {})
    check('old')
    await vi.advanceTimersByTimeAsync(100)
    check('new')
    await vi.advanceTimersByTimeAsync(100)
    slow.new('new')
    slow.old('old')
    await vi.advanceTimersByTimeAsync(0)
    expect(answers).toEqual(['new'])
  })

  it('reports errors of the latest input, and nothing after cancel', async () => {
    const run = vi.fn(async (text: string) => {
      throw new Error(text)
    })
    const errors: string[] = []
    const check = latestAfterPause(run, 50, () => {}, (e) => errors.push((e as Error).message))
    check('bad')
    await vi.advanceTimersByTimeAsync(50)
    expect(errors).toEqual(['bad'])
    check('worse')
    check.cancel()
    await vi.advanceTimersByTimeAsync(100)
    expect(run).toHaveBeenCalledTimes(1)
  })
})
