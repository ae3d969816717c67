// Filters: of a run's results (outcome, text on the node id) and of the run history
// (status, source, plan, page), kept in the page's URL.
import type { LocationQuery, LocationQueryRaw } from 'vue-router'
import type { Query } from '@/api/client'
import type { ResultRow } from './state'

/** `all`, `problems` (failed and error), or one outcome. */
export type OutcomeFilter = string
export const PROBLEMS = new Set(['failed', 'error'])

export function matchesOutcome(outcome: string, filter: OutcomeFilter): boolean {
  if (filter === 'all') return true
  if (filter === 'problems') return PROBLEMS.has(outcome)
  return outcome === filter
}

/** Every word of `text` appears in the node id, ignoring case. */
export function matchesText(nodeid: string, text: string): boolean {
  const words = text.toLowerCase().split(/\s+/).filter(Boolean)
  if (words.length === 0) return true
  const id = nodeid.toLowerCase()
  return words.every((word) => id.includes(word))
}

export function filterRows(rows: ResultRow[], outcome: OutcomeFilter, text: string): ResultRow[] {
  if (outcome === 'all' && !text.trim()) return rows
  return rows.filter((row) => matchesOutcome(row.outcome, outcome) && matchesText(row.nodeid, text))
}

export const SOURCES = ['manual', 'api', 'cli', 'schedule', 'watch'] as const
export const STATUSES = ['queued', 'running', 'passed', 'failed', 'error', 'cancelled', 'timed_out', 'interrupted'] as const

export interface RunFilters {
  status: string
  source: string
  plan_id: number | null
  page: number
}

function one(value: LocationQuery[string]): string {
  return (Array.isArray(value) ? value[0] : value) ?? ''
}

/** The run history's filters from the URL; unknown values are ignored. */
export function filtersFromQuery(query: LocationQuery): RunFilters {
  const status = one(query.status)
  const source = one(query.source)
  const plan = Number(one(query.plan_id))
  const page = Number(one(query.page))
  return {
    status: (STATUSES as readonly string[]).includes(status) ? status : '',
    source: (SOURCES as readonly string[]).includes(source) ? source : '',
    plan_id: Number.isInteger(plan) && plan > 0 ? plan : null,
    page: Number.isInteger(page) && page > 1 ? page : 1,
  }
}

/** The URL query for `filters`: only what is set. */
export function filtersToQuery(filters: RunFilters): LocationQueryRaw {
  const query: LocationQueryRaw = {}
  if (filters.status) query.status = filters.status
  if (filters.source) query.source = filters.source
  if (filters.plan_id) query.plan_id = String(filters.plan_id)
  if (filters.page > 1) query.page = String(filters.page)
  return query
}

/** The query of `GET /projects/{pid}/runs`. */
export function apiQuery(filters: RunFilters, perPage: number): Query {
  return {
    status: filters.status || undefined,
    source: filters.source || undefined,
    plan_id: filters.plan_id ?? undefined,
    page: filters.page,
    per_page: perPage,
  }
}

/** Whether a run belongs in the list these filters show. */
export function matchesFilters(
  run: { status: string; source: string; plan_id: number | null },
  filters: RunFilters,
): boolean {
  if (filters.status && run.status !== filters.status) return false
  if (filters.source && run.source !== filters.source) return false
  return !filters.plan_id || run.plan_id === filters.plan_id
}
