/**
 * Lazy access to plotly.js.
 *
 * plotly is several megabytes; the dynamic `import()` puts it in its own
 * chunk that is fetched the first time a comparison is shown, not when
 * JupyterLab starts.
 */
import type * as PlotlyTypes from 'plotly.js';

import { IPlotlyFigure } from '../api';

/** The plotly.js API as typed by `@types/plotly.js`. */
export type PlotlyModule = typeof PlotlyTypes;

let loading: Promise<PlotlyModule> | null = null;

/** Load plotly.js once; later calls share the same promise. */
export function loadPlotly(): Promise<PlotlyModule> {
  if (!loading) {
    loading = import('plotly.js-dist-min').then(
      module => (module.default ?? module) as PlotlyModule
    );
    // A failed chunk load (e.g. offline) may succeed on a later attempt.
    loading.catch(() => {
      loading = null;
    });
  }
  return loading;
}

/**
 * The server's figure JSON as plotly arguments, sized by its container.
 *
 * A fixed width/height from the server would stop the figure following the
 * panel, so both are dropped and `autosize` is forced on.
 */
export function toPlotlyArgs(figure: IPlotlyFigure): {
  data: PlotlyTypes.Data[];
  layout: Partial<PlotlyTypes.Layout>;
} {
  const layout = { ...figure.layout };
  delete layout.width;
  delete layout.height;
  return {
    data: figure.data as unknown as PlotlyTypes.Data[],
    layout: {
      ...(layout as unknown as Partial<PlotlyTypes.Layout>),
      autosize: true
    }
  };
}
