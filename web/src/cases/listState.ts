// The cases list's search and page per project, kept while the app is open so coming
// back from a case finds the list as it was left.
export interface ListState {
  search: string
  page: number
  perPage: number
}

const states = new Map<number, ListState>()

export function listState(pid: number): ListState {
  let state = states.get(pid)
  if (!state) {
    state = { search: '', page: 1, perPage: 50 }
    states.set(pid, state)
  }
  return state
}

/** Calls `fn` once calls stop for `ms`; `cancel` drops a pending call. */
export function debounce<A extends unknown[]>(fn: (...args: A) => void, ms: number) {
  let timer: ReturnType<typeof setTimeout> | undefined
  const call = (...args: A) => {
    clearTimeout(timer)
    timer = setTimeout(() => fn(...args), ms)
  }
  call.cancel = () => clearTimeout(timer)
  return call
}
