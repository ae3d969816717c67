// Collects items (live events) and hands them over together, once per animation frame:
// a burst of thousands of results costs one page update, never one per result.

export type Schedule = (run: () => void) => void

/** The next animation frame, or 250 ms when no frame comes (a hidden tab). */
export const nextFrame: Schedule = (run) => {
  let ran = false
  const once = () => {
    if (ran) return
    ran = true
    run()
  }
  if (typeof requestAnimationFrame === 'function') requestAnimationFrame(once)
  setTimeout(once, 250)
}

export interface Batcher<T> {
  push(item: T): void
  /** Hands over what waits now (e.g. before leaving the page). */
  flush(): void
  /** Drops what waits and ignores later pushes. */
  stop(): void
}

export function createBatcher<T>(deliver: (items: T[]) => void, schedule: Schedule = nextFrame): Batcher<T> {
  let queue: T[] = []
  let scheduled = false
  let stopped = false
  const flush = () => {
    scheduled = false
    if (stopped || queue.length === 0) return
    const items = queue
    queue = []
    deliver(items)
  }
  return {
    push(item) {
      if (stopped) return
      queue.push(item)
      if (scheduled) return
      scheduled = true
      schedule(flush)
    },
    flush,
    stop() {
      stopped = true
      queue = []
    },
  }
}
