import React, { useEffect, useRef, useState } from 'react';

import { IABTestState, IEndpointChangePlan, IJob } from '../api';
import { formatPercent } from '../promotion/kinds';
import { showPanelDialog } from '../dialog';
import { asError, useLoad } from '../loading';
import {
  allowedApprover,
  ApproverLine,
  ErrorMessage,
  useIdentity
} from '../promotion/PromoteDialog';
import { IFraudJlabService } from '../tokens';
import { jobResult, waitForJob } from './jobs';

/** What one confirmation dialog changes: its dry run and its submission. */
export interface IChangeSpec {
  /** Dialog title, e.g. "Advance A/B test". */
  title: string;
  /** The confirm button, e.g. "Advance". */
  verb: string;
  /** What the change acts on, e.g. "A/B test fraud-…". */
  subject: string;
  /** Offer the shadow-stage checkbox (starting a test). */
  shadowOption?: boolean;
  /** The dry run (nothing written). */
  plan: (shadow: boolean) => Promise<IEndpointChangePlan>;
  /** The change itself: a job to poll. */
  submit: (reason: string, shadow: boolean) => Promise<IJob>;
}

/** Props of {@link ChangePanel}. */
export interface IChangePanelProps {
  service: IFraudJlabService;
  spec: IChangeSpec;
  /** Called once the change succeeded, with the test's new state. */
  onDone?: (state: IABTestState) => void;
}

type SubmitState =
  | { kind: 'idle' }
  | { kind: 'submitting'; job: IJob | null }
  | { kind: 'done'; state: IABTestState }
  | { kind: 'failed'; error: Error };

/** The endpoint before and after the change: configuration and variant weights. */
export function PlanTable(props: { plan: IEndpointChangePlan }): JSX.Element {
  const { before, after } = props.plan;
  const variants = [
    ...new Set([
      ...Object.keys(before.weights ?? {}),
      ...Object.keys(after.weights ?? {}),
      ...(before.shadow_variants ?? []),
      ...(after.shadow_variants ?? [])
    ])
  ];
  const cell = (
    state: IEndpointChangePlan['before'],
    variant: string
  ): string => {
    if ((state.shadow_variants ?? []).includes(variant)) {
      return 'shadow (copy of traffic)';
    }
    const weight = state.weights?.[variant];
    return weight === undefined ? '—' : formatPercent(weight);
  };
  const row = (label: string, a: string, b: string): JSX.Element => (
    <tr
      key={label}
      className={a !== b ? 'jp-mod-changed' : undefined}
      aria-label={`${label}${a !== b ? ' (changed)' : ''}`}
    >
      <th scope="row">{label}</th>
      <td>{a}</td>
      <td>{b}</td>
    </tr>
  );
  return (
    <table className="jp-FraudJlab-diff" aria-label="Endpoint before and after">
      <thead>
        <tr>
          <th scope="col">{after.endpoint_name}</th>
          <th scope="col">Before</th>
          <th scope="col">After</th>
        </tr>
      </thead>
      <tbody>
        {row(
          'Configuration',
          before.config_name ?? '—',
          after.config_name ?? '—'
        )}
        {variants.map(v => row(v, cell(before, v), cell(after, v)))}
      </tbody>
    </table>
  );
}

/**
 * The body of an A/B confirmation dialog: the dry run's changes and
 * before/after weights, a required reason, the confirm button, then the
 * job's progress and the result or the server's error (whose message says
 * whether production changed).
 */
