// Opening a run's HTML report in a new tab: the report needs the token, so it is fetched
// with it and shown from a blob URL (the report carries its own Content-Security-Policy).
import { fetchText } from '@/api/client'

/** Opens the HTML at `path` (an API path) in a new tab. The tab opens at once, while the
 *  click still counts as the user's (a popup blocker allows it), and shows the report
 *  when it has arrived; it closes again if fetching fails (the error is thrown). */
export async function openHtml(path: string): Promise<void> {
  const tab = window.open('', '_blank')
  if (tab) tab.opener = null
  try {
    const html = await fetchText(path)
    const href = URL.createObjectURL(new Blob([html], { type: 'text/html;charset=utf-8' }))
    if (tab) tab.location.href = href
    else window.location.assign(href)
    setTimeout(() => URL.revokeObjectURL(href), 60_000)
  } catch (error) {
    tab?.close()
    throw error
  }
}
