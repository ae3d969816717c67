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
