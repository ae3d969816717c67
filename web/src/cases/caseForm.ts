// The case editor's form: what it holds, when it differs from the saved case, what a
// save sends, and whether a path looks like one pytest collects.
import type { Schemas } from '@/api/client'

export interface CaseForm {
  name: string
  path: string
  description: string
  tags: string[]
  code: string
}

export const NEW_CASE_CODE = 'def test_example():\n    assert True\n'

export function formOf(saved: Schemas['CasePublic'] | null): CaseForm {
  if (!saved) return { name: '', path: '', description: '', tags: [], code: NEW_CASE_CODE }
  return { name: saved.name, path: saved.path, description: saved.description, tags: [...saved.tags], code: saved.code }
}

export function isDirty(form: CaseForm, saved: CaseForm): boolean {
  return (
    form.name !== saved.name ||
    form.path !== saved.path ||
    form.description !== saved.description ||
    form.code !== saved.code ||
    [...form.tags].sort().join('\n') !== [...saved.tags].sort().join('\n')
  )
}

/** The body of a save: a new case without a path lets the server derive it; an update
 * carries the version it was edited from. */
export function saveBody(form: CaseForm, version: number | null): Record<string, unknown> {
  const body: Record<string, unknown> = {
    name: form.name,
    description: form.description,
    tags: form.tags.map((tag) => tag.trim()).filter(Boolean),
    code: form.code,
  }
  if (form.path.trim()) body.path = form.path.trim()
  if (version !== null) body.version = version
  return body
}

const CASE_PATH = /^([A-Za-z_][A-Za-z0-9_]*\/)*(test_\w*|\w+_test)\.py$/

/** True when `path` looks like tests/.../test_x.py; an empty path is fine (derived). */
export function looksLikeCasePath(path: string): boolean {
  return path.trim() === '' || CASE_PATH.test(path.trim())
}

const ENV_KEY = 'testyard.caseEnvironment'

/** The environment last used to run cases in a project, to preselect it. */
export function rememberedEnvironment(pid: number): string | null {
  try {
    return (JSON.parse(localStorage.getItem(ENV_KEY) ?? '{}') as Record<string, string>)[pid] ?? null
  } catch {
    return null
  }
}

export function rememberEnvironment(pid: number, name: string | null): void {
  let all: Record<string, string | null> = {}
  try {
    all = JSON.parse(localStorage.getItem(ENV_KEY) ?? '{}') as Record<string, string | null>
  } catch {
    all = {}
  }
  all[pid] = name
  localStorage.setItem(ENV_KEY, JSON.stringify(all))
}

function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1))
    }
    previous = current
  }
  return previous[b.length]
}

/** The available fixture names closest to a misspelt one, best first (at most three). */
export function closestNames(name: string, available: string[]): string[] {
  const limit = Math.max(2, Math.floor(name.length / 3))
  return available
    .map((candidate) => ({ candidate, d: distance(name, candidate) }))
    .filter(({ d }) => d <= limit)
    .sort((a, b) => a.d - b.d || a.candidate.localeCompare(b.candidate))
    .slice(0, 3)
    .map(({ candidate }) => candidate)
}