export function ChangePanel(props: IChangePanelProps): JSX.Element {
  const { service, spec, onDone } = props;
  const [reason, setReason] = useState('');
  const [shadow, setShadow] = useState(false);
  const [submit, setSubmit] = useState<SubmitState>({ kind: 'idle' });
  const identity = useIdentity(service);
  const alive = useRef(true);
  useEffect(
    () => () => {
      alive.current = false;
    },
    []
  );

  const plan = useLoad(() => spec.plan(shadow), [spec, shadow]);

  const approver = allowedApprover(identity);
  const busy = submit.kind === 'submitting';
  const done = submit.kind === 'done';
  const canConfirm =
    plan.kind === 'loaded' &&
    approver !== null &&
    reason.trim() !== '' &&
    !busy &&
    !done;

  const confirm = async (): Promise<void> => {
    setSubmit({ kind: 'submitting', job: null });
    try {
      const job = await spec.submit(reason.trim(), shadow);
      const update = (current: IJob): void => {
        if (alive.current) {
          setSubmit({ kind: 'submitting', job: current });
        }
      };
      update(job);
      const finished = await waitForJob(service, job, { onUpdate: update });
      const state = jobResult<IABTestState>(finished);
      service.notifyABTestChanged(state);
      if (alive.current) {
        setSubmit({ kind: 'done', state });
      }
      onDone?.(state);
    } catch (error) {
      if (alive.current) {
        setSubmit({ kind: 'failed', error: asError(error) });
      }
    }
  };

  return (
    <div className="jp-FraudJlab-promote jp-FraudJlab-abChange">
      <p className="jp-FraudJlab-promoteRun">{spec.subject}</p>
      <ApproverLine identity={identity} />
      {spec.shadowOption && (
        <label className="jp-FraudJlab-check">
          <input
            type="checkbox"
            checked={shadow}
            disabled={busy || done}
            onChange={event => setShadow(event.target.checked)}
          />
          Start with a shadow stage (the challenger scores a copy of the
          traffic; customers see only the champion)
        </label>
      )}
      {plan.kind === 'loading' && (
        <p role="status" className="jp-FraudJlab-muted">
          Computing what will change (dry run)…
        </p>
      )}
      {plan.kind === 'failed' && (
        <ErrorMessage error={plan.error} title="The dry run failed" />
      )}
      {plan.kind === 'loaded' && (
        <section aria-label="Dry-run plan">
          <h3>What will change</h3>
          <ul aria-label="Planned changes" className="jp-FraudJlab-abChanges">
            {plan.value.changes.map(line => (
              <li key={line}>{line}</li>
            ))}
          </ul>
          <PlanTable plan={plan.value} />
        </section>
      )}
      <label className="jp-FraudJlab-field">
        <span>Reason (required, recorded in the ledger)</span>
        <textarea
          className="jp-FraudJlab-reason"
          value={reason}
          required
          rows={2}
          disabled={busy || done}
          onChange={event => setReason(event.target.value)}
        />
      </label>
      {submit.kind === 'submitting' && (
        <p role="status" className="jp-FraudJlab-muted">
          {submit.job
            ? `Job ${submit.job.job_id}: ${submit.job.status}…`
            : 'Submitting…'}
        </p>
      )}
      {submit.kind === 'failed' && (
        <ErrorMessage error={submit.error} title={`${spec.verb} failed`} />
      )}
      {submit.kind === 'done' && (
        <section aria-label="Change result" className="jp-FraudJlab-result">
          <h3 role="status">
            Done: A/B test {submit.state.ab_test_id} is {submit.state.status}
          </h3>
          <p>
            Weights now{' '}
            {Object.entries(submit.state.weights)
              .map(([name, w]) => `${name} ${formatPercent(w)}`)
              .join(' · ')}
          </p>
        </section>
      )}
      <div className="jp-FraudJlab-promoteActions">
        <div className="jp-FraudJlab-actions">
          <button
            type="button"
            className="jp-FraudJlab-button jp-mod-accept"
            disabled={!canConfirm}
            onClick={() => void confirm()}
          >
            {busy ? `${spec.verb}…` : spec.verb}
          </button>
          {plan.kind === 'loaded' && reason.trim() === '' && !done && (
            <span className="jp-FraudJlab-hint">Type a reason to confirm.</span>
          )}
        </div>
      </div>
    </div>
  );
}

/**
 * Open the confirmation dialog of an A/B change. Resolves when it is closed,
 * with the test's new state if the change succeeded in it.
 */
export function showChangeDialog(
  service: IFraudJlabService,
  spec: IChangeSpec
): Promise<IABTestState | null> {
  return showPanelDialog<IABTestState>(spec.title, done => (
    <ChangePanel service={service} spec={spec} onDone={done} />
  ));
}
