import { describe, expect, it } from 'vitest'
import { emptyForm, formToBody, move, notifyToForm, planToForm, type Plan } from '@/plans/form'

const saved: Plan = {
  id: 7,
  name: 'Nightly',
  description: 'everything',
  case_ids: [3, 1, 2],
  environment: 'qa',
  workers: 4,
  dist: 'loadfile',
  retries: 2,
  timeout_s: 600,
  mode: 'staged',
  deadline_s: 3600,
  on_overlap: 'queue',
  trigger: { kind: 'interval', expression: null, seconds: 300, at: null, timezone: 'Europe/Berlin' },
  enabled: false,
  notify: { when: 'change', channel_ids: [4, 2] },
  created_at: '2026-01-01T00:00:00Z',
  updated_at: '2026-01-01T00:00:00Z',
}

describe('planToForm and formToBody', () => {
  it('give back the body of a saved plan', () => {
    expect(formToBody(planToForm(saved))).toEqual({
      name: 'Nightly',
      description: 'everything',
      case_ids: [3, 1, 2],
      environment: 'qa',
      workers: 4,
      dist: 'loadfile',
      retries: 2,
      timeout_s: 600,
      mode: 'staged',
      deadline_s: 3600,
      on_overlap: 'queue',
      enabled: false,
      trigger: saved.trigger,
      notify: { when: 'change', channel_ids: [4, 2] },
    })
  })

  it('send auto workers, no environment, no timeout and no deadline for a normal plan', () => {
    const form = { ...emptyForm('UTC'), name: '  Smoke ', workersAuto: true, timeout_s: 0, deadline_s: 60 }
    expect(formToBody(form)).toMatchObject({
      name: 'Smoke',
      workers: 'auto',
      environment: null,
      timeout_s: null,
      deadline_s: null,
      trigger: { kind: 'none', timezone: 'UTC' },
    })
  })

  it('keep zero workers (one process, serial)', () => {
    expect(formToBody({ ...emptyForm('UTC'), workersAuto: false, workers: 0 }).workers).toBe(0)
  })
})

describe('notify', () => {
  it('starts as on failure, to no channel', () => {
    expect(formToBody(emptyForm('UTC')).notify).toEqual({ when: 'failure', channel_ids: [] })
  })

  it('sends the chosen channels in the order picked, and when', () => {
    const form = emptyForm('UTC')
    form.notify.channel_ids.push(9, 3)
    form.notify.when = 'always'
    expect(formToBody(form).notify).toEqual({ when: 'always', channel_ids: [9, 3] })
  })

  it('does not share the channel list between the form and the body', () => {
    const form = planToForm(saved)
    const body = formToBody(form)
    form.notify.channel_ids.push(11)
    expect(body.notify?.channel_ids).toEqual([4, 2])
    expect(saved.notify.channel_ids).toEqual([4, 2])
  })

  it('reads a missing or unknown rule as on failure', () => {
    expect(notifyToForm(null)).toEqual({ when: 'failure', channel_ids: [] })
    expect(notifyToForm({ when: 'sometimes' as 'always', channel_ids: [1] })).toEqual({ when: 'failure', channel_ids: [1] })
  })
})

describe('move', () => {
  it('moves an item up, down, and to any place', () => {
    expect(move([1, 2, 3], 1, 0)).toEqual([2, 1, 3])
    expect(move([1, 2, 3], 1, 2)).toEqual([1, 3, 2])
    expect(move([1, 2, 3], 0, 2)).toEqual([2, 3, 1])
  })
  it('leaves the list as it is past either end', () => {
    expect(move([1, 2, 3], 0, -1)).toEqual([1, 2, 3])
    expect(move([1, 2, 3], 2, 3)).toEqual([1, 2, 3])
    expect(move([1, 2, 3], 5, 0)).toEqual([1, 2, 3])
  })
})
