import { describe, expect, it, vi } from 'vitest'
import { resolveCases, type CaseBrief } from '@/plans/cases'

const brief = (id: number): CaseBrief => ({ id, name: `case ${id}`, path: `tests/test_${id}.py`, tags: [] })
const pages = (total: number, perPage: number) =>
  vi.fn(async (page: number) => {
    const first = (page - 1) * perPage + 1
    const ids = Array.from({ length: Math.max(0, Math.min(perPage, total - first + 1)) }, (_, i) => first + i)
    return { items: ids.map(brief), total, page, per_page: perPage }
  })

describe('resolveCases', () => {
  it('stops at the page that holds the last id it needs', async () => {
    const fetchPage = pages(1000, 200)
    const found = await resolveCases([5, 350], fetchPage)
    expect(fetchPage).toHaveBeenCalledTimes(2)
    expect(found.get(350)?.name).toBe('case 350')
  })

  it('asks nothing when every id is known', async () => {
    const fetchPage = pages(10, 200)
    const known = new Map([[3, brief(3)]])
    expect((await resolveCases([3], fetchPage, known)).get(3)).toEqual(brief(3))
    expect(fetchPage).not.toHaveBeenCalled()
  })

  it('gives up after the last page when a case is gone', async () => {
    const fetchPage = pages(250, 200)
    const found = await resolveCases([1, 9999], fetchPage)
    expect(fetchPage).toHaveBeenCalledTimes(2)
    expect(found.has(9999)).toBe(false)
    expect(found.size).toBe(250)
  })
})
