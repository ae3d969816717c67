// Asking before a destructive action: one question box, and one way to delete after it.
import { ElMessageBox } from 'element-plus'
import { api } from '@/api/client'
import { showError } from '@/composables/useFormErrors'

/** Asks `message` in a warning box; true when the user answers OK, false on Cancel or close. */
export function confirmed(message: string): Promise<boolean> {
  return ElMessageBox.confirm(message, { type: 'warning' }).then(
    () => true,
    () => false,
  )
}

/** Asks `message`, then DELETEs `path`; true once deleted. A failure is shown, and is false. */
export async function deleteConfirmed(message: string, path: string): Promise<boolean> {
  if (!(await confirmed(message))) return false
  try {
    await api.delete(path)
    return true
  } catch (error) {
    showError(error)
    return false
  }
}
