import { IABTimelinePoint, IPlotlyFigure, JSONObject } from '../api';
import { variantOrder } from './format';

/** Line colours per variant position (champion first). */
const COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728'];

function rgba(hex: string, alpha: number): string {
  const n = parseInt(hex.slice(1), 16);
  return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${alpha})`;
}

/**
 * The primary metric per variant over time, each with its 95% CI as a band
 * (upper bound, then the lower bound filled up to it, then the value line).
 * Points without a value are gaps. Null when the timeline is empty.
 */
export function timelineFigure(
  points: readonly IABTimelinePoint[]
): IPlotlyFigure | null {
  if (points.length === 0) {
    return null;
  }
  const metric = points[0].metric;
  const data: JSONObject[] = [];
  variantOrder(points.map(p => p.variant)).forEach((variant, index) => {
    const color = COLORS[index % COLORS.length];
    const series = points
      .filter(p => p.variant === variant)
      .sort((a, b) => a.at.localeCompare(b.at));
    const x = series.map(p => p.at);
    const hasBand = series.some(p => p.low !== null && p.high !== null);
    if (hasBand) {
      data.push({
        type: 'scatter',
        mode: 'lines',
        x,
        y: series.map(p => p.high),
        line: { width: 0 },
        hoverinfo: 'skip',
        showlegend: false,
        legendgroup: variant,
        name: `${variant} upper`
      });
      data.push({
        type: 'scatter',
        mode: 'lines',
        x,
        y: series.map(p => p.low),
        line: { width: 0 },
        fill: 'tonexty',
        fillcolor: rgba(color, 0.2),
        hoverinfo: 'skip',
        showlegend: false,
        legendgroup: variant,
        name: `${variant} 95% CI`
      });
    }
    data.push({
      type: 'scatter',
      mode: 'lines+markers',
      x,
      y: series.map(p => p.value),
      name: variant,
      legendgroup: variant,
      line: { color },
      customdata: series.map(p => p.n_labelled),
      hovertemplate: `${variant}: %{y:.3f} (%{customdata} labelled)<extra></extra>`
    });
  });
  return {
    data,
    layout: {
      height: 260,
      margin: { l: 40, r: 10, t: 10, b: 40 },
      xaxis: { type: 'date' },
      yaxis: { title: { text: metric } },
      legend: { orientation: 'h', y: -0.25 },
      showlegend: true
    }
  };
}
