// The plan editor's form, from a saved plan and back to the plan body the API takes.
import type { Schemas } from '@/api/client'
import { emptyTrigger, fromTrigger, toTrigger, type TriggerForm } from '@/plans/trigger'

export type Plan = Schemas['PlanPublic']
export type PlanBody = Schemas['PlanCreate']
export type Dist = NonNullable<PlanBody['dist']>
export type Notify = Schemas['Notify']
export type NotifyWhen = Notify['when']

/** xdist's modes and testyard's `duration`, as the API takes them. */
export const DISTS: Dist[] = ['auto', 'load', 'loadscope', 'loadfile', 'loadgroup', 'worksteal', 'each', 'duration', 'no']
/** When a finished run notifies the plan's channels. */
export const NOTIFY_WHENS: NotifyWhen[] = ['failure', 'always', 'success', 'change']

export interface PlanForm {
  name: string
  description: string
  case_ids: number[]
  environment: string
  workersAuto: boolean
  workers: number
  dist: Dist
  retries: number
  timeout_s: number | null
  mode: 'normal' | 'staged'
  deadline_s: number | null
  on_overlap: 'skip' | 'queue'
  enabled: boolean
  trigger: TriggerForm
  notify: { when: NotifyWhen; channel_ids: number[] }
}

export function emptyForm(zone?: string): PlanForm {
  return {
    name: '',
    description: '',
    case_ids: [],
    environment: '',
    workersAuto: true,
    workers: 2,
    dist: 'auto',
    retries: 0,
    timeout_s: null,
    mode: 'normal',
    deadline_s: null,
    on_overlap: 'skip',
    enabled: true,
    trigger: emptyTrigger(zone),
    notify: { when: 'failure', channel_ids: [] },
  }
}

export function planToForm(plan: Plan, zone?: string): PlanForm {
  const auto = plan.workers === 'auto'
  return {
    name: plan.name,
    description: plan.description,
    case_ids: [...plan.case_ids],
    environment: plan.environment ?? '',
    workersAuto: auto,
    workers: auto ? 2 : (plan.workers as number),
    dist: (DISTS as string[]).includes(plan.dist) ? (plan.dist as Dist) : 'auto',
    retries: plan.retries,
    timeout_s: plan.timeout_s,
    mode: plan.mode === 'staged' ? 'staged' : 'normal',
    deadline_s: plan.deadline_s,
    on_overlap: plan.on_overlap === 'queue' ? 'queue' : 'skip',
    enabled: plan.enabled,
    trigger: fromTrigger(plan.trigger, zone),
    notify: notifyToForm(plan.notify),
  }
}

/** The whole plan body (a PATCH with it replaces the plan's cases, in this order). */
export function formToBody(form: PlanForm): PlanBody {
  return {
    name: form.name.trim(),
    description: form.description,
    case_ids: [...form.case_ids],
    environment: form.environment || null,
    workers: form.workersAuto ? 'auto' : form.workers,
    dist: form.dist,
    retries: form.retries,
    timeout_s: form.timeout_s || null,
    mode: form.mode,
    deadline_s: form.mode === 'staged' ? form.deadline_s || null : null,
    on_overlap: form.on_overlap,
    enabled: form.enabled,
    trigger: toTrigger(form.trigger),
    notify: { when: form.notify.when, channel_ids: [...form.notify.channel_ids] },
  }
}

/** A saved plan's notify rule; an unknown `when` reads as the default, on failure. */
export function notifyToForm(notify: Notify | null | undefined): PlanForm['notify'] {
  const when = notify?.when
  return {
    when: when && (NOTIFY_WHENS as string[]).includes(when) ? when : 'failure',
    channel_ids: [...(notify?.channel_ids ?? [])],
  }
}

/** `list` with the item at `from` moved to `to` (both clamped to the list). */
export function move<T>(list: readonly T[], from: number, to: number): T[] {
  const copy = [...list]
  if (from < 0 || from >= copy.length) return copy
  const [item] = copy.splice(from, 1)
  copy.splice(Math.max(0, Math.min(to, copy.length)), 0, item)
  return copy
}

/** Fields the editor shows an error next to; errors on other fields go to a message. */
export const FORM_FIELDS = [
  'name', 'description', 'case_ids', 'environment', 'workers', 'dist', 'retries', 'timeout_s',
  'mode', 'deadline_s', 'on_overlap', 'enabled', 'kind', 'expression', 'seconds', 'at', 'timezone',
  'when', 'channel_ids',
]
