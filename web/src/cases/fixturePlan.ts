// Turns a fixture plan (pytest's --setup-plan per test) into readable lines, and says
// which module defines each fixture, as pytest would pick it for the case's path.

export interface PlanStep {
  name: string
  scope: string
  autouse?: boolean
  requests?: string[]
}

export interface PlannedTest {
  nodeid: string
  setup: PlanStep[]
  teardown: PlanStep[]
}

export interface ModuleFixtures {
  path: string
  fixtures: string[]
}

export interface PlanLine {
  kind: 'setup' | 'test' | 'teardown'
  name: string
  scope: string
  depth: number
  autouse: boolean
  requests: string[]
  /** The module path that defines it, or null for pytest's and plugins' own. */
  module: string | null
}

export const SCOPES = ['session', 'package', 'module', 'class', 'function']

/** The fixtures a test module defines itself: `@pytest.fixture` (or `@fixture`) functions,
 * under the name given with `name=` when there is one. */
export function fixturesInCode(code: string): string[] {
  const found: string[] = []
  const pattern = /^[ \t]*@(?:pytest\.)?fixture\b([^\n]*)\n(?:[ \t]*@[^\n]*\n)*[ \t]*(?:async[ \t]+)?def[ \t]+(\w+)/gm
  for (const match of code.matchAll(pattern)) {
    const renamed = /\bname\s*=\s*["']([^"']+)["']/.exec(match[1])
    found.push(renamed ? renamed[1] : match[2])
  }
  return found
}

function conftestDir(path: string): string | null {
  if (path === 'conftest.py') return ''
  return path.endsWith('/conftest.py') ? path.slice(0, -'/conftest.py'.length) : null
}

/** Where pytest finds `name` for a case at `casePath`: the case itself, then the closest
 * conftest.py at or above it, then plugin modules; null when none defines it. */
export function definedIn(name: string, casePath: string, caseFixtures: string[], modules: ModuleFixtures[]): string | null {
  if (caseFixtures.includes(name)) return casePath
  let best: { path: string; depth: number } | null = null
  let plugin: string | null = null
  for (const module of modules) {
    if (!module.fixtures.includes(name)) continue
    const dir = conftestDir(module.path)
    if (dir === null) {
      plugin ??= module.path
      continue
    }
    if (dir !== '' && !casePath.startsWith(`${dir}/`)) continue
    const depth = dir === '' ? 0 : dir.split('/').length
    if (!best || depth > best.depth) best = { path: module.path, depth }
  }
  return best?.path ?? plugin
}

/** Setup lines, the test, then teardown lines, indented by the scopes this test uses. */
export function planLines(test: PlannedTest, where: (name: string) => string | null): PlanLine[] {
  const used = SCOPES.filter((s) => [...test.setup, ...test.teardown].some((step) => step.scope === s))
  const depthOf = (scope: string) => Math.max(0, used.indexOf(scope))
  const line = (kind: 'setup' | 'teardown', step: PlanStep): PlanLine => ({
    kind,
    name: step.name,
    scope: step.scope,
    depth: depthOf(step.scope),
    autouse: !!step.autouse,
    requests: step.requests ?? [],
    module: where(step.name),
  })
  const name = test.nodeid.includes('::') ? test.nodeid.slice(test.nodeid.indexOf('::') + 2) : test.nodeid
  return [
    ...test.setup.map((step) => line('setup', step)),
    { kind: 'test', name, scope: 'function', depth: used.length, autouse: false, requests: [], module: null },
    ...test.teardown.map((step) => line('teardown', step)),
  ]
}
