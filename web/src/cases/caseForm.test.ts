import { describe, expect, it } from 'vitest'
import type { Schemas } from '@/api/client'
import { closestNames, formOf, isDirty, looksLikeCasePath, rememberEnvironment, rememberedEnvironment, saveBody } from './caseForm'

const saved = {
  id: 1, name: 'Login', path: 'tests/test_login.py', description: '', code: 'def test_a():\n    pass\n',
  tags: ['smoke', 'auth'], version: 3,
} as Schemas['CasePublic']

describe('isDirty', () => {
  it('is clean for the saved case, whatever the order of its tags', () => {
    const form = formOf(saved)
    expect(isDirty(form, formOf(saved))).toBe(false)
    form.tags = ['auth', 'smoke']
    expect(isDirty(form, formOf(saved))).toBe(false)
  })
  it('sees any field change', () => {
    for (const change of [{ name: 'x' }, { path: 'tests/test_b.py' }, { code: '' }, { description: 'd' }, { tags: ['smoke'] }]) {
      expect(isDirty({ ...formOf(saved), ...change }, formOf(saved))).toBe(true)
    }
  })
})

describe('saveBody', () => {
  it('sends the version edited and the tags trimmed', () => {
    const body = saveBody({ ...formOf(saved), tags: [' smoke ', ''] }, 3)
    expect(body).toMatchObject({ name: 'Login', path: 'tests/test_login.py', tags: ['smoke'], version: 3 })
  })
  it('leaves out an empty path and the version of a new case', () => {
    const body = saveBody({ ...formOf(null), name: 'New', path: '  ' }, null)
    expect(body).not.toHaveProperty('path')
    expect(body).not.toHaveProperty('version')
  })
})

describe('looksLikeCasePath', () => {
  it('accepts test modules and an empty path', () => {
    for (const path of ['', 'tests/test_a.py', 'tests/api/v2/test_login.py', 'test_a.py', 'tests/login_test.py']) {
      expect(looksLikeCasePath(path), path).toBe(true)
    }
  })
  it('refuses what pytest would not collect', () => {
    for (const path of ['tests/login.py', 'tests/test_a.txt', '../test_a.py', '/test_a.py', 'tests/test-a.py', 'tests/conftest.py']) {
      expect(looksLikeCasePath(path), path).toBe(false)
    }
  })
})

describe('remembered environment', () => {
  it('is kept per project', () => {
    rememberEnvironment(1, 'qa')
    rememberEnvironment(2, 'prod')
    expect(rememberedEnvironment(1)).toBe('qa')
    expect(rememberedEnvironment(2)).toBe('prod')
    expect(rememberedEnvironment(3)).toBeNull()
  })
})

describe('closestNames', () => {
  it('suggests names a typo away, best first', () => {
    const available = ['base_url', 'api_client', 'tmp_path', 'monkeypatch', 'env_vars']
    expect(closestNames('base_ur', available)).toEqual(['base_url'])
    expect(closestNames('api_cleint', available)).toEqual(['api_client'])
    expect(closestNames('database', available)).toEqual([])
  })
})
