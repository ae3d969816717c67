import { afterEach, describe, expect, it } from 'vitest'
import { ApiError } from '@/api/client'
import { ABORTED, NETWORK, percent, readAnswer, uploadWithProgress } from '@/api/upload'
import { session } from '@/session'

// Stands in for the browser's XMLHttpRequest: records what was sent, answers on demand.
class FakeRequest {
  method = ''
  target = ''
  headers: Record<string, string> = {}
  body: unknown = null
  status = 0
  statusText = ''
  responseText = ''
  upload: { onprogress: ((event: ProgressEvent) => void) | null } = { onprogress: null }
  onload: (() => void) | null = null
  onerror: (() => void) | null = null
  onabort: (() => void) | null = null
  open(method: string, target: string): void {
    this.method = method
    this.target = target
  }
  setRequestHeader(name: string, value: string): void {
    this.headers[name] = value
  }
  send(body: unknown): void {
    this.body = body
  }
  abort(): void {
    this.onabort?.()
  }
  progress(loaded: number, total: number, lengthComputable = true): void {
    this.upload.onprogress?.({ loaded, total, lengthComputable } as ProgressEvent)
  }
  answer(status: number, text: string, statusText = ''): void {
    Object.assign(this, { status, responseText: text, statusText })
    this.onload?.()
  }
}

function start(options: { signal?: AbortSignal } = {}) {
  const request = new FakeRequest()
  const seen: number[] = []
  const form = new FormData()
  form.append('name', 'shop')
  const done = uploadWithProgress<{ id: number }>('/projects/import', form, {
    ...options,
    onProgress: (p) => seen.push(p),
    createRequest: () => request as unknown as XMLHttpRequest,
  })
  return { request, seen, form, done }
}

afterEach(() => {
  session.token = null
})

describe('percent', () => {
  it('is a whole number from 0 to 100', () => {
    expect(percent(0, 200)).toBe(0)
    expect(percent(199, 200)).toBe(99)
    expect(percent(200, 200)).toBe(100)
    expect(percent(300, 200)).toBe(100)
  })
  it('is 0 while the size is unknown', () => {
    expect(percent(10, 0)).toBe(0)
  })
})

describe('readAnswer', () => {
  it('gives the JSON of a success', () => {
    expect(readAnswer(201, '{"id": 7}')).toEqual({ id: 7 })
  })
  it("turns the API's error body into an ApiError", () => {
    const error = readAnswer(400, '{"error":"bad_request","message":"not a zip archive","field":"file"}')
    expect(error).toBeInstanceOf(ApiError)
    expect(error).toMatchObject({ status: 400, code: 'bad_request', message: 'not a zip archive', field: 'file' })
  })
  it('keeps the status of an answer that is not JSON (a proxy page)', () => {
    expect(readAnswer(413, '<html>too big</html>', 'Payload Too Large')).toMatchObject({
      status: 413,
      code: 'error',
      message: 'Payload Too Large',
      field: null,
    })
    expect(readAnswer(502, '')).toMatchObject({ status: 502, message: 'HTTP 502' })
  })
})

describe('uploadWithProgress', () => {
  it('posts the form with the token and reports progress', async () => {
    session.token = 'ty_secret'
    const { request, seen, form, done } = start()
    expect(request.method).toBe('POST')
    expect(request.target).toBe('/api/v1/projects/import')
    expect(request.headers.Authorization).toBe('Bearer ty_secret')
    expect(request.body).toBe(form)
    request.progress(50, 200)
    request.progress(7, 0, false)
    request.progress(200, 200)
    request.answer(201, '{"id": 3}')
    await expect(done).resolves.toEqual({ id: 3 })
    expect(seen).toEqual([25, 100])
  })

  it('sends no Authorization header when signed out', () => {
    const { request } = start()
    expect(request.headers).toEqual({})
  })

  it('rejects with the API error', async () => {
    const { request, done } = start()
    request.answer(413, '{"error":"too_large","message":"request body is over 10 bytes","field":null}')
    await expect(done).rejects.toMatchObject({ status: 413, code: 'too_large' })
  })

  it('rejects with a network error when the connection drops', async () => {
    const { request, done } = start()
    request.onerror?.()
    await expect(done).rejects.toMatchObject({ status: 0, code: NETWORK })
  })

  it('stops when its signal aborts, even before it starts', async () => {
    const controller = new AbortController()
    const { done } = start({ signal: controller.signal })
    controller.abort()
    await expect(done).rejects.toMatchObject({ status: 0, code: ABORTED })
    const early = start({ signal: AbortSignal.abort() })
    await expect(early.done).rejects.toMatchObject({ code: ABORTED })
    expect(early.request.body).toBeNull()
  })
})
