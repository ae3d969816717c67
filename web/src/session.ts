// Who is signed in, and which project they last looked at: kept in localStorage.
import { reactive } from 'vue'

export interface SessionUser {
  id: number
  username: string
  is_admin: boolean
}

const TOKEN = 'testyard.token'
const USER = 'testyard.user'
const PROJECT = 'testyard.project'

function stored<T>(key: string): T | null {
  try {
    return JSON.parse(localStorage.getItem(key) ?? 'null') as T | null
  } catch {
    return null
  }
}

export const session = reactive({
  token: localStorage.getItem(TOKEN),
  user: stored<SessionUser>(USER),
  projectId: stored<number>(PROJECT),
})

export function signIn(token: string, user: SessionUser): void {
  session.token = token
  session.user = user
  localStorage.setItem(TOKEN, token)
  localStorage.setItem(USER, JSON.stringify(user))
}

export function signOut(): void {
  session.token = null
  session.user = null
  localStorage.removeItem(TOKEN)
  localStorage.removeItem(USER)
  // Back to the login page, remembering where the user was.
  const here = window.location.pathname + window.location.search
  if (!here.startsWith('/login')) window.location.assign(`/login?next=${encodeURIComponent(here)}`)
}

export function rememberProject(id: number | null): void {
  session.projectId = id
  localStorage.setItem(PROJECT, JSON.stringify(id))
}
