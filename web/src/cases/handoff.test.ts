import { describe, expect, it } from 'vitest'
import { handOver, takeOver } from './handoff'

describe('handoff', () => {
  it('is taken once, by the case it was left for', () => {
    handOver(5, { problems: [], runId: 9 })
    expect(takeOver(6)).toBeNull()
    expect(takeOver(5)).toEqual({ problems: [], runId: 9 })
    expect(takeOver(5)).toBeNull()
  })
})
