import { describe, expect, it } from 'vitest'
import { definedIn, fixturesInCode, planLines } from './fixturePlan'

describe('fixturesInCode', () => {
  it('finds decorated fixtures, renamed ones under their new name', () => {
    const code = [
      'import pytest',
      '@pytest.fixture',
      'def user():',
      '    return 1',
      '',
      '@pytest.fixture(scope="module", name="db")',
      '@other',
      'async def make_db():',
      '    pass',
      '',
      'def test_x(user, db):',
      '    pass',
      'class TestA:',
      '    @fixture(autouse=True)',
      '    def inside(self):',
      '        pass',
    ].join('\n')
    expect(fixturesInCode(code)).toEqual(['user', 'db', 'inside'])
  })

  it('finds none in plain tests', () => {
    expect(fixturesInCode('def test_a():\n    pass\n')).toEqual([])
  })
})

describe('definedIn', () => {
  const modules = [
    { path: 'conftest.py', fixtures: ['db', 'user', 'token'] },
    { path: 'tests/api/conftest.py', fixtures: ['user'] },
    { path: 'tests/web/conftest.py', fixtures: ['token'] },
    { path: 'fixtures/http.py', fixtures: ['client', 'db'] },
  ]
  const at = (name: string, own: string[] = []) => definedIn(name, 'tests/api/test_login.py', own, modules)

  it('prefers the case, then the closest visible conftest, then plugins', () => {
    expect(at('user', ['user'])).toBe('tests/api/test_login.py')
    expect(at('user')).toBe('tests/api/conftest.py')
    expect(at('token')).toBe('conftest.py') // tests/web is not above the case
    expect(at('db')).toBe('conftest.py')
    expect(at('client')).toBe('fixtures/http.py')
  })

  it('answers null for what pytest or a plugin provides', () => {
    expect(at('tmp_path')).toBeNull()
  })

  it('does not take a sibling directory with a common prefix', () => {
    const sibling = [{ path: 'tests/ap/conftest.py', fixtures: ['x'] }]
    expect(definedIn('x', 'tests/api/test_a.py', [], sibling)).toBeNull()
  })
})

describe('planLines', () => {
  it('puts setup, the test and teardown in order, indented by the scopes used', () => {
    const lines = planLines(
      {
        nodeid: 'tests/test_a.py::test_x',
        setup: [
          { name: 'db', scope: 'session', autouse: false, requests: [] },
          { name: 'user', scope: 'function', autouse: true, requests: ['db'] },
        ],
        teardown: [
          { name: 'user', scope: 'function' },
          { name: 'db', scope: 'session' },
        ],
      },
      (name) => (name === 'db' ? 'conftest.py' : null),
    )
    expect(lines.map((l) => [l.kind, l.name, l.depth, l.module])).toEqual([
      ['setup', 'db', 0, 'conftest.py'],
      ['setup', 'user', 1, null],
      ['test', 'test_x', 2, null],
      ['teardown', 'user', 1, null],
      ['teardown', 'db', 0, 'conftest.py'],
    ])
    expect(lines[1].autouse).toBe(true)
    expect(lines[1].requests).toEqual(['db'])
  })
})
