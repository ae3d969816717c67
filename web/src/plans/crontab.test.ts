import { describe, expect, it } from 'vitest'
import { collect } from '@/i18n'
import { CRON_EXAMPLES, CRON_FIELDS, CRON_SYNTAX, fieldAt } from '@/plans/crontab'

describe('fieldAt', () => {
  it('names the field the caret is in', () => {
    expect(fieldAt('0 2 * * 1-5', 0)).toBe(0)
    expect(fieldAt('0 2 * * 1-5', 2)).toBe(1)
    expect(fieldAt('0 2 * * 1-5', 3)).toBe(1)
    expect(fieldAt('0 2 * * 1-5', 11)).toBe(4)
    expect(fieldAt('  0 2', 1)).toBe(0)
    expect(fieldAt('0  2', 3)).toBe(1)
  })
  it('is null past the fifth field', () => {
    expect(fieldAt('0 2 * * 1 ', 10)).toBeNull()
  })
})

describe('crontab help', () => {
  it('has five fields and examples of five fields each', () => {
    expect(CRON_FIELDS).toHaveLength(5)
    for (const example of CRON_EXAMPLES) expect(example.expression.split(' ')).toHaveLength(5)
  })
  it('explains every field, token and example in both languages', () => {
    for (const lang of ['en', 'zh'] as const) {
      const cron = collect(lang).plans.cron
      for (const field of CRON_FIELDS) expect(cron.fields[field.key], field.key).toBeTruthy()
      for (const token of CRON_SYNTAX) expect(cron.syntax[token.key], token.key).toBeTruthy()
      for (const example of CRON_EXAMPLES) expect(cron.examples[example.key], example.key).toBeTruthy()
    }
  })
})
