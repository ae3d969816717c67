import { describe, expect, it } from 'vitest'
import { createBody, keepsValue, updateBody, variableForm } from './variableForm'

const plain = { id: 1, name: 'BASE_URL', value: 'http://qa', secret: false, description: '' }
const secret = { id: 2, name: 'TOKEN', value: '********', secret: true, description: 'api token' }

describe('variableForm', () => {
  it('starts empty for a new variable', () => {
    expect(variableForm()).toEqual({ name: '', value: '', secret: false, description: '' })
  })
  it('never puts the mask of a secret into the value field', () => {
    expect(variableForm(secret).value).toBe('')
    expect(variableForm(plain).value).toBe('http://qa')
  })
})

describe('updateBody', () => {
  it('leaves a secret value out when the field is blank, so the stored value is kept', () => {
    const form = { ...variableForm(secret), description: 'new' }
    expect(keepsValue(form, secret)).toBe(true)
    expect(updateBody(form, secret)).toEqual({ description: 'new' })
  })
  it('sends a retyped secret value', () => {
    expect(updateBody({ ...variableForm(secret), value: 's3cret' }, secret)).toEqual({ value: 's3cret' })
  })
  it('keeps the value when a secret becomes plain without a new one', () => {
    expect(updateBody({ ...variableForm(secret), secret: false }, secret)).toEqual({ secret: false })
  })
  it('sends only what changed for a plain variable, including an emptied value', () => {
    expect(updateBody(variableForm(plain), plain)).toEqual({})
    expect(updateBody({ ...variableForm(plain), name: ' HOST ' }, plain)).toEqual({ name: 'HOST' })
    expect(updateBody({ ...variableForm(plain), value: '' }, plain)).toEqual({ value: '' })
    expect(keepsValue({ ...variableForm(plain), value: '' }, plain)).toBe(false)
  })
  it('turns a plain variable secret without resending its value', () => {
    expect(updateBody({ ...variableForm(plain), secret: true }, plain)).toEqual({ secret: true })
  })
})

describe('createBody', () => {
  it('trims the name and keeps the value as typed', () => {
    expect(createBody({ name: ' A ', value: ' v ', secret: true, description: '' })).toEqual({
      name: 'A',
      value: ' v ',
      secret: true,
      description: '',
    })
  })
})
