import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import {
  ICommandPalette,
  MainAreaWidget,
  WidgetTracker
} from '@jupyterlab/apputils';
import { ReadonlyPartialJSONObject } from '@lumino/coreutils';

import {
  COMMAND_CATEGORY,
  CommandIDs,
  IFraudJlabService,
  IFraudJlabSidebar
} from '../tokens';
import { CompareWidget } from './CompareView';

/** Run ids of the command arguments, or of the sidebar selection. */
function runIdsFrom(
  args: ReadonlyPartialJSONObject,
  sidebar: IFraudJlabSidebar | null
): string[] {
  const fromArgs = args.runIds;
  if (Array.isArray(fromArgs)) {
    return fromArgs.filter((id): id is string => typeof id === 'string');
  }
  return sidebar ? [...sidebar.selectedRunIds] : [];
}

/** The same set of runs, whatever the order. */
function sameRuns(a: readonly string[], b: readonly string[]): boolean {
  return (
    a.length === b.length &&
    [...a].sort().join('\n') === [...b].sort().join('\n')
  );
}

/**
 * Registers `fraud-jlab:compare-runs`: opens a main-area comparison of the
 * given runs (`{runIds, baselineRunId?}`; default: the runs selected in the
 * sidebar).
 */
const comparePlugin: JupyterFrontEndPlugin<void> = {
  id: 'fraud-jlab:compare',
  description:
    'Compare tracked runs: metric deltas with CIs and plotly figures.',
  autoStart: true,
  requires: [IFraudJlabService],
  optional: [IFraudJlabSidebar, ICommandPalette, ILayoutRestorer],
  activate: (
    app: JupyterFrontEnd,
    service: IFraudJlabService,
    sidebar: IFraudJlabSidebar | null,
    palette: ICommandPalette | null,
    restorer: ILayoutRestorer | null
  ): void => {
    const tracker = new WidgetTracker<MainAreaWidget<CompareWidget>>({
      namespace: 'fraud-jlab-compare'
    });

    app.commands.addCommand(CommandIDs.compareRuns, {
      label: args => {
        const n = runIdsFrom(args, sidebar).length;
        return n >= 2 ? `Compare ${n} Runs` : 'Compare Selected Runs';
      },
      caption: 'Compare metrics, curves and parameters of 2 or more runs',
      isEnabled: args => runIdsFrom(args, sidebar).length >= 2,
      execute: async args => {
        const runIds = runIdsFrom(args, sidebar);
        if (runIds.length < 2) {
          throw new Error('Select at least 2 runs to compare.');
        }
        const baseline =
          typeof args.baselineRunId === 'string' ? args.baselineRunId : null;
        const existing = tracker.find(
          widget =>
            sameRuns(widget.content.options.runIds, runIds) &&
            (baseline === null ||
              widget.content.options.initialBaselineRunId === baseline)
        );
        if (existing) {
          app.shell.activateById(existing.id);
          return existing;
        }
        const content = new CompareWidget({
          service,
          runIds,
          initialBaselineRunId: baseline
        });
        const widget = new MainAreaWidget({ content });
        widget.id = `fraud-jlab-compare-${Date.now().toString(36)}`;
        widget.title.label = `Compare ${runIds.length} runs`;
        widget.title.caption = `Comparison of runs ${runIds.join(', ')}`;
        widget.title.closable = true;
        widget.addClass('jp-FraudJlab-compareMain');
        await tracker.add(widget);
        app.shell.add(widget, 'main');
        app.shell.activateById(widget.id);
        return widget;
      }
    });

    if (palette) {
      palette.addItem({
        command: CommandIDs.compareRuns,
        category: COMMAND_CATEGORY
      });
    }
    if (sidebar) {
      // Keep the palette label and enabled state in step with the selection.
      sidebar.selectionChanged.connect(() =>
        app.commands.notifyCommandChanged(CommandIDs.compareRuns)
      );
    }
    if (restorer) {
      void restorer.restore(tracker, {
        command: CommandIDs.compareRuns,
        args: widget => ({
          runIds: [...widget.content.options.runIds],
          baselineRunId: widget.content.options.initialBaselineRunId ?? null
        }),
        name: widget => [...widget.content.options.runIds].sort().join(',')
      });
    }
  }
};

const plugins: JupyterFrontEndPlugin<unknown>[] = [comparePlugin];
export default plugins;
