// The project of the current route (/p/:pid), and the signed-in user's role in it.
import { computed, ref, watch } from 'vue'
import { useRoute } from 'vue-router'
import { api, type Schemas } from '@/api/client'
import { session } from '@/session'

export type Role = 'viewer' | 'runner' | 'editor' | 'owner'
const RANK: Record<Role, number> = { viewer: 1, runner: 2, editor: 3, owner: 4 }

export function useProjectId() {
  const route = useRoute()
  return computed(() => Number(route.params.pid))
}

/** The current project; `can('editor')` says whether the user may edit in it. */
export function useProject() {
  const pid = useProjectId()
  const project = ref<Schemas['ProjectPublic'] | null>(null)
  watch(
    pid,
    async (id) => {
      project.value = id ? await api.get<Schemas['ProjectPublic']>(`/projects/${id}`).catch(() => null) : null
    },
    { immediate: true },
  )
  function can(role: Role): boolean {
    if (session.user?.is_admin) return true
    const mine = project.value?.role as Role | null | undefined
    return !!mine && RANK[mine] >= RANK[role]
  }
  return { pid, project, can }
}
