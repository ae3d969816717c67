// WebSocket streams: a run's events (resumed after the last seq on reconnect) and a
// project's run status changes. The token travels as the first message, not in the URL.
import { session } from '@/session'

export interface RunInfo {
  id: number
  project_id: number
  plan_id: number | null
  title: string
  description: string
  source: string
  triggered_by: string | null
  environment: string | null
  status: string
  collected: number | null
  created_at: string
  started_at: string | null
}

export interface TestEvent {
  event: 'test'
  seq: number
  nodeid: string
  case_id: number | null
  outcome: string
  duration_s: number
  attempt: number
  worker: string
  final: boolean
  flaky: boolean
  message: string
}

/** A stored message about the run's progress: waiting for a worker, a shard run again. */
export interface NoticeEvent {
  event: 'notice'
  seq: number
  level: 'info' | 'warning'
  message: string
}

export type RunEvent =
  | { event: 'run'; seq: number; run: RunInfo }
  | TestEvent
  | { event: 'tick'; seq: number; status: string; elapsed_s: number }
  | { event: 'log'; seq: number; lines: string[] }
  | { event: 'done'; seq: number; status: string; counts: Record<string, number>; wall_s: number | null; error: string | null }
  | { event: 'timeout'; seq: number; timeout_s: number }
  | NoticeEvent

export interface StatusEvent {
  event: 'status'
  run_id: number
  status: string
  title: string
  counts: Record<string, number>
  finished_at: string | null
}

export interface Stream {
  close(): void
}

const STORED = new Set(['run', 'test', 'done', 'timeout', 'notice'])
const RETRY_MS = [500, 1000, 2000, 5000]

function socketUrl(path: string): string {
  const scheme = window.location.protocol === 'https:' ? 'wss' : 'ws'
  return `${scheme}://${window.location.host}${path}`
}

/** Opens a socket that reconnects until closed; `path()` is asked again each time. */
function reconnecting(path: () => string, onMessage: (data: unknown) => boolean | void): Stream {
  let socket: WebSocket | null = null
  let closed = false
  let failures = 0
  const open = () => {
    socket = new WebSocket(socketUrl(path()))
    socket.onopen = () => socket?.send(JSON.stringify({ token: session.token }))
    socket.onmessage = (message) => {
      failures = 0
      if (onMessage(JSON.parse(message.data as string)) === false) stream.close()
    }
    socket.onclose = (event) => {
      if (closed || event.code === 1008) return // closed by us, or refused: no retry
      setTimeout(open, RETRY_MS[Math.min(failures++, RETRY_MS.length - 1)])
    }
  }
  const stream = {
    close() {
      closed = true
      socket?.close()
    },
  }
  open()
  return stream
}

/** Every event of a run after `after`; stops by itself after `done`. */
export function followRun(runId: number, onEvent: (event: RunEvent) => void, after = 0): Stream {
  let last = after
  return reconnecting(
    () => `/ws/runs/${runId}?after=${last}`,
    (data) => {
      const event = data as RunEvent
      // Stored events carry a seq; tick and log are live only and never deduplicated.
      if (STORED.has(event.event) && 'seq' in event) {
        if (event.seq <= last) return
        last = event.seq
      }
      onEvent(event)
      return event.event !== 'done'
    },
  )
}

/** Status changes of every run in a project, for live lists. */
export function followProjectRuns(projectId: number, onEvent: (event: StatusEvent) => void): Stream {
  return reconnecting(
    () => `/ws/projects/${projectId}/runs`,
    (data) => {
      if ((data as StatusEvent).event === 'status') onEvent(data as StatusEvent)
    },
  )
}
