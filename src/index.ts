import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette, Notification } from '@jupyterlab/apputils';
import { ISettingRegistry } from '@jupyterlab/settingregistry';

import abTestPlugins from './abtest';
import comparePlugins from './compare';
import promotionPlugins from './promotion';
import runsViewPlugins from './runsview';
import { FraudJlabService } from './request';
import { DEFAULT_METRIC_COLUMNS, RunsModel } from './runs/model';
import { RunsWidget } from './runs/RunsPanel';
import {
  FraudJlabSidebar,
  RUNS_SECTION_RANK,
  RUNS_SECTION_STRETCH,
  fraudJlabIcon
} from './runs/sidebar';
import {
  COMMAND_CATEGORY,
  CommandIDs,
  IFraudJlabService,
  IFraudJlabSidebar,
  PLUGIN_ID,
  SIDEBAR_ID
} from './tokens';

export * from './api';
export * from './tokens';
export { APIError, requestAPI } from './request';

// Bundled from package.json at build time: package.json is the single version source.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const PACKAGE_VERSION: string = require('../package.json').version;
declare function require(id: string): { version: string };

/** Provides the typed REST client every fraud_jlab view uses. */
const servicePlugin: JupyterFrontEndPlugin<IFraudJlabService> = {
  id: 'fraud-jlab:service',
  description: 'The typed client of the fraud_jlab REST API.',
  autoStart: true,
  provides: IFraudJlabService,
  activate: (app: JupyterFrontEnd): IFraudJlabService =>
    new FraudJlabService(PACKAGE_VERSION, app.serviceManager.serverSettings)
};

/** Warn when the server extension and this frontend come from different releases. */
async function checkServerVersion(service: IFraudJlabService): Promise<void> {
  try {
    const info = await service.getInfo();
    if (info.version !== service.frontendVersion) {
      Notification.warning(
        `fraud_jlab server extension ${info.version} differs from the frontend ` +
          `${service.frontendVersion}. Reinstall fraud_jlab and restart JupyterLab.`,
        { autoClose: false }
      );
    }
  } catch (error) {
    Notification.error(
      `fraud_jlab server extension is not available: ${(error as Error).message}`,
      { autoClose: false }
    );
  }
}

interface ISidebarSettings {
  pageSize: number;
  metricColumns: string[];
  refreshInterval: number;
}

function readSettings(
  settings: ISettingRegistry.ISettings | null
): ISidebarSettings {
  const get = <T>(key: string, fallback: T): T =>
    settings
      ? ((settings.get(key).composite as T | undefined) ?? fallback)
      : fallback;
  return {
    pageSize: get('pageSize', 100),
    metricColumns: get('metricColumns', [...DEFAULT_METRIC_COLUMNS]),
    refreshInterval: get('refreshInterval', 0)
  };
}

/** The left sidebar with the runs section, its commands and settings. */
const sidebarPlugin: JupyterFrontEndPlugin<IFraudJlabSidebar> = {
  id: PLUGIN_ID,
  description:
    'The fraud_jlab sidebar: tracked runs, filter, sort, run detail.',
  autoStart: true,
  requires: [IFraudJlabService],
  optional: [ISettingRegistry, ICommandPalette, ILayoutRestorer],
  provides: IFraudJlabSidebar,
  activate: (
    app: JupyterFrontEnd,
    service: IFraudJlabService,
    settingRegistry: ISettingRegistry | null,
    palette: ICommandPalette | null,
    restorer: ILayoutRestorer | null
  ): IFraudJlabSidebar => {
    const { commands, shell } = app;
    const model = new RunsModel(service, {
      onError: error => Notification.error(`fraud_jlab: ${error.message}`)
    });
    const sidebar = new FraudJlabSidebar(model, () =>
      shell.activateById(SIDEBAR_ID)
    );
    // The runs table needs the height; other sections are short summaries.
    sidebar.addSection(
      new RunsWidget(model, commands),
      RUNS_SECTION_RANK,
      RUNS_SECTION_STRETCH
    );
    shell.add(sidebar.panel, 'left', { rank: 650 });
    restorer?.add(sidebar.panel, SIDEBAR_ID);

    commands.addCommand(CommandIDs.openSidebar, {
      label: 'Open fraud_jlab Sidebar',
      caption: 'Show the fraud_jlab runs sidebar',
      icon: fraudJlabIcon,
      execute: () => sidebar.activate()
    });
    commands.addCommand(CommandIDs.refreshRuns, {
      label: 'Refresh fraud_jlab Runs',
      caption: 'Reload the runs table from the server',
      execute: () => model.refresh()
    });
    commands.addCommand(CommandIDs.openRun, {
      label: 'Open fraud_jlab Run',
      caption: 'Show the detail of one run in the fraud_jlab sidebar',
      describedBy: {
        args: {
          type: 'object',
          properties: { runId: { type: 'string' } },
          required: ['runId']
        }
      },
      execute: args => {
        const runId = args['runId'];
        if (typeof runId !== 'string' || runId === '') {
          throw new Error('fraud-jlab:open-run needs a runId argument');
        }
        sidebar.activate();
        model.openRun(runId);
      }
    });
    if (palette) {
      for (const command of [CommandIDs.openSidebar, CommandIDs.refreshRuns]) {
        palette.addItem({ command, category: COMMAND_CATEGORY });
      }
    }

    let timer: number | undefined;
    const apply = (settings: ISettingRegistry.ISettings | null): void => {
      const values = readSettings(settings);
      model.pageSize = values.pageSize;
      model.metricColumns = values.metricColumns;
      window.clearInterval(timer);
      timer = undefined;
      if (values.refreshInterval > 0) {
        timer = window.setInterval(() => {
          if (sidebar.panel.isVisible && !model.loading) {
            void model.refresh();
          }
        }, values.refreshInterval * 1000);
      }
    };

    const start = async (): Promise<void> => {
      let settings: ISettingRegistry.ISettings | null = null;
      if (settingRegistry) {
        try {
          settings = await settingRegistry.load(PLUGIN_ID);
          settings.changed.connect(() => apply(settings));
        } catch (error) {
          console.warn('fraud_jlab: settings could not be loaded', error);
        }
      }
      apply(settings);
      await model.reload();
    };
    void Promise.all([start(), checkServerVersion(service)]);

    return sidebar;
  }
};

const plugins: JupyterFrontEndPlugin<unknown>[] = [
  servicePlugin,
  sidebarPlugin,
  ...comparePlugins,
  ...promotionPlugins,
  ...abTestPlugins,
  ...runsViewPlugins
];

export default plugins;
