import { beforeEach, describe, expect, it, vi } from 'vitest'

const confirm = vi.fn()
const remove = vi.fn()
const error = vi.fn()
vi.mock('element-plus', () => ({ ElMessageBox: { confirm }, ElMessage: { error } }))
vi.mock('@/api/client', async (original) => ({
  ...(await original<typeof import('@/api/client')>()),
  api: { delete: remove },
}))

const { confirmed, deleteConfirmed } = await import('./useConfirm')
const { ApiError } = await import('@/api/client')

beforeEach(() => vi.clearAllMocks())

describe('confirmed', () => {
  it('asks in a warning box and says whether the answer was OK', async () => {
    confirm.mockResolvedValueOnce('confirm')
    expect(await confirmed('Delete it?')).toBe(true)
    expect(confirm).toHaveBeenCalledWith('Delete it?', { type: 'warning' })
    confirm.mockRejectedValueOnce('cancel')
    expect(await confirmed('Delete it?')).toBe(false)
    confirm.mockRejectedValueOnce('close')
    expect(await confirmed('Delete it?')).toBe(false)
  })
})

describe('deleteConfirmed', () => {
  it('deletes only once confirmed', async () => {
    confirm.mockRejectedValueOnce('cancel')
    expect(await deleteConfirmed('Delete qa?', '/projects/1/environments/2')).toBe(false)
    expect(remove).not.toHaveBeenCalled()
    confirm.mockResolvedValueOnce('confirm')
    remove.mockResolvedValueOnce(undefined)
    expect(await deleteConfirmed('Delete qa?', '/projects/1/environments/2')).toBe(true)
    expect(remove).toHaveBeenCalledWith('/projects/1/environments/2')
    expect(error).not.toHaveBeenCalled()
  })

  it('shows a failed delete and answers false', async () => {
    confirm.mockResolvedValueOnce('confirm')
    remove.mockRejectedValueOnce(new ApiError(409, 'in_use', 'still used by a plan', null))
    expect(await deleteConfirmed('Delete qa?', '/projects/1/environments/2')).toBe(false)
    expect(error).toHaveBeenCalledWith('still used by a plan')
  })
})
