import React, { useEffect, useRef, useState } from 'react';

import { IIdentity, IPromotionPlan, IPromotionRecord } from '../api';
import { showPanelDialog } from '../dialog';
import { APIError } from '../request';
import { asError, LoadState, useLoad } from '../loading';
import { IFraudJlabService } from '../tokens';
import { diffConfig } from './diff';
import { RecordView } from './RecordView';

/** Props of {@link PromotePanel}. */
export interface IPromotePanelProps {
  service: IFraudJlabService;
  runId: string;
  /** Called once a promotion was recorded (after the server answered 201). */
  onPromoted?: (record: IPromotionRecord) => void;
}

/** Who production changes made here are recorded as approved by (loading, known, failed). */
export type IdentityState = LoadState<IIdentity>;

type SubmitState =
  | { kind: 'idle' }
  | { kind: 'submitting' }
  | { kind: 'done'; record: IPromotionRecord }
  | { kind: 'failed'; error: Error };

/** The server's message verbatim, with its status and extra details. */
export function ErrorMessage(props: {
  error: Error;
  title: string;
}): JSX.Element {
  const { error, title } = props;
  const status =
    error instanceof APIError && error.status > 0
      ? ` (HTTP ${error.status})`
      : '';
  const details =
    error instanceof APIError
      ? error.errors.filter(line => line !== error.message)
      : [];
  return (
    <div role="alert" className="jp-FraudJlab-error jp-FraudJlab-banner">
      <strong>
        {title}
        {status}
      </strong>
      <div className="jp-FraudJlab-errorMessage">{error.message}</div>
      {details.length > 0 && (
        <ul>
          {details.map(line => (
            <li key={line}>{line}</li>
          ))}
        </ul>
      )}
    </div>
  );
}

/** `GET identity` once per service: the approver every production change records. */
export function useIdentity(service: IFraudJlabService): IdentityState {
  return useLoad(() => service.getIdentity(), [service]);
}

/** The approver of a loaded identity allowed to change production, else null. */
export function allowedApprover(identity: IdentityState): string | null {
  return identity.kind === 'loaded' && identity.value.can_change_production
    ? identity.value.approver
    : null;
}

/** Who the ledger will name as approver, or why nobody can change production. */
export function ApproverLine(props: { identity: IdentityState }): JSX.Element {
  const { identity } = props;
  if (identity.kind === 'loading') {
    return (
      <p className="jp-FraudJlab-muted" aria-label="Approver">
        Resolving the approver…
      </p>
    );
  }
  if (identity.kind === 'failed') {
    return (
      <ErrorMessage error={identity.error} title="The approver is unknown" />
    );
  }
  const { approver, message, can_change_production } = identity.value;
  if (!can_change_production || approver === null) {
    return (
      <div
        role="alert"
        aria-label="Approver"
        className="jp-FraudJlab-error jp-FraudJlab-banner"
      >
        <strong>No approver identified: only the dry run is shown.</strong>
        <div className="jp-FraudJlab-errorMessage">{message}</div>
      </div>
    );
  }
  return (
    <p className="jp-FraudJlab-approver" aria-label="Approver" title={message}>
      Approved by <strong>{approver}</strong> (recorded in the ledger)
    </p>
  );
}

