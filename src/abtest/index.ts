import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette, Notification } from '@jupyterlab/apputils';

import {
  COMMAND_CATEGORY,
  CommandIDs,
  IFraudJlabService,
  IFraudJlabSidebar
} from '../tokens';
import { ABTestsSection } from './ABTestsPanel';
import { showChangeDialog } from './ChangeDialog';
import { startSpec } from './specs';

/** Rank of the A/B tests section in the sidebar (runs 100, production 200). */
export const AB_TESTS_SECTION_RANK = 150;

/**
 * The "A/B tests" sidebar section and its commands: start an A/B test with a
 * run as challenger (dry-run plan, reason, confirm) and show the section.
 */
const abTestsPlugin: JupyterFrontEndPlugin<void> = {
  id: 'fraud-jlab:ab-tests',
  description:
    'A/B tests on the production endpoint: list, view, start, advance, promote, roll back, stop.',
  autoStart: true,
  requires: [IFraudJlabService, IFraudJlabSidebar],
  optional: [ICommandPalette],
  activate: (
    app: JupyterFrontEnd,
    service: IFraudJlabService,
    sidebar: IFraudJlabSidebar,
    palette: ICommandPalette | null
  ): void => {
    const section = new ABTestsSection(service);
    section.id = 'fraud-jlab-ab-tests';
    sidebar.addSection(section, AB_TESTS_SECTION_RANK);

    app.commands.addCommand(CommandIDs.openABTests, {
      label: 'Open fraud_jlab A/B Tests',
      caption:
        'Show the A/B tests on the production endpoint in the fraud_jlab sidebar',
      describedBy: {
        args: {
          type: 'object',
          properties: { abTestId: { type: 'string' } }
        }
      },
      execute: args => {
        sidebar.activate();
        const id = args.abTestId;
        if (typeof id === 'string' && id !== '') {
          section.select(id);
        }
      }
    });

    app.commands.addCommand(CommandIDs.startABTest, {
      label: 'Start A/B Test with Run…',
      caption:
        "Deploy a run's model as the challenger beside production's champion (dry-run plan, reason, confirm)",
      describedBy: {
        args: {
          type: 'object',
          properties: {
            runId: { type: 'string' },
            runName: { type: 'string' }
          },
          required: ['runId']
        }
      },
      isEnabled: args => typeof args.runId === 'string' && args.runId !== '',
      execute: async args => {
        const runId = args.runId;
        if (typeof runId !== 'string' || runId === '') {
          throw new Error('fraud-jlab:start-ab-test needs a runId argument.');
        }
        const runName =
          typeof args.runName === 'string' ? args.runName : undefined;
        const state = await showChangeDialog(
          service,
          startSpec(service, runId, runName)
        );
        if (state) {
          Notification.success(
            `A/B test ${state.ab_test_id} started: ${Object.entries(
              state.weights
            )
              .map(([name, w]) => `${name} ${w}%`)
              .join(', ')}.`,
            { autoClose: 5000 }
          );
          section.select(state.ab_test_id);
          sidebar.activate();
        }
        return state;
      }
    });

    if (palette) {
      palette.addItem({
        command: CommandIDs.openABTests,
        category: COMMAND_CATEGORY
      });
    }
  }
};

const plugins: JupyterFrontEndPlugin<unknown>[] = [abTestsPlugin];
export default plugins;
