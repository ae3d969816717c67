// A plan's trigger as the editor's form holds it, back to the API's shape, and in words.
import type { Schemas } from '@/api/client'

export type Trigger = Schemas['Trigger']
export type TriggerKind = Trigger['kind']
export type IntervalUnit = 'seconds' | 'minutes' | 'hours' | 'days'

export const KINDS: TriggerKind[] = ['none', 'cron', 'interval', 'date']
export const UNIT_SECONDS: Record<IntervalUnit, number> = { seconds: 1, minutes: 60, hours: 3600, days: 86400 }
const UNITS_BIG_FIRST: IntervalUnit[] = ['days', 'hours', 'minutes', 'seconds']

/** What the trigger editor edits. `at` is a wall time in `timezone` ('' = the server's zone). */
export interface TriggerForm {
  kind: TriggerKind
  expression: string
  every: number | null
  unit: IntervalUnit
  at: string
  timezone: string
}

/** The browser's IANA time zone. */
export function browserZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC'
}

/** Every IANA zone the browser knows, UTC included. */
export function timeZones(): string[] {
  const zones = typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : []
  return zones.includes('UTC') ? zones : ['UTC', ...zones]
}

/** Seconds as a count of the largest unit that divides them: 7200 → 2 hours. */
export function largestUnit(seconds: number): { every: number; unit: IntervalUnit } {
  const unit = UNITS_BIG_FIRST.find((u) => seconds > 0 && seconds % UNIT_SECONDS[u] === 0) ?? 'seconds'
  return { every: seconds / UNIT_SECONDS[unit], unit }
}

/** An instant as the wall time 'YYYY-MM-DDTHH:mm:ss' in `zone`. */
export function wallTime(iso: string, zone: string): string {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: zone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(new Date(iso))
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? '00'
  return `${get('year')}-${get('month')}-${get('day')}T${get('hour')}:${get('minute')}:${get('second')}`
}

/** A wall time of the browser's zone with its UTC offset: '2099-01-02T03:04:05+08:00'. */
export function withBrowserOffset(wall: string): string {
  const offset = -new Date(wall).getTimezoneOffset()
  const sign = offset >= 0 ? '+' : '-'
  const abs = Math.abs(offset)
  const pad = (n: number) => String(n).padStart(2, '0')
  return `${wall}${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`
}

export function emptyTrigger(zone: string = browserZone()): TriggerForm {
  return { kind: 'none', expression: '', every: 1, unit: 'hours', at: '', timezone: zone }
}

/** The form for a saved trigger; times without a zone show in `fallbackZone`. */
export function fromTrigger(trigger: Trigger, fallbackZone: string = browserZone()): TriggerForm {
  const form = emptyTrigger(trigger.timezone ?? '')
  form.kind = trigger.kind
  form.expression = trigger.expression ?? ''
  if (trigger.seconds) Object.assign(form, largestUnit(trigger.seconds))
  if (trigger.at) form.at = wallTime(trigger.at, trigger.timezone || fallbackZone)
  return form
}

/** The API's trigger: only the fields its kind uses. */
export function toTrigger(form: TriggerForm): Trigger {
  const cron = form.kind === 'cron'
  const interval = form.kind === 'interval' && form.every !== null
  const date = form.kind === 'date' && form.at !== ''
  return {
    kind: form.kind,
    expression: cron ? form.expression.trim().split(/\s+/).join(' ') : null,
    seconds: interval ? Math.round((form.every as number) * UNIT_SECONDS[form.unit]) : null,
    at: date ? (form.timezone ? form.at : withBrowserOffset(form.at)) : null,
    timezone: form.timezone || null,
  }
}

export type Translate = (key: string, named?: Record<string, unknown>, plural?: number) => string

/** A trigger in words: a crontab's words come from the server (`cronWords`), the rest from
 * the messages `plans.trigger.*`. */
export function triggerWords(trigger: Trigger, t: Translate, cronWords?: string, formatTime?: (iso: string) => string): string {
  switch (trigger.kind) {
    case 'cron':
      return cronWords || trigger.expression || ''
    case 'interval': {
      const { every, unit } = largestUnit(trigger.seconds ?? 0)
      return t(`plans.trigger.every.${unit}`, { n: every }, every)
    }
    case 'date':
      return t('plans.trigger.onceAt', { time: trigger.at ? (formatTime ?? String)(trigger.at) : '—' })
    default:
      return t('plans.trigger.notScheduled')
  }
}

/** A fire time on the clock of `zone` (the browser's when empty), with its weekday. */
export function formatInZone(iso: string, zone: string | null | undefined, locale: string): string {
  const options: Intl.DateTimeFormatOptions = {
    weekday: 'short',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }
  const tag = locale === 'zh' ? 'zh-CN' : 'en-GB'
  try {
    return new Date(iso).toLocaleString(tag, { ...options, timeZone: zone || undefined })
  } catch {
    return new Date(iso).toLocaleString(tag, options) // a zone this browser does not know
  }
}
