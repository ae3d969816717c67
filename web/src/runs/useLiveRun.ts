// One run kept current for its page: the run and every result page from the API, then
// its live events, folded once per animation frame into a view the page renders. A run on
// workers (celery) is asked again every few seconds while it runs, and on each notice:
// its shards and whether it waits for a worker are not in the events.
import { computed, onBeforeUnmount, ref, shallowRef, watch, type Ref } from 'vue'
import { api, ApiError, fetchText, type Page } from '@/api/client'
import { followRun, type RunEvent, type Stream } from '@/api/live'
import { showError } from '@/composables/useFormErrors'
import { createBatcher, type Batcher } from './batcher'
import {
  applyDetail,
  applyEvent,
  applyResults,
  banner,
  countsOf,
  createRunState,
  elapsed,
  isFinished,
  progress,
  type Banner,
  type Notice,
  rowsOf,
  type Result,
  type ResultRow,
  type RunDetail,
  type RunState,
} from './state'

const PER_PAGE = 1000
/** How often a running celery run is asked again (its shards, its waiting reason). */
const REFRESH_MS = 5000

export interface LiveView {
  status: string
  finished: boolean
  collected: number | null
  startedAt: string | null
  rows: ResultRow[]
  counts: Record<string, number>
  progress: number | null
  log: string[]
  logDropped: number
  timeout_s: number | null
  error: string | null
  banner: Banner | null
  notices: Notice[]
}

function viewOf(state: RunState, previous?: LiveView): LiveView {
  const logSame = previous && previous.log.length === state.log.length && previous.logDropped === state.logDropped
  return {
    status: state.status,
    finished: isFinished(state),
    collected: state.collected,
    startedAt: state.startedAt,
    rows: rowsOf(state),
    counts: { ...countsOf(state) },
    progress: progress(state),
    log: logSame ? previous.log : state.log.slice(),
    logDropped: state.logDropped,
    timeout_s: state.timeout_s,
    error: state.error,
    banner: banner(state),
    notices: previous && previous.notices.length === state.notices.length ? previous.notices : state.notices.slice(),
  }
}

export function useLiveRun(runId: Ref<number>) {
  let state = createRunState()
  let stream: Stream | null = null
  let batcher: Batcher<RunEvent> | null = null
  const run = ref<RunDetail | null>(null)
  const view = shallowRef<LiveView>(viewOf(state))
  const loading = ref(false)
  const notFound = ref(false)
  const now = ref(Date.now())
  const logText = ref<string | null>(null)
  const logLoading = ref(false)
  const timer = setInterval(() => {
    if (!view.value.finished) now.value = Date.now()
  }, 1000)
  const refresher = setInterval(() => {
    if (run.value?.executor === 'celery' && !view.value.finished && !loading.value) void refresh(runId.value)
  }, REFRESH_MS)

  const seconds = computed(() => {
    void view.value // re-read when the state changes, not only each second
    return elapsed(state, now.value)
  })

  function publish(): void {
    view.value = viewOf(state, view.value)
  }

  function stop(): void {
    stream?.close()
    batcher?.stop()
    stream = null
    batcher = null
  }

  async function load(id: number): Promise<void> {
    stop()
    loading.value = true
    notFound.value = false
    logText.value = null
    try {
      const detail = await api.get<RunDetail>(`/runs/${id}`)
      run.value = detail
      const mine = (state = createRunState(detail))
      publish()
      await loadResults(id, mine)
      if (mine !== state) return // another run was opened meanwhile
      if (!isFinished(mine)) follow(id, mine)
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) notFound.value = true
      else showError(error)
    } finally {
      loading.value = false
    }
  }

  async function loadResults(id: number, mine: RunState): Promise<void> {
    for (let page = 1; ; page++) {
      const found = await api.get<Page<Result>>(`/runs/${id}/results`, { page, per_page: PER_PAGE })
      if (mine !== state) return
      applyResults(mine, found.items)
      publish()
      if (page * found.per_page >= found.total) return
    }
  }

  function follow(id: number, mine: RunState): void {
    const queue = createBatcher<RunEvent>((events) => {
      let changed = false
      for (const event of events) changed = applyEvent(mine, event) || changed
      if (changed) publish()
      if (events.some((event) => event.event === 'done')) void ended(id)
      else if (events.some((event) => event.event === 'notice')) void refresh(id)
    })
    batcher = queue
    stream = followRun(id, (event) => queue.push(event), mine.lastSeq)
  }

  /** The run asked again while it runs: its shards and why it waits, if it does. */
  async function refresh(id: number): Promise<void> {
    try {
      const detail = await api.get<RunDetail>(`/runs/${id}`)
      if (detail.id !== runId.value || isFinished(state)) return
      run.value = detail
      applyDetail(state, detail)
      publish()
    } catch {
      // a passing failure: the next refresh or the live events bring the run on
    }
  }

  /** After `done`: the run's final fields (artifacts, counts, times). A cancelled
   * run's files are written once its process has gone: asked again a little later. */
  async function ended(id: number, again = true): Promise<void> {
    try {
      const detail = await api.get<RunDetail>(`/runs/${id}`)
      if (detail.id !== runId.value) return
      run.value = detail
      applyDetail(state, detail)
      state.finalCounts = { ...detail.counts }
      state.wall_s = detail.wall_s
      publish()
      if (again && !detail.artifacts?.length) setTimeout(() => void ended(id, false), 2000)
    } catch (error) {
      showError(error)
    }
  }

  /** The full result of `row` (traceback, output): kept from the pages, or looked up. */
  async function details(row: ResultRow): Promise<Result | null> {
    const kept = state.details.get(row.key)
    if (kept && kept.attempt === row.attempt) return kept
    const mine = state
    const query = { outcome: row.outcome, attempts: row.final ? 'final' : 'all', per_page: PER_PAGE }
    for (let page = 1; ; page++) {
      const found = await api.get<Page<Result>>(`/runs/${runId.value}/results`, { ...query, page })
      if (mine !== state) return null
      applyResults(mine, found.items)
      const hit = found.items.find((r) => r.nodeid === row.nodeid && r.worker === row.worker && r.attempt === row.attempt)
      if (hit) return hit
      if (page * found.per_page >= found.total) return null
    }
  }

  /** The whole console log of a finished run (the `log` artifact). */
  async function loadLog(): Promise<void> {
    if (logText.value !== null || logLoading.value || !run.value?.artifacts?.some((a) => a.name === 'log')) return
    logLoading.value = true
    try {
      logText.value = await fetchText(`/runs/${runId.value}/artifacts/log`)
    } catch (error) {
      showError(error)
    } finally {
      logLoading.value = false
    }
  }

  watch(runId, (id) => id && load(id), { immediate: true })
  onBeforeUnmount(() => {
    stop()
    clearInterval(timer)
    clearInterval(refresher)
  })

  return { run, view, seconds, loading, notFound, logText, logLoading, details, loadLog, reload: () => load(runId.value) }
}
