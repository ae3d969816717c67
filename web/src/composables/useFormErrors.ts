// Puts an API error next to the form field it names, or in a message when it names none.
import { reactive } from 'vue'
import { ElMessage } from 'element-plus'
import { ApiError } from '@/api/client'

export function useFormErrors() {
  const errors = reactive<Record<string, string>>({})
  function clear(): void {
    for (const key of Object.keys(errors)) delete errors[key]
  }
  /** Shows `error`; returns true when it was an error the API answered. */
  function capture(error: unknown): boolean {
    clear()
    if (!(error instanceof ApiError)) {
      ElMessage.error(String(error))
      return false
    }
    const field = error.field?.split('.').pop()
    if (field) errors[field] = error.message
    else ElMessage.error(error.message)
    return true
  }
  return { errors, clear, capture }
}

/** A message for any failure, for actions with no form. */
export function showError(error: unknown): void {
  ElMessage.error(error instanceof ApiError ? error.message : String(error))
}
