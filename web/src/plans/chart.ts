// The plan dashboard's chart: pass rate (line, left axis) and wall time (bars, right axis)
// per finished run, oldest first; a point's colour is its run's status.
import type { EChartsCoreOption } from 'echarts/core'
import type { Schemas } from '@/api/client'

export type TrendPoint = Schemas['TrendPoint']

export interface TrendLabels {
  passRate: string
  duration: string
  run: (id: number) => string
  status: (status: string) => string
}

const STATUS_COLOURS: Record<string, string> = {
  passed: '#67c23a',
  failed: '#f56c6c',
  error: '#f56c6c',
  timed_out: '#f56c6c',
  cancelled: '#e6a23c',
  interrupted: '#e6a23c',
}
const LINE = '#409eff'
const BARS = '#c0c4cc'

const round1 = (n: number) => Math.round(n * 10) / 10

/** Pass rate in percent, one decimal; null where no test ran (a gap in the line). */
export function passRates(points: TrendPoint[]): (number | null)[] {
  return points.map((p) => (p.pass_rate === null ? null : round1(p.pass_rate * 100)))
}

export function trendOption(points: TrendPoint[], labels: TrendLabels): EChartsCoreOption {
  const rates = passRates(points)
  return {
    animation: false,
    tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
    legend: { data: [labels.passRate, labels.duration], top: 0 },
    grid: { left: 56, right: 64, top: 40, bottom: 32 },
    xAxis: { type: 'category', data: points.map((p) => labels.run(p.run_id)) },
    yAxis: [
      { type: 'value', name: labels.passRate, min: 0, max: 100, axisLabel: { formatter: '{value}%' } },
      { type: 'value', name: labels.duration, min: 0, axisLabel: { formatter: '{value} s' }, splitLine: { show: false } },
    ],
    series: [
      {
        name: labels.passRate,
        type: 'line',
        yAxisIndex: 0,
        symbolSize: 8,
        itemStyle: { color: LINE },
        lineStyle: { color: LINE },
        tooltip: { valueFormatter: (v: number | null) => (v === null || v === undefined ? '—' : `${v}%`) },
        data: points.map((p, i) => ({
          value: rates[i],
          runId: p.run_id,
          itemStyle: { color: STATUS_COLOURS[p.status] ?? LINE },
          name: labels.status(p.status),
        })),
      },
      {
        name: labels.duration,
        type: 'bar',
        yAxisIndex: 1,
        barMaxWidth: 24,
        itemStyle: { color: BARS },
        tooltip: { valueFormatter: (v: number | null) => (v === null || v === undefined ? '—' : `${v} s`) },
        data: points.map((p) => ({ value: p.wall_s === null ? null : round1(p.wall_s), runId: p.run_id })),
      },
    ],
  }
}

/** The run id a clicked chart item stands for. */
export function clickedRun(params: { data?: unknown }): number | null {
  const data = params.data as { runId?: number } | undefined
  return typeof data?.runId === 'number' ? data.runId : null
}
