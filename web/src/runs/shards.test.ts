import { describe, expect, it } from 'vitest'
import { ranAgain, shardStatusType } from './shards'

describe('shards', () => {
  it('colours each status', () => {
    expect(shardStatusType('pending')).toBe('info')
    expect(shardStatusType('queued')).toBe('warning')
    expect(shardStatusType('running')).toBe('primary')
    expect(shardStatusType('done')).toBe('success')
    expect(shardStatusType('something new')).toBe('info')
  })

  it('counts the shards that ran again', () => {
    expect(ranAgain([{ deliveries: 1 }, { deliveries: 2 }, { deliveries: 3 }])).toBe(2)
    expect(ranAgain([])).toBe(0)
  })
})
