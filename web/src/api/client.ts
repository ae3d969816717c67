// The one HTTP client of the UI: JSON in and out, the bearer token, errors as ApiError.
import type { components } from './schema'
import { session, signOut } from '@/session'

export type Schemas = components['schemas']
export type Query = Record<string, string | number | boolean | undefined | null | (string | number)[]>

/** An error the API answered: `{error, message, field}` with its HTTP status. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field: string | null = null,
    /** The whole error body, for extras such as a syntax error's `line`. */
    readonly body: Record<string, unknown> = {},
  ) {
    super(message)
  }
}

export interface Page<T> {
  items: T[]
  total: number
  page: number
  per_page: number
}

export function url(path: string, query?: Query): string {
  const params = new URLSearchParams()
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value === undefined || value === null || value === '') continue
    for (const one of Array.isArray(value) ? value : [value]) params.append(key, String(one))
  }
  const qs = params.toString()
  return `/api/v1${path}${qs ? `?${qs}` : ''}`
}

async function send(method: string, path: string, body?: unknown, query?: Query): Promise<Response> {
  const headers: Record<string, string> = {}
  if (session.token) headers.Authorization = `Bearer ${session.token}`
  let payload: BodyInit | undefined
  if (body instanceof FormData) payload = body
  else if (body !== undefined) {
    headers['Content-Type'] = 'application/json'
    payload = JSON.stringify(body)
  }
  const response = await fetch(url(path, query), { method, headers, body: payload })
  if (response.ok) return response
  const error = await response.json().catch(() => ({}))
  if (response.status === 401 && session.token) signOut()
  throw new ApiError(
    response.status,
    error.error ?? 'error',
    error.message ?? response.statusText,
    error.field ?? null,
    error,
  )
}

async function json<T>(method: string, path: string, body?: unknown, query?: Query): Promise<T> {
  const response = await send(method, path, body, query)
  return response.status === 204 ? (undefined as T) : ((await response.json()) as T)
}

export const api = {
  get: <T>(path: string, query?: Query) => json<T>('GET', path, undefined, query),
  post: <T>(path: string, body?: unknown, query?: Query) => json<T>('POST', path, body ?? {}, query),
  put: <T>(path: string, body?: unknown) => json<T>('PUT', path, body ?? {}),
  patch: <T>(path: string, body?: unknown) => json<T>('PATCH', path, body ?? {}),
  delete: (path: string) => json<void>('DELETE', path),
  upload: <T>(path: string, form: FormData) => json<T>('POST', path, form),
}

/** The file name of a Content-Disposition header, the UTF-8 `filename*` first. */
export function fileName(disposition: string): string | null {
  const utf8 = /filename\*=UTF-8''([^;]+)/i.exec(disposition)?.[1]
  if (utf8) {
    try {
      return decodeURIComponent(utf8)
    } catch {
      // a malformed escape: fall back to the plain name
    }
  }
  return /filename="?([^";]+)"?/i.exec(disposition)?.[1] ?? null
}

/** Fetches a file with the token (a plain link cannot send it) and saves it. */
export async function download(path: string, query?: Query, fallbackName = 'download'): Promise<void> {
  const response = await send('GET', path, undefined, query)
  const name = fileName(response.headers.get('Content-Disposition') ?? '') ?? fallbackName
  const href = URL.createObjectURL(await response.blob())
  const link = document.createElement('a')
  link.href = href
  link.download = name
  document.body.appendChild(link)
  link.click()
  link.remove()
  setTimeout(() => URL.revokeObjectURL(href), 10_000)
}

/** Fetches a text artifact (a log) with the token. */
export async function fetchText(path: string): Promise<string> {
  return (await send('GET', path)).text()
}
