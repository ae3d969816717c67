// The names of a plan's cases: the case list is read page by page until every id is
// known (one page for most projects), without fetching each case on its own.
import type { Page, Schemas } from '@/api/client'

export type CaseBrief = Pick<Schemas['CasePublic'], 'id' | 'name' | 'path' | 'tags'>

export async function resolveCases(
  ids: number[],
  fetchPage: (page: number) => Promise<Page<CaseBrief>>,
  known: Map<number, CaseBrief> = new Map(),
): Promise<Map<number, CaseBrief>> {
  const found = new Map(known)
  const missing = () => ids.some((id) => !found.has(id))
  for (let page = 1; missing(); page++) {
    const answer = await fetchPage(page)
    for (const item of answer.items) found.set(item.id, item)
    if (answer.items.length === 0 || page * answer.per_page >= answer.total) break
  }
  return found
}
