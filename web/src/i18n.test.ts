import { describe, expect, it } from 'vitest'
import { collect } from '@/i18n'

// Every message path of a nested message object, e.g. "cases.title".
function paths(messages: Record<string, unknown>, prefix = ''): string[] {
  return Object.entries(messages).flatMap(([key, value]) =>
    value && typeof value === 'object'
      ? paths(value as Record<string, unknown>, `${prefix}${key}.`)
      : [`${prefix}${key}`],
  )
}

// Named placeholders such as {name} in a message.
function placeholders(messages: Record<string, unknown>, path: string): string[] {
  const value = path.split('.').reduce<unknown>((node, key) => (node as Record<string, unknown>)[key], messages)
  return [...String(value).matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort()
}

// Terms a Chinese UI keeps in Latin letters, as Chinese QA teams write them.
const KEPT = new Set(['api', 'cli', 'pytest', 'cron', 'junit.xml', 'id', 'url', 'token'])

describe('translations', () => {
  const en = collect('en')
  const zh = collect('zh')

  it('have the same messages in English and Chinese', () => {
    expect(paths(zh).sort()).toEqual(paths(en).sort())
  })

  it('keep the same placeholders in both languages', () => {
    for (const path of paths(en)) expect(placeholders(zh, path), path).toEqual(placeholders(en, path))
  })

  it('are really translated: Chinese text differs from English', () => {
    const same = paths(en).filter((path) => placeholders(en, path).length === 0)
      .filter((path) => {
        const get = (m: Record<string, unknown>) => path.split('.').reduce<unknown>((n, k) => (n as Record<string, unknown>)[k], m)
        const text = String(get(en))
        return /[a-z]{3,}/i.test(text) && !KEPT.has(text.toLowerCase()) && text === String(get(zh))
      })
    expect(same).toEqual([])
  })
})
