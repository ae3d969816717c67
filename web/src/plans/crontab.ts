// What the crontab help shows: the five fields, the syntax, examples, and which field the
// caret is in (the words and the next fire times come from the server, which parses it).

export interface CronField {
  key: 'minute' | 'hour' | 'dayOfMonth' | 'month' | 'dayOfWeek'
  range: string
}

export const CRON_FIELDS: CronField[] = [
  { key: 'minute', range: '0-59' },
  { key: 'hour', range: '0-23' },
  { key: 'dayOfMonth', range: '1-31' },
  { key: 'month', range: '1-12' },
  { key: 'dayOfWeek', range: '0-7' },
]

/** Special characters, each explained by the message `plans.cron.syntax.<key>`. */
export const CRON_SYNTAX: { token: string; key: string }[] = [
  { token: '*', key: 'any' },
  { token: ',', key: 'list' },
  { token: '-', key: 'range' },
  { token: '/', key: 'step' },
]

/** Examples, each explained by the message `plans.cron.examples.<key>`. */
export const CRON_EXAMPLES: { expression: string; key: string }[] = [
  { expression: '0 2 * * 1-5', key: 'weekdaysAt2' },
  { expression: '*/15 * * * *', key: 'every15Minutes' },
  { expression: '0 * * * *', key: 'hourly' },
  { expression: '30 8 * * 1', key: 'mondayMorning' },
  { expression: '0 9,18 * * *', key: 'twiceADay' },
  { expression: '0 0 1 * *', key: 'monthly' },
]

/** The index (0-4) of the field the caret at `caret` is in, or null past the fifth. */
export function fieldAt(expression: string, caret: number): number | null {
  const before = expression.slice(0, caret).replace(/^\s+/, '')
  const index = before === '' ? 0 : before.split(/\s+/).length - 1
  return index < CRON_FIELDS.length ? index : null
}
