import { describe, expect, it } from 'vitest'
import { fileName, url } from '@/api/client'

describe('fileName', () => {
  it('prefers the UTF-8 name, so a Chinese project name survives', () => {
    const header = `attachment; filename="shop-qa.zip"; filename*=UTF-8''%E5%95%86%E5%BA%97-qa.zip`
    expect(fileName(header)).toBe('商店-qa.zip')
  })
  it('falls back to the plain name, and to nothing', () => {
    expect(fileName('attachment; filename="junit.xml"')).toBe('junit.xml')
    expect(fileName(`attachment; filename=a.zip; filename*=UTF-8''%E5%ZZ`)).toBe('a.zip')
    expect(fileName('inline')).toBeNull()
  })
})

describe('url', () => {
  it('drops empty parameters and repeats list ones', () => {
    expect(url('/runs', { status: '', plan_id: 3, tag: ['a', 'b'], q: undefined })).toBe(
      '/api/v1/runs?plan_id=3&tag=a&tag=b',
    )
  })
})
