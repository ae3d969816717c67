import { describe, expect, it } from 'vitest'
import {
  emptyTrigger,
  formatInZone,
  fromTrigger,
  largestUnit,
  timeZones,
  toTrigger,
  triggerWords,
  wallTime,
  withBrowserOffset,
  type Translate,
} from '@/plans/trigger'

describe('largestUnit', () => {
  it('picks the largest unit that divides the seconds', () => {
    expect(largestUnit(7200)).toEqual({ every: 2, unit: 'hours' })
    expect(largestUnit(86400 * 3)).toEqual({ every: 3, unit: 'days' })
    expect(largestUnit(90)).toEqual({ every: 90, unit: 'seconds' })
    expect(largestUnit(300)).toEqual({ every: 5, unit: 'minutes' })
  })
})

describe('wallTime', () => {
  it('shows an instant on the clock of a zone', () => {
    expect(wallTime('2099-06-01T01:30:00Z', 'Asia/Shanghai')).toBe('2099-06-01T09:30:00')
    expect(wallTime('2099-01-02T03:04:05+02:00', 'UTC')).toBe('2099-01-02T01:04:05')
    expect(wallTime('2099-06-01T00:00:00Z', 'America/New_York')).toBe('2099-05-31T20:00:00')
  })
})

describe('toTrigger and fromTrigger', () => {
  it('send only the fields of the kind, the crontab tidied', () => {
    const form = { ...emptyTrigger('Europe/Berlin'), kind: 'cron' as const, expression: '  0  2 * *   1-5 ', at: '2099-01-01T00:00:00' }
    expect(toTrigger(form)).toEqual({ kind: 'cron', expression: '0 2 * * 1-5', seconds: null, at: null, timezone: 'Europe/Berlin' })
  })

  it('turn an interval in units into seconds and back', () => {
    const form = { ...emptyTrigger('UTC'), kind: 'interval' as const, every: 15, unit: 'minutes' as const }
    const trigger = toTrigger(form)
    expect(trigger).toEqual({ kind: 'interval', expression: null, seconds: 900, at: null, timezone: 'UTC' })
    expect(fromTrigger(trigger)).toMatchObject({ kind: 'interval', every: 15, unit: 'minutes', timezone: 'UTC' })
  })

  it('keep a one-off time on the wall clock of its zone', () => {
    const saved = { kind: 'date' as const, at: '2099-06-01T01:30:00Z', timezone: 'Asia/Shanghai' }
    const form = fromTrigger(saved)
    expect(form.at).toBe('2099-06-01T09:30:00')
    expect(toTrigger(form)).toMatchObject({ kind: 'date', at: '2099-06-01T09:30:00', timezone: 'Asia/Shanghai' })
  })

  it('give a time without a zone the browser offset (the server would read it in its own zone)', () => {
    const form = { ...emptyTrigger(''), kind: 'date' as const, at: '2099-06-01T09:30:00' }
    const trigger = toTrigger(form)
    expect(trigger.timezone).toBeNull()
    expect(trigger.at).toBe(withBrowserOffset('2099-06-01T09:30:00'))
    expect(new Date(trigger.at as string).getTime()).toBe(new Date('2099-06-01T09:30:00').getTime())
  })

  it('leave an interval without a count and a date without a time to the server to refuse', () => {
    expect(toTrigger({ ...emptyTrigger('UTC'), kind: 'interval', every: null }).seconds).toBeNull()
    expect(toTrigger({ ...emptyTrigger('UTC'), kind: 'date' }).at).toBeNull()
  })
})

describe('timeZones', () => {
  it('lists UTC and the IANA zones', () => {
    const zones = timeZones()
    expect(zones).toContain('UTC')
    expect(zones).toContain('Asia/Shanghai')
  })
})

describe('triggerWords', () => {
  const t: Translate = (key, named, plural) => `${key}|${JSON.stringify(named ?? {})}|${plural ?? ''}`
  it('uses the server words for a crontab, and messages for the rest', () => {
    expect(triggerWords({ kind: 'cron', expression: '0 2 * * *' }, t, 'At 02:00')).toBe('At 02:00')
    expect(triggerWords({ kind: 'cron', expression: '0 2 * * *' }, t)).toBe('0 2 * * *')
    expect(triggerWords({ kind: 'interval', seconds: 7200 }, t)).toBe('plans.trigger.every.hours|{"n":2}|2')
    expect(triggerWords({ kind: 'date', at: '2099-01-01T00:00:00Z' }, t, undefined, () => 'then')).toBe(
      'plans.trigger.onceAt|{"time":"then"}|',
    )
    expect(triggerWords({ kind: 'none' }, t)).toBe('plans.trigger.notScheduled|{}|')
  })
})

describe('formatInZone', () => {
  it('shows a fire time with its weekday on the clock of the zone', () => {
    const text = formatInZone('2099-06-01T01:30:00Z', 'Asia/Shanghai', 'en')
    expect(text).toContain('09:30')
    expect(text).toContain('Mon')
    expect(formatInZone('2099-06-01T01:30:00Z', 'UTC', 'en')).toContain('01:30')
  })
  it('falls back to the browser clock for a zone it does not know', () => {
    expect(formatInZone('2099-06-01T01:30:00Z', 'Mars/Olympus', 'zh')).toContain('2099')
  })
})
