import { beforeEach, describe, expect, it, vi } from 'vitest'
import { ref } from 'vue'

const get = vi.fn()
const error = vi.fn()
vi.mock('element-plus', () => ({ ElMessage: { error } }))
vi.mock('@/api/client', async (original) => ({
  ...(await original<typeof import('@/api/client')>()),
  api: { get },
}))

const { useList, usePaged } = await import('./useList')
const { ApiError } = await import('@/api/client')

beforeEach(() => vi.clearAllMocks())

describe('useList', () => {
  it('loads the list at its path, loading while it waits', async () => {
    let answer: (items: string[]) => void = () => {}
    get.mockReturnValueOnce(new Promise((resolve) => (answer = resolve)))
    const { items, loading, load } = useList<string>(() => '/projects/1/environments')
    const done = load()
    expect(loading.value).toBe(true)
    answer(['dev', 'qa'])
    await done
    expect(get).toHaveBeenCalledWith('/projects/1/environments')
    expect(items.value).toEqual(['dev', 'qa'])
    expect(loading.value).toBe(false)
  })

  it('loads nothing without a path', async () => {
    const { load, loading } = useList<string>(() => null)
    await load()
    expect(get).not.toHaveBeenCalled()
    expect(loading.value).toBe(false)
  })

  it('shows a failure and keeps what it had', async () => {
    get.mockResolvedValueOnce(['dev'])
    const { items, loading, load } = useList<string>(() => '/users')
    await load()
    get.mockRejectedValueOnce(new ApiError(403, 'forbidden', 'admins only'))
    await load()
    expect(error).toHaveBeenCalledWith('admins only')
    expect(items.value).toEqual(['dev'])
    expect(loading.value).toBe(false)
  })
})

describe('usePaged', () => {
  it('asks for its page with the current filters and says whether it arrived', async () => {
    const search = ref('  login ')
    const list = usePaged<number>(() => '/projects/1/cases', 20, () => ({ search: search.value.trim() }))
    get.mockResolvedValueOnce({ items: [1, 2], total: 42, page: 3, per_page: 20 })
    list.page.value = 3
    expect(await list.load()).toBe(true)
    expect(get).toHaveBeenCalledWith('/projects/1/cases', { search: 'login', page: 3, per_page: 20 })
    expect(list.items.value).toEqual([1, 2])
    expect(list.total.value).toBe(42)
    expect(list.perPage).toBe(20)

    get.mockRejectedValueOnce(new Error('offline'))
    expect(await list.load()).toBe(false)
    expect(error).toHaveBeenCalledWith('Error: offline')
    expect(list.items.value).toEqual([1, 2])
    expect(list.loading.value).toBe(false)
  })
})
