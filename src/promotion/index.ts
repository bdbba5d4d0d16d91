import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette, Notification } from '@jupyterlab/apputils';

import { IPromotionRecord } from '../api';
import {
  COMMAND_CATEGORY,
  CommandIDs,
  IFraudJlabService,
  IFraudJlabSidebar
} from '../tokens';
import { ProductionSection } from './ProductionPanel';
import { showPromoteDialog } from './PromoteDialog';

/** Rank of the Production section in the sidebar (runs are 100). */
export const PRODUCTION_SECTION_RANK = 200;

/**
 * Registers `fraud-jlab:promote-run` (`{runId}`): the promotion dialog with
 * dry-run gates and diff, reason, options and the resulting ledger record.
 */
const promotionPlugin: JupyterFrontEndPlugin<void> = {
  id: 'fraud-jlab:promotion',
  description:
    'Promote a run to production, with gates, diff and audit record.',
  autoStart: true,
  requires: [IFraudJlabService],
  optional: [ICommandPalette],
  activate: (
    app: JupyterFrontEnd,
    service: IFraudJlabService,
    palette: ICommandPalette | null
  ): void => {
    const refreshRuns = (): void => {
      if (app.commands.hasCommand(CommandIDs.refreshRuns)) {
        void app.commands.execute(CommandIDs.refreshRuns);
      }
    };

    app.commands.addCommand(CommandIDs.promoteRun, {
      label: 'Promote Run to Production…',
      caption:
        'Check the promotion gates, review the Parameter Store and config diff, and promote',
      isEnabled: args => typeof args.runId === 'string' && args.runId !== '',
      execute: async args => {
        const runId = args.runId;
        if (typeof runId !== 'string' || runId === '') {
          throw new Error('fraud-jlab:promote-run needs a runId argument.');
        }
        const record: IPromotionRecord | null = await showPromoteDialog(
          service,
          runId
        );
        if (record) {
          refreshRuns();
        }
        return record;
      }
    });

    if (palette) {
      palette.addItem({
        command: CommandIDs.promoteRun,
        category: COMMAND_CATEGORY
      });
    }
  }
};

/** Adds the "Production" section (live state and history) to the sidebar. */
const productionSectionPlugin: JupyterFrontEndPlugin<void> = {
  id: 'fraud-jlab:production-section',
  description: 'The Production section of the fraud_jlab sidebar.',
  autoStart: true,
  requires: [IFraudJlabService, IFraudJlabSidebar],
  activate: (
    app: JupyterFrontEnd,
    service: IFraudJlabService,
    sidebar: IFraudJlabSidebar
  ): void => {
    const section = new ProductionSection({
      service,
      onRolledBack: record => {
        Notification.success(
          `Rolled back: production restored (record ${record.promotion_id}).`,
          { autoClose: 5000 }
        );
        if (app.commands.hasCommand(CommandIDs.refreshRuns)) {
          void app.commands.execute(CommandIDs.refreshRuns);
        }
      }
    });
    section.id = 'fraud-jlab-production';
    sidebar.addSection(section, PRODUCTION_SECTION_RANK);
  }
};

const plugins: JupyterFrontEndPlugin<unknown>[] = [
  promotionPlugin,
  productionSectionPlugin
];
export default plugins;
