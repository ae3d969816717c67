// Calls a function once calls to it stop for a moment (typing in a search box, bursts of
// live events); `cancel` drops a pending call, e.g. when the page goes away.

/** Calls `fn` once calls stop for `ms`, with the last arguments; `cancel` drops a pending call. */
export function debounce<A extends unknown[]>(fn: (...args: A) => void, ms: number) {
  let timer: ReturnType<typeof setTimeout> | undefined
  const call = (...args: A) => {
    clearTimeout(timer)
    timer = setTimeout(() => fn(...args), ms)
  }
  call.cancel = () => clearTimeout(timer)
  return call
}
