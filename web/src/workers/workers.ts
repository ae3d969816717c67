// The Workers page's logic: how long ago a heartbeat was, in words, and what the page
// warns about (runs on this server, or no live worker).

/** `iso` relative to `now` in the reader's language: "5 seconds ago", "3 分钟前". */
export function ago(iso: string | null | undefined, now: number, locale = 'en'): string {
  if (!iso) return '—'
  const seconds = Math.round((Date.parse(iso) - now) / 1000)
  const format = new Intl.RelativeTimeFormat(locale === 'zh' ? 'zh-CN' : 'en', { numeric: 'auto' })
  const abs = Math.abs(seconds)
  if (abs < 60) return format.format(seconds, 'second')
  if (abs < 3600) return format.format(Math.round(seconds / 60), 'minute')
  if (abs < 86400) return format.format(Math.round(seconds / 3600), 'hour')
  return format.format(Math.round(seconds / 86400), 'day')
}

export type Alert = 'local' | 'none-live' | null

/** The alert above the table: runs execute on this server, or none can start now. */
export function alertOf(list: { executor: string; live: number } | null): Alert {
  if (!list) return null
  if (list.executor !== 'celery') return 'local'
  return list.live ? null : 'none-live'
}

/** The live workers first, then by name. */
export function ordered<W extends { name: string; live: boolean }>(workers: W[]): W[] {
  return [...workers].sort((a, b) => Number(b.live) - Number(a.live) || a.name.localeCompare(b.name))
}
