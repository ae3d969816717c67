// Small formatting helpers shared by pages (tested in format.test.ts).

/** Seconds as a short duration: 0.42 s, 12.3 s, 4 min 05 s, 2 h 03 min. */
export function duration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined) return '—'
  if (seconds < 10) return `${seconds.toFixed(2)} s`
  if (seconds < 60) return `${seconds.toFixed(1)} s`
  const s = Math.round(seconds)
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`
}

/** An ISO time in the browser's locale, or a dash. */
export function dateTime(iso: string | null | undefined, locale = 'en'): string {
  if (!iso) return '—'
  return new Date(iso).toLocaleString(locale === 'zh' ? 'zh-CN' : 'en-GB')
}

/** Element Plus tag type for a run status or a result outcome. */
export function statusType(status: string): 'success' | 'danger' | 'warning' | 'info' | 'primary' {
  switch (status) {
    case 'passed':
    case 'xfailed':
      return 'success'
    case 'failed':
    case 'error':
    case 'timed_out':
      return 'danger'
    case 'xpassed':
    case 'interrupted':
    case 'cancelled':
      return 'warning'
    case 'running':
      return 'primary'
    default:
      return 'info'
  }
}
