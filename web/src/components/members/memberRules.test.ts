import { describe, expect, it } from 'vitest'
import { existingMember, memberActions, ownerCount } from './memberRules'

const ann = { user: { id: 1, username: 'ann' }, role: 'owner' }
const bob = { user: { id: 2, username: 'bob' }, role: 'viewer' }
const cy = { user: { id: 3, username: 'cy' }, role: 'owner' }

describe('memberActions', () => {
  it('gives managers every action on an ordinary member', () => {
    expect(memberActions([ann, bob], bob, true, 1)).toEqual({ changeRole: true, remove: true, lastOwner: false, self: false })
  })
  it('gives non-managers nothing', () => {
    expect(memberActions([ann, bob], bob, false, 2)).toEqual({ changeRole: false, remove: false, lastOwner: false, self: true })
  })
  it('protects the last owner, but not one of two', () => {
    expect(memberActions([ann, bob], ann, true, 1)).toMatchObject({ changeRole: false, remove: false, lastOwner: true, self: true })
    expect(memberActions([ann, bob, cy], ann, true, 1)).toMatchObject({ changeRole: true, remove: true, lastOwner: false })
    expect(ownerCount([ann, bob, cy])).toBe(2)
  })
})

describe('existingMember', () => {
  it('finds a member by the typed username', () => {
    expect(existingMember([ann, bob], ' bob ')).toBe(bob)
    expect(existingMember([ann, bob], 'Bob')).toBeUndefined()
  })
})
