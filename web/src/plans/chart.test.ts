import { describe, expect, it } from 'vitest'
import { clickedRun, passRates, trendOption, type TrendLabels, type TrendPoint } from '@/plans/chart'

const point = (run_id: number, status: string, pass_rate: number | null, wall_s: number | null): TrendPoint => ({
  run_id,
  status,
  pass_rate,
  wall_s,
  counts: {},
  created_at: '2026-01-01T00:00:00Z',
})
const labels: TrendLabels = {
  passRate: 'Pass rate',
  duration: 'Duration',
  run: (id) => `#${id}`,
  status: (s) => s.toUpperCase(),
}

describe('trendOption', () => {
  const points = [point(4, 'passed', 1, 12.345), point(9, 'failed', 2 / 3, 20), point(12, 'error', null, null)]
  const option = trendOption(points, labels) as any

  it('puts one category per run, oldest first', () => {
    expect(option.xAxis.data).toEqual(['#4', '#9', '#12'])
  })

  it('draws the pass rate in percent on the left axis, with a gap where no test ran', () => {
    const line = option.series[0]
    expect(line.type).toBe('line')
    expect(line.yAxisIndex).toBe(0)
    expect(line.data.map((d: { value: number | null }) => d.value)).toEqual([100, 66.7, null])
    expect(option.yAxis[0]).toMatchObject({ min: 0, max: 100 })
  })

  it('colours each point by its run status and names it', () => {
    const colours = option.series[0].data.map((d: { itemStyle: { color: string } }) => d.itemStyle.color)
    expect(colours[0]).not.toBe(colours[1])
    expect(colours[1]).toBe(colours[2])
    expect(option.series[0].data[1].name).toBe('FAILED')
  })

  it('draws the wall time as bars on the right axis', () => {
    const bars = option.series[1]
    expect(bars).toMatchObject({ type: 'bar', yAxisIndex: 1, name: 'Duration' })
    expect(bars.data.map((d: { value: number | null }) => d.value)).toEqual([12.3, 20, null])
  })

  it('knows which run a click is on', () => {
    expect(clickedRun({ data: option.series[1].data[1] })).toBe(9)
    expect(clickedRun({ data: undefined })).toBeNull()
  })
})

describe('passRates', () => {
  it('is empty for no runs', () => {
    expect(passRates([])).toEqual([])
  })
})
