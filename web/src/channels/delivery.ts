// Deliveries of notifications: when to look again at pending ones, and what their last try said.
import type { Schemas } from '@/api/client'

export type Delivery = Schemas['DeliveryPublic']
export type Attempt = Schemas['AttemptPublic']

/** How often a list with pending deliveries is asked again, at least and at most (ms). */
export const POLL_MIN_MS = 1000
export const POLL_MAX_MS = 10_000

/** Milliseconds until the list should be fetched again, or null when nothing is pending.
 *  A pending delivery due soon (or whose next try is unknown) is looked at soon; one that
 *  waits minutes for its retry is looked at every `POLL_MAX_MS`. `tracked` (a test message
 *  just queued but not in the list yet) counts as pending. */
export function pollDelay(deliveries: Delivery[], now: number, tracked: number | null = null): number | null {
  const pending = deliveries.filter((d) => d.status === 'pending')
  const missing = tracked !== null && !deliveries.some((d) => d.id === tracked)
  if (!pending.length && !missing) return null
  let delay = missing ? POLL_MIN_MS : POLL_MAX_MS
  for (const delivery of pending) {
    const due = delivery.next_attempt_at ? Date.parse(delivery.next_attempt_at) - now : 0
    delay = Math.min(delay, Math.max(due, POLL_MIN_MS))
  }
  return Math.min(delay, POLL_MAX_MS)
}

export function lastAttempt(delivery: Delivery): Attempt | null {
  return delivery.attempts.length ? delivery.attempts[delivery.attempts.length - 1] : null
}

/** Milliseconds as a short duration: 35 ms, 1.2 s. */
export function millis(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`
}

/** Element Plus tag type of a delivery status. */
export function deliveryType(status: string): 'success' | 'danger' | 'info' {
  if (status === 'sent') return 'success'
  if (status === 'failed') return 'danger'
  return 'info'
}
