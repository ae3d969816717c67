// A page of deliveries that refreshes itself while some are still pending (see pollDelay).
import { onBeforeUnmount, ref, type Ref } from 'vue'
import { api, type Page, type Query } from '@/api/client'
import { showError } from '@/composables/useFormErrors'
import { pollDelay, type Delivery } from '@/channels/delivery'

/** `path()` answers the deliveries' list (null: nothing to load), filtered by `query()`.
 *  `track(id)` follows one delivery (a test message just queued) until it is in the list
 *  and done. The loading state shows for a load asked for, not for the quiet refreshes. */
export function useDeliveries(path: () => string | null, perPage = 20, query: () => Query = () => ({})) {
  const items = ref([]) as Ref<Delivery[]>
  const total = ref(0)
  const page = ref(1)
  const loading = ref(false)
  const tracked = ref<number | null>(null)
  let timer: ReturnType<typeof setTimeout> | null = null
  let generation = 0

  function pause(): void {
    generation++
    loading.value = false
    if (timer !== null) clearTimeout(timer)
    timer = null
  }

  async function fetch(mine: number, quiet: boolean): Promise<void> {
    const where = path()
    if (!where) return
    if (!quiet) loading.value = true
    try {
      const answer = await api.get<Page<Delivery>>(where, { ...query(), page: page.value, per_page: perPage })
      if (mine !== generation) return
      items.value = answer.items
      total.value = answer.total
    } catch (error) {
      if (mine === generation && !quiet) showError(error)
      if (mine === generation && quiet) timer = setTimeout(() => void fetch(mine, true), 5000)
      return
    } finally {
      if (!quiet && mine === generation) loading.value = false
    }
    if (items.value.some((d) => d.id === tracked.value)) tracked.value = null // seen: pending ones are followed anyway
    const follow = page.value === 1 ? tracked.value : null
    const delay = pollDelay(items.value, Date.now(), follow)
    if (delay !== null) timer = setTimeout(() => void fetch(mine, true), delay)
  }

  /** Loads the current page (again) and keeps it fresh while something is pending. */
  function load(): Promise<void> {
    pause()
    return fetch(generation, false)
  }

  function track(id: number | null): Promise<void> {
    tracked.value = id
    page.value = 1
    return load()
  }

  onBeforeUnmount(pause)
  return { items, total, page, perPage, loading, tracked, load, track, pause }
}
