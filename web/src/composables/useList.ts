// A list the API answers, with its loading state; a failure to load is shown.
import { ref, type Ref } from 'vue'
import { api, type Page, type Query } from '@/api/client'
import { showError } from '@/composables/useFormErrors'

/** The whole list at `path()` (an array answer); a null path loads nothing (no project yet). */
export function useList<T>(path: () => string | null) {
  const items = ref([]) as Ref<T[]>
  const loading = ref(false)
  async function load(): Promise<void> {
    const where = path()
    if (!where) return
    loading.value = true
    try {
      items.value = await api.get<T[]>(where)
    } catch (error) {
      showError(error)
    } finally {
      loading.value = false
    }
  }
  return { items, loading, load }
}

/** One page of the server-paged list at `path()`, `perPage` long, filtered by `query()`.
 *  `load` answers whether the page arrived. */
export function usePaged<T>(path: () => string, perPage: number, query: () => Query = () => ({})) {
  const items = ref([]) as Ref<T[]>
  const total = ref(0)
  const page = ref(1)
  const loading = ref(false)
  async function load(): Promise<boolean> {
    loading.value = true
    try {
      const answer = await api.get<Page<T>>(path(), { ...query(), page: page.value, per_page: perPage })
      items.value = answer.items
      total.value = answer.total
      return true
    } catch (error) {
      showError(error)
      return false
    } finally {
      loading.value = false
    }
  }
  return { items, total, page, perPage, loading, load }
}
