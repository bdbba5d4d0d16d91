import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import {
  ICommandPalette,
  MainAreaWidget,
  Notification,
  WidgetTracker
} from '@jupyterlab/apputils';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { JSONValue } from '@lumino/coreutils';

import { fraudJlabIcon } from '../runs/sidebar';
import {
  COMMAND_CATEGORY,
  CommandIDs,
  IFraudJlabService,
  PLUGIN_ID
} from '../tokens';
import { IColumnConfig } from './columns';
import { RunsGridModel } from './model';
import { RunsGridWidget } from './RunsGrid';

/** Setting (schema/plugin.json) holding the grid's column configuration. */
export const GRID_COLUMNS_SETTING = 'gridColumns';

/**
 * Registers `fraud-jlab:open-runs-view`: the main-area runs grid, with its
 * column configuration remembered in the fraud_jlab settings.
 */
const runsViewPlugin: JupyterFrontEndPlugin<void> = {
  id: 'fraud-jlab:runs-view',
  description:
    'A main-area runs grid: configurable columns, nested trials, production marker.',
  autoStart: true,
  requires: [IFraudJlabService],
  optional: [ISettingRegistry, ICommandPalette, ILayoutRestorer],
  activate: (
    app: JupyterFrontEnd,
    service: IFraudJlabService,
    settingRegistry: ISettingRegistry | null,
    palette: ICommandPalette | null,
    restorer: ILayoutRestorer | null
  ): void => {
    const tracker = new WidgetTracker<MainAreaWidget<RunsGridWidget>>({
      namespace: 'fraud-jlab-runs-view'
    });
    const settings: Promise<ISettingRegistry.ISettings | null> = settingRegistry
      ? settingRegistry.load(PLUGIN_ID).catch(error => {
          console.warn('fraud_jlab: settings could not be loaded', error);
          return null;
        })
      : Promise.resolve(null);
    const storedColumns = (
      loaded: ISettingRegistry.ISettings | null
    ): IColumnConfig[] =>
      loaded
        ? ((loaded.get(GRID_COLUMNS_SETTING).composite as
            IColumnConfig[] | undefined) ?? [])
        : [];

    app.commands.addCommand(CommandIDs.openRunsView, {
      label: 'Open fraud_jlab Runs View',
      caption: 'All runs in a full-width grid in the main area',
      icon: fraudJlabIcon,
      execute: async () => {
        const existing = tracker.currentWidget ?? tracker.find(() => true);
        if (existing) {
          app.shell.activateById(existing.id);
          return existing;
        }
        const loaded = await settings;
        const model = new RunsGridModel(service, {
          pageSize: loaded
            ? ((loaded.get('pageSize').composite as number | undefined) ?? 200)
            : 200,
          columns: storedColumns(loaded),
          onError: error => Notification.error(`fraud_jlab: ${error.message}`),
          onColumnsChanged: columns => {
            if (loaded) {
              loaded
                .set(GRID_COLUMNS_SETTING, columns as unknown as JSONValue)
                .catch((error: unknown) =>
                  Notification.error(
                    `fraud_jlab: the column layout could not be saved: ${
                      error instanceof Error ? error.message : String(error)
                    }`
                  )
                );
            }
          }
        });
        if (loaded) {
          loaded.changed.connect(() =>
            model.applyStoredColumns(storedColumns(loaded))
          );
        }
        const content = new RunsGridWidget(model, app.commands);
        const widget = new MainAreaWidget({ content });
        widget.id = 'fraud-jlab-runs-view';
        widget.title.label = 'fraud_jlab Runs';
        widget.title.caption = 'Tracked runs (fraud_jlab)';
        widget.title.icon = fraudJlabIcon;
        widget.title.closable = true;
        await tracker.add(widget);
        app.shell.add(widget, 'main');
        app.shell.activateById(widget.id);
        void model.refreshProduction();
        void model.runs.reload();
        return widget;
      }
    });

    if (palette) {
      palette.addItem({
        command: CommandIDs.openRunsView,
        category: COMMAND_CATEGORY
      });
    }
    if (restorer) {
      void restorer.restore(tracker, {
        command: CommandIDs.openRunsView,
        name: () => 'runs-view'
      });
    }
  }
};

const plugins: JupyterFrontEndPlugin<unknown>[] = [runsViewPlugin];
export default plugins;
