import React, { useMemo } from 'react';

import { IPlotlyFigure } from '../api';
import { PlotlyChart } from '../compare/PlotlyChart';
import { compareMetricNames } from './precision';

/** A line chart of one metric's values by step. */
export function historyFigure(
  name: string,
  points: Array<[number, number]>
): IPlotlyFigure {
  const sorted = [...points].sort((a, b) => a[0] - b[0]);
  return {
    data: [
      {
        type: 'scatter',
        mode: 'lines+markers',
        name,
        x: sorted.map(p => p[0]),
        y: sorted.map(p => p[1]),
        hovertemplate: `step %{x}<br>${name} %{y:.4g}<extra></extra>`
      }
    ],
    layout: {
      margin: { l: 56, r: 16, t: 8, b: 40 },
      xaxis: { title: { text: 'step' }, zeroline: false },
      yaxis: { title: { text: name }, zeroline: false },
      showlegend: false
    }
  };
}

/** One plotly chart per metric logged at more than one step. */
export function MetricHistoryCharts(props: {
  history: Record<string, Array<[number, number]>>;
}): JSX.Element | null {
  const { history } = props;
  const charts = useMemo(
    () =>
      Object.entries(history)
        .filter(([, points]) => points.length > 1)
        .sort(([a], [b]) => compareMetricNames(a, b))
        .map(([name, points]) => ({
          name,
          figure: historyFigure(name, points)
        })),
    [history]
  );
  if (charts.length === 0) {
    return null;
  }
  return (
    <div className="jp-FraudJlab-history">
      {charts.map(chart => (
        <PlotlyChart
          key={chart.name}
          label={`${chart.name} by step`}
          figure={chart.figure}
        />
      ))}
    </div>
  );
}