/** Gate results of a promotion plan. */
function GatesTable(props: { plan: IPromotionPlan }): JSX.Element {
  const { plan } = props;
  return (
    <table className="jp-FraudJlab-gates" aria-label="Promotion gates">
      <thead>
        <tr>
          <th scope="col">Gate</th>
          <th scope="col">Result</th>
          <th scope="col">Detail</th>
        </tr>
      </thead>
      <tbody>
        {plan.gates.map(gate => (
          <tr
            key={gate.name}
            className={gate.passed ? 'jp-mod-passed' : 'jp-mod-failed'}
          >
            <th scope="row">{gate.name}</th>
            <td className="jp-FraudJlab-gateResult">
              {gate.passed ? '✓ pass' : '✗ fail'}
            </td>
            <td>
              {gate.detail}
              {gate.lower_bound !== null &&
                gate.lower_bound !== undefined &&
                gate.margin !== null &&
                gate.margin !== undefined && (
                  <div
                    className="jp-FraudJlab-gateBound"
                    aria-label="Non-inferiority bound"
                  >
                    lower bound {gate.lower_bound.toFixed(4)} vs margin −
                    {gate.margin}
                    {gate.n_pos !== null && gate.n_pos !== undefined
                      ? ` (${gate.n_pos} frauds)`
                      : ''}
                  </div>
                )}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** Parameter Store and config-file changes a promotion would make. */
function DiffTables(props: { plan: IPromotionPlan }): JSX.Element {
  const { plan } = props;
  const configRows = diffConfig(plan.diff.config.current, plan.diff.config.new);
  return (
    <>
      <h3>Parameter Store</h3>
      <table className="jp-FraudJlab-diff" aria-label="Parameter Store changes">
        <thead>
          <tr>
            <th scope="col">SSM path</th>
            <th scope="col">Current</th>
            <th scope="col">New</th>
          </tr>
        </thead>
        <tbody>
          {plan.diff.ssm.map(entry => (
            <tr
              key={entry.path}
              className={entry.changed ? 'jp-mod-changed' : undefined}
              aria-label={`${entry.path}${entry.changed ? ' (changed)' : ''}`}
            >
              <th scope="row">{entry.path}</th>
              <td>{entry.current ?? '(not set)'}</td>
              <td>{entry.new}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h3>Config file</h3>
      {plan.diff.config.current === null && (
        <p className="jp-FraudJlab-muted">
          No production config file yet: it will be created.
        </p>
      )}
      <table className="jp-FraudJlab-diff" aria-label="Config file changes">
        <thead>
          <tr>
            <th scope="col">Key</th>
            <th scope="col">Current</th>
            <th scope="col">New</th>
          </tr>
        </thead>
        <tbody>
          {configRows.map(row => (
            <tr
              key={row.key}
              className={row.changed ? 'jp-mod-changed' : undefined}
              aria-label={`${row.key}${row.changed ? ' (changed)' : ''}`}
            >
              <th scope="row">{row.key}</th>
              <td>{row.current ?? '(none)'}</td>
              <td>{row.next ?? '(removed)'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

/**
 * The body of the promotion dialog: dry-run plan (gates and diff), the
 * reason and options, the Promote button, then the ledger record or the
 * server's error.
 */
export function PromotePanel(props: IPromotePanelProps): JSX.Element {
  const { service, runId, onPromoted } = props;
  const [reason, setReason] = useState('');
  const [triggerPipeline, setTriggerPipeline] = useState(false);
  const [force, setForce] = useState(false);
  const [submit, setSubmit] = useState<SubmitState>({ kind: 'idle' });
  const identity = useIdentity(service);
  // The dry run needs no reason: gates and diff show while the user writes one.
  const plan = useLoad(
    () => service.planPromotion({ run_id: runId }),
    [service, runId]
  );

  const resultRef = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (submit.kind === 'done' || submit.kind === 'failed') {
      resultRef.current?.scrollIntoView({ block: 'nearest' });
    }
  }, [submit.kind]);

  const loaded = plan.kind === 'loaded' ? plan.value : null;
  const gatesFailed = loaded !== null && !loaded.gates_passed;
  const done = submit.kind === 'done';
  const approver = allowedApprover(identity);
  const canPromote =
    loaded !== null &&
    approver !== null &&
    reason.trim() !== '' &&
    (!gatesFailed || force) &&
    submit.kind !== 'submitting' &&
    !done;

  const promote = async (): Promise<void> => {
    setSubmit({ kind: 'submitting' });
    try {
      const record = await service.promote({
        run_id: runId,
        reason: reason.trim(),
        trigger_pipeline: triggerPipeline,
        force: gatesFailed && force
      });
      setSubmit({ kind: 'done', record });
      onPromoted?.(record);
    } catch (error) {
      setSubmit({ kind: 'failed', error: asError(error) });
    }
  };

  return (
    <div className="jp-FraudJlab-promote">
      <p className="jp-FraudJlab-promoteRun">
        Run <code>{runId}</code>
      </p>
      <ApproverLine identity={identity} />
      <label className="jp-FraudJlab-field">
        <span>Reason (required, recorded in the ledger)</span>
        <textarea
          className="jp-FraudJlab-reason"
          value={reason}
          required
          rows={2}
          disabled={done || submit.kind === 'submitting'}
          onChange={event => setReason(event.target.value)}
        />
      </label>

      {plan.kind === 'loading' && (
        <p role="status" className="jp-FraudJlab-muted">
          Checking gates and computing the diff (dry run)…
        </p>
      )}
      {plan.kind === 'failed' && (
        <ErrorMessage error={plan.error} title="The dry run failed" />
      )}

      {loaded && (
        <>
          <section aria-label="Gates">
            <h3>
              Gates{' '}
              <span
                className={
                  loaded.gates_passed
                    ? 'jp-FraudJlab-gatesSummary jp-mod-passed'
                    : 'jp-FraudJlab-gatesSummary jp-mod-failed'
                }
              >
                {loaded.gates_passed ? 'all passed' : 'some failed'}
              </span>
            </h3>
            <GatesTable plan={loaded} />
          </section>
          <section aria-label="Diff">
            <DiffTables plan={loaded} />
          </section>
        </>
      )}

      <div ref={resultRef}>
        {submit.kind === 'failed' && (
          <ErrorMessage error={submit.error} title="Promotion failed" />
        )}
        {submit.kind === 'done' && (
          <section
            aria-label="Promotion result"
            className="jp-FraudJlab-result"
          >
            <h3 role="status">Promoted: production updated</h3>
            <RecordView record={submit.record} />
          </section>
        )}
      </div>

      {/* Sticky at the bottom of the dialog body: always reachable after scrolling the diff. */}
      <div className="jp-FraudJlab-promoteActions">
        <label className="jp-FraudJlab-check">
          <input
            type="checkbox"
            checked={triggerPipeline}
            disabled={done}
            onChange={event => setTriggerPipeline(event.target.checked)}
          />
          Trigger production pipeline
        </label>
        {gatesFailed && (
          <label className="jp-FraudJlab-check jp-mod-warn">
            <input
              type="checkbox"
              checked={force}
              disabled={done}
              onChange={event => setForce(event.target.checked)}
            />
            Override failed gates (force)
          </label>
        )}
        <div className="jp-FraudJlab-actions">
          <button
            type="button"
            className="jp-FraudJlab-button jp-mod-accept"
            disabled={!canPromote}
            onClick={() => void promote()}
          >
            {submit.kind === 'submitting' ? 'Promoting…' : 'Promote'}
          </button>
          {loaded && reason.trim() === '' && !done && (
            <span className="jp-FraudJlab-hint">Type a reason to promote.</span>
          )}
          {gatesFailed && !force && !done && (
            <span className="jp-FraudJlab-hint">
              Gates failed: promoting needs the override.
            </span>
          )}
        </div>
      </div>
    </div>
  );
}

/**
 * Open the promotion dialog of a run. Resolves when the dialog is closed
 * with the record of the promotion made in it, if any.
 */
export function showPromoteDialog(
  service: IFraudJlabService,
  runId: string
): Promise<IPromotionRecord | null> {
  return showPanelDialog<IPromotionRecord>(
    'Promote run to production',
    done => <PromotePanel service={service} runId={runId} onPromoted={done} />
  );
}
