import { describe, expect, it } from 'vitest'
import { listState } from './listState'

describe('listState', () => {
  it('is one object per project that keeps what it was given', () => {
    listState(1).search = 'login'
    listState(1).page = 3
    expect(listState(1)).toEqual({ search: 'login', page: 3, perPage: 50 })
    expect(listState(2).search).toBe('')
  })
})
