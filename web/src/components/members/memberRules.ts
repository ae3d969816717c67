// Which member actions the signed-in user may take, and the roles a project knows.
import type { Schemas } from '@/api/client'

type Member = Schemas['MemberPublic']

export const ROLES = ['viewer', 'runner', 'editor', 'owner'] as const
export type RoleName = (typeof ROLES)[number]

export interface MemberActions {
  changeRole: boolean
  remove: boolean
  /** The only owner: neither demoted nor removed (the server refuses it). */
  lastOwner: boolean
  self: boolean
}

export function ownerCount(members: Member[]): number {
  return members.filter((m) => m.role === 'owner').length
}

/** What the user (`meId`, managing when owner or admin) may do to `member`. */
export function memberActions(members: Member[], member: Member, manage: boolean, meId: number | null): MemberActions {
  const lastOwner = member.role === 'owner' && ownerCount(members) <= 1
  return { changeRole: manage && !lastOwner, remove: manage && !lastOwner, lastOwner, self: member.user.id === meId }
}

/** The member already holding `username` (case-sensitive, as the server compares). */
export function existingMember(members: Member[], username: string): Member | undefined {
  const name = username.trim()
  return members.find((m) => m.user.username === name)
}
