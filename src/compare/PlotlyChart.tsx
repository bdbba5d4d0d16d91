import React, { useEffect, useRef, useState } from 'react';

import { IPlotlyFigure } from '../api';
import { loadPlotly, PlotlyModule, toPlotlyArgs } from './plotly';

/** Props of {@link PlotlyChart}. */
export interface IPlotlyChartProps {
  /** The figure as the server sent it. */
  figure: IPlotlyFigure;
  /** Accessible name of the figure, also shown as its heading. */
  label: string;
}

/** Colours of the current JupyterLab theme, so figures follow light/dark. */
function themeColors(node: HTMLElement): { font: string; grid: string } {
  const style = getComputedStyle(node);
  return {
    font: style.getPropertyValue('--jp-ui-font-color1').trim(),
    grid: style.getPropertyValue('--jp-border-color2').trim()
  };
}

/**
 * One plotly figure that fills its container and follows its size.
 *
 * The figure is redrawn when the container is resized (panel resize, sidebar
 * collapse, split), not only on window resize, and purged on unmount.
 */
export function PlotlyChart(props: IPlotlyChartProps): JSX.Element {
  const { figure, label } = props;
  const plotRef = useRef<HTMLDivElement>(null);
  const [error, setError] = useState<string | null>(null);
  const [rendered, setRendered] = useState(false);

  useEffect(() => {
    const node = plotRef.current;
    if (!node) {
      return;
    }
    let disposed = false;
    let plotly: PlotlyModule | null = null;
    let observer: ResizeObserver | null = null;
    setError(null);
    setRendered(false);

    loadPlotly()
      .then(async module => {
        if (disposed) {
          return;
        }
        plotly = module;
        const { data, layout } = toPlotlyArgs(figure);
        const colors = themeColors(node);
        await module.react(
          node,
          data,
          {
            ...layout,
            paper_bgcolor: 'rgba(0,0,0,0)',
            font: { ...(layout.font ?? {}), color: colors.font || undefined }
          },
          { displaylogo: false, responsive: false }
        );
        if (disposed) {
          return;
        }
        setRendered(true);
        observer = new ResizeObserver(entries => {
          const box = entries[entries.length - 1]?.contentRect;
          // A hidden panel reports 0x0; plotly refuses to resize those.
          if (!box || box.width === 0 || box.height === 0) {
            return;
          }
          void Promise.resolve(module.Plots.resize(node)).catch(
            () => undefined
          );
        });
        observer.observe(node);
      })
      .catch((reason: unknown) => {
        if (!disposed) {
          setError(
            `Could not draw "${label}": ${reason instanceof Error ? reason.message : String(reason)}`
          );
        }
      });

    return () => {
      disposed = true;
      observer?.disconnect();
      plotly?.purge(node);
    };
  }, [figure, label]);

  return (
    <figure
      className="jp-FraudJlab-figure"
      aria-label={label}
      aria-busy={!rendered && error === null}
    >
      <figcaption className="jp-FraudJlab-figureCaption">{label}</figcaption>
      <div ref={plotRef} className="jp-FraudJlab-plot" />
      {error !== null && (
        <div role="alert" className="jp-FraudJlab-error">
          {error}
        </div>
      )}
    </figure>
  );
}
