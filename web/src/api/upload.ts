// Form uploads with progress: XMLHttpRequest reports upload progress, fetch does not.
// Same contract as api.upload: the bearer token, the JSON answer, errors as ApiError.
import { ApiError, url } from '@/api/client'
import { session, signOut } from '@/session'

/** Status 0: the request never got an answer (connection closed, or stopped). */
export const NETWORK = 'network'
export const ABORTED = 'aborted'

export interface UploadOptions {
  /** Called with 0–100 as the body goes out. */
  onProgress?: (percent: number) => void
  signal?: AbortSignal
  /** For tests: makes the request object. */
  createRequest?: () => XMLHttpRequest
}

/** Whole percent of an upload, never over 100; 0 while the size is unknown. */
export function percent(loaded: number, total: number): number {
  if (!total || total <= 0) return 0
  return Math.min(100, Math.floor((loaded / total) * 100))
}

/** The answer's JSON for a 2xx status, else the ApiError it describes. */
export function readAnswer<T>(status: number, text: string, statusText = ''): T | ApiError {
  let body: { error?: string; message?: string; field?: string | null } | undefined
  try {
    body = text ? JSON.parse(text) : undefined
  } catch {
    body = undefined
  }
  if (status >= 200 && status < 300) return body as T
  const message = body?.message ?? (statusText || `HTTP ${status}`)
  return new ApiError(status, body?.error ?? 'error', message, body?.field ?? null)
}

/** POSTs `form` to the API path and resolves with the JSON answer. */
export function uploadWithProgress<T>(path: string, form: FormData, options: UploadOptions = {}): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const request = options.createRequest?.() ?? new XMLHttpRequest()
    request.open('POST', url(path))
    if (session.token) request.setRequestHeader('Authorization', `Bearer ${session.token}`)
    request.upload.onprogress = (event) => {
      if (event.lengthComputable) options.onProgress?.(percent(event.loaded, event.total))
    }
    request.onload = () => {
      const answer = readAnswer<T>(request.status, request.responseText, request.statusText)
      if (!(answer instanceof ApiError)) return resolve(answer)
      if (answer.status === 401 && session.token) signOut()
      reject(answer)
    }
    request.onerror = () => reject(new ApiError(0, NETWORK, 'the connection closed before an answer'))
    request.onabort = () => reject(new ApiError(0, ABORTED, 'the upload was stopped'))
    if (options.signal?.aborted) return reject(new ApiError(0, ABORTED, 'the upload was stopped'))
    options.signal?.addEventListener('abort', () => request.abort(), { once: true })
    request.send(form)
  })
}
