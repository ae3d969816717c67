// The variable dialog's form, and the bodies it sends: a secret keeps its value unless retyped.
import type { Schemas } from '@/api/client'

type Variable = Schemas['VariablePublic']

export interface VariableForm {
  name: string
  value: string
  secret: boolean
  description: string
}

/** The form for a new variable, or for editing `variable` (a secret's value starts empty). */
export function variableForm(variable?: Variable | null): VariableForm {
  if (!variable) return { name: '', value: '', secret: false, description: '' }
  return {
    name: variable.name,
    value: variable.secret ? '' : (variable.value ?? ''),
    secret: variable.secret,
    description: variable.description,
  }
}

/** True when saving `form` keeps the stored value of `original`, a secret left blank. */
export function keepsValue(form: VariableForm, original: Variable | null | undefined): boolean {
  return !!original?.secret && form.value === ''
}

/** The POST body for a new variable. */
export function createBody(form: VariableForm): Schemas['VariableCreate'] {
  return { name: form.name.trim(), value: form.value, secret: form.secret, description: form.description }
}

/** The PATCH body: only what changed; no `value` when a secret's field was left blank. */
export function updateBody(form: VariableForm, original: Variable): Schemas['VariableUpdate'] {
  const body: Schemas['VariableUpdate'] = {}
  const name = form.name.trim()
  if (name !== original.name) body.name = name
  if (form.secret !== original.secret) body.secret = form.secret
  if (form.description !== original.description) body.description = form.description
  if (!keepsValue(form, original) && (original.secret || form.value !== original.value)) body.value = form.value
  return body
}
