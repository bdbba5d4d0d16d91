import { ABTestChangeAction, IABTestState } from '../api';
import { IFraudJlabService } from '../tokens';
import { IChangeSpec } from './ChangeDialog';

/** Dialog title and confirm button of each change. */
export const ACTION_WORDS: Record<
  ABTestChangeAction,
  { title: string; verb: string; caption: string }
> = {
  advance: {
    title: 'Advance A/B test',
    verb: 'Advance',
    caption: "Move the challenger to the rollout plan's next traffic split"
  },
  promote: {
    title: 'Promote the challenger',
    verb: 'Promote',
    caption: "Serve the challenger's model alone on production"
  },
  rollback: {
    title: 'Roll back A/B test',
    verb: 'Roll back',
    caption: "Put production back on the champion's configuration"
  },
  stop: {
    title: 'Stop A/B test',
    verb: 'Stop',
    caption: 'End the test without a winner: production back on the champion'
  }
};

/** The confirmation of starting an A/B test with `runId` as the challenger. */
export function startSpec(
  service: IFraudJlabService,
  runId: string,
  runName?: string
): IChangeSpec {
  return {
    title: 'Start A/B test',
    verb: 'Start A/B test',
    subject: `Challenger: run ${runName ? `${runName} ` : ''}(${runId}) against production's champion`,
    shadowOption: true,
    plan: shadow => service.planABTestStart({ run_id: runId, shadow }),
    submit: (reason, shadow) =>
      service.submitABTestStart({ run_id: runId, reason, shadow })
  };
}

/** The confirmation of one change of a test. */
export function changeSpec(
  service: IFraudJlabService,
  state: IABTestState,
  action: ABTestChangeAction
): IChangeSpec {
  const words = ACTION_WORDS[action];
  return {
    title: words.title,
    verb: words.verb,
    subject: `A/B test ${state.ab_test_id} (challenger run ${state.experiment_id}): ${words.caption.toLowerCase()}.`,
    plan: () => service.planABTestChange(state.ab_test_id, action),
    submit: reason =>
      service.submitABTestChange(state.ab_test_id, action, reason)
  };
}
