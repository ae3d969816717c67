import { describe, expect, it } from 'vitest'
import { apiQuery, filterRows, filtersFromQuery, filtersToQuery, matchesFilters, matchesText } from './filters'
import type { ResultRow } from './state'

const row = (nodeid: string, outcome: string): ResultRow => ({
  key: nodeid, nodeid, outcome, duration_s: 0, attempt: 1, worker: 'main', final: true, flaky: false, message: '',
})

describe('result filters', () => {
  const rows = [row('tests/test_api.py::test_login', 'passed'), row('tests/test_api.py::test_logout', 'failed'),
    row('tests/test_ui.py::test_login', 'error'), row('tests/test_ui.py::test_menu', 'skipped')]

  it('filters by outcome, problems meaning failed and error', () => {
    expect(filterRows(rows, 'all', '')).toBe(rows)
    expect(filterRows(rows, 'failed', '').map((r) => r.outcome)).toEqual(['failed'])
    expect(filterRows(rows, 'problems', '').map((r) => r.outcome)).toEqual(['failed', 'error'])
  })

  it('matches every word of the text in the node id, ignoring case', () => {
    expect(matchesText('tests/test_ui.py::test_Login', 'ui LOGIN')).toBe(true)
    expect(matchesText('tests/test_ui.py::test_login', 'api login')).toBe(false)
    expect(filterRows(rows, 'problems', 'login').map((r) => r.nodeid)).toEqual(['tests/test_ui.py::test_login'])
    expect(filterRows(rows, 'all', '  ')).toBe(rows)
  })
})

describe('run history filters', () => {
  it('reads the URL, ignoring what it does not know', () => {
    expect(filtersFromQuery({ status: 'failed', source: 'schedule', plan_id: '3', page: '2' }))
      .toEqual({ status: 'failed', source: 'schedule', plan_id: 3, page: 2 })
    expect(filtersFromQuery({ status: 'bogus', source: ['cli'], plan_id: 'x', page: '-1' }))
      .toEqual({ status: '', source: 'cli', plan_id: null, page: 1 })
  })

  it('writes only what is set, to the URL and to the API', () => {
    const filters = { status: 'running', source: '', plan_id: null, page: 1 }
    expect(filtersToQuery(filters)).toEqual({ status: 'running' })
    expect(filtersFromQuery(filtersToQuery({ ...filters, plan_id: 4, page: 3 }) as never)).toEqual({ ...filters, plan_id: 4, page: 3 })
    expect(apiQuery(filters, 50)).toEqual({ status: 'running', source: undefined, plan_id: undefined, page: 1, per_page: 50 })
  })

  it('says whether a run belongs in the filtered list', () => {
    const run = { status: 'queued', source: 'manual', plan_id: 2 }
    expect(matchesFilters(run, { status: '', source: '', plan_id: null, page: 1 })).toBe(true)
    expect(matchesFilters(run, { status: 'queued', source: 'manual', plan_id: 2, page: 1 })).toBe(true)
    expect(matchesFilters(run, { status: 'failed', source: '', plan_id: null, page: 1 })).toBe(false)
    expect(matchesFilters(run, { status: '', source: 'cli', plan_id: null, page: 1 })).toBe(false)
    expect(matchesFilters(run, { status: '', source: '', plan_id: 5, page: 1 })).toBe(false)
  })
})
