import { ReactWidget } from '@jupyterlab/apputils';
import React, { useCallback, useEffect, useRef, useState } from 'react';

import {
  IBaselineEntry,
  IProductionView,
  IPromotionRecord,
  IUnfinishedAttempt,
  JSONObject,
  JSONValue,
  RollbackTarget
} from '../api';
import { asError } from '../loading';
import { IFraudJlabService } from '../tokens';
import { ErrorMessage } from './PromoteDialog';
import { endpointChangeText, isEndpointChange, kindLabel } from './kinds';
import { formatTimestamp } from './RecordView';
import {
  askBaselineReason,
  askRecoverReason,
  askRollbackReason
} from './rollback';

/** How many ledger records one "Load more" fetches. */
export const HISTORY_PAGE_SIZE = 20;

/** Props of {@link ProductionPanel}. */
export interface IProductionPanelProps {
  service: IFraudJlabService;
  /** Called after a rollback made here succeeded. */
  onRolledBack?: (record: IPromotionRecord) => void;
}

interface IHistory {
  records: IPromotionRecord[];
  nextPageToken: string | null;
  /** The state before fraud_jlab's first promotion (from the first page). */
  baseline: IBaselineEntry | null;
}

function field(value: JSONValue | undefined): string | null {
  if (value === undefined || value === null) {
    return null;
  }
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** The `model` part of the production config (version, approver, date). */
function modelSummary(config: JSONObject | null): Array<[string, string]> {
  const model = config?.model;
  if (!model || typeof model !== 'object' || Array.isArray(model)) {
    return [];
  }
  const rows: Array<[string, string | null]> = [
    ['Model version', field(model.version)],
    ['Algorithm', field(model.algorithm)],
    ['Approved by', field(model.approved_by)],
    ['Tested', field(model.tested_date)]
  ];
  return rows.filter((row): row is [string, string] => row[1] !== null);
}

/** What is live now: SSM values, config model summary, the promotion that set them. */
function LiveState(props: { state: IProductionView }): JSX.Element {
  const { state } = props;
  const ssm = Object.entries(state.ssm);
  const model = modelSummary(state.config);
  return (
    <section aria-label="Live production" className="jp-FraudJlab-live">
      <h3>Live</h3>
      <table className="jp-FraudJlab-kv" aria-label="Parameter Store values">
        <tbody>
          {ssm.length === 0 && (
            <tr>
              <td className="jp-FraudJlab-muted">No Parameter Store values.</td>
            </tr>
          )}
          {ssm.map(([path, value]) => (
            <tr key={path}>
              <th scope="row" title={path}>
                {path.split('/').filter(Boolean).pop() ?? path}
              </th>
              <td title={path}>{value ?? '(not set)'}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <table className="jp-FraudJlab-kv" aria-label="Production config">
        <tbody>
          {model.length === 0 && (
            <tr>
              <td className="jp-FraudJlab-muted">No production config file.</td>
            </tr>
          )}
          {model.map(([label, value]) => (
            <tr key={label}>
              <th scope="row">{label}</th>
              <td>{value}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p className="jp-FraudJlab-setBy">
        {state.promotion
          ? `Set by ${kindLabel(state.promotion.kind)} ${state.promotion.promotion_id} ` +
            `(run ${state.promotion.run_id}, ${state.promotion.approver}, ` +
            `${formatTimestamp(state.promotion.timestamp)})`
          : 'Not set by a recorded promotion.'}
      </p>
    </section>
  );
}

/** Warning that promotions died mid-way, with the Recover button. */
function UnfinishedBanner(props: {
  attempts: IUnfinishedAttempt[];
  busy: boolean;
  onRecover: () => void;
}): JSX.Element {
  const { attempts, busy, onRecover } = props;
  return (
    <section
      role="alert"
      aria-label="Unfinished promotions"
      className="jp-FraudJlab-error jp-FraudJlab-unfinished"
    >
      <strong>Production may be half-written.</strong>
      <ul>
        {attempts.map(a => (
          <li key={a.promotion_id}>{a.message}</li>
        ))}
      </ul>
      <button
        type="button"
        className="jp-FraudJlab-button"
        disabled={busy}
        aria-label="Recover production"
        onClick={onRecover}
      >
        Recover
      </button>
    </section>
  );
}

/**
 * Production can be rolled back to the state a completed record wrote,
 * unless that state is the live one already. Endpoint changes (`ab_*`) are
 * rolled back from their A/B test, not from the Parameter Store history.
 */
export function canRollBack(
  record: IPromotionRecord,
  liveId: string | null
): boolean {
  return (
    record.status === 'completed' &&
    record.promotion_id !== liveId &&
    !isEndpointChange(record)
  );
}

/** A record can be undone (its "before" state restored) when it took a backup. */
export function canUndo(record: IPromotionRecord): boolean {
  return record.parameter_store_backup_key !== '' && !isEndpointChange(record);
}

/** History wording of a rollback: "undoes X" or "restores the state of X". */
export function rollbackWords(record: IPromotionRecord): string | null {
  if (!record.rollback_of) {
    return null;
  }
  return record.rollback_target === 'before'
    ? `undoes ${record.rollback_of}`
    : `restores the state of ${record.rollback_of}`;
}

/** The restorable entry for the production that predates fraud_jlab. */
function BaselineHistoryEntry(props: {
  baseline: IBaselineEntry;
  busy: boolean;
  onRestore: (baseline: IBaselineEntry) => void;
}): JSX.Element {
  const { baseline, busy, onRestore } = props;
  return (
    <li
      className="jp-FraudJlab-historyEntry jp-FraudJlab-baseline"
      aria-label="Before fraud_jlab"
    >
      <div className="jp-FraudJlab-historyHeader">
        <span className="jp-FraudJlab-historyTitle">Before fraud_jlab</span>
        <button
          type="button"
          className="jp-FraudJlab-button"
          disabled={busy}
          aria-label="Restore the state before fraud_jlab"
          onClick={() => onRestore(baseline)}
        >
          Restore
        </button>
      </div>
      <div className="jp-FraudJlab-historyMeta">
        backup {formatTimestamp(baseline.timestamp)} ·{' '}
        <code>{baseline.parameter_store_backup_key}</code>
      </div>
    </li>
  );
}

/** One ledger entry of the history list. */
function HistoryEntry(props: {
  record: IPromotionRecord;
  liveId: string | null;
  busy: boolean;
  onRollback: (record: IPromotionRecord, target: RollbackTarget) => void;
}): JSX.Element {
  const { record, liveId, busy, onRollback } = props;
  const words = rollbackWords(record);
  const title = `${kindLabel(record.kind)} ${record.promotion_id}`;
  const endpoint = isEndpointChange(record) ? endpointChangeText(record) : null;
  return (
    <li className="jp-FraudJlab-historyEntry" aria-label={title}>
      <div className="jp-FraudJlab-historyHeader">
        <span
          className={`jp-FraudJlab-promotionStatus jp-mod-${record.status}`}
          aria-label={`status ${record.status}`}
        >
          {record.status}
        </span>
        <span className="jp-FraudJlab-historyTitle">{title}</span>
        {record.promotion_id === liveId && (
          <span className="jp-FraudJlab-liveBadge">live</span>
        )}
        {canRollBack(record, liveId) && (
          <button
            type="button"
            className="jp-FraudJlab-button"
            disabled={busy}
            aria-label={`Roll back to ${record.promotion_id}`}
            onClick={() => onRollback(record, 'after')}
          >
            Rollback
          </button>
        )}
        {canUndo(record) && (
          <button
            type="button"
            className="jp-FraudJlab-button"
            disabled={busy}
            aria-label={`Undo ${record.promotion_id}`}
            title="Restore the state before this change"
            onClick={() => onRollback(record, 'before')}
          >
            Undo
          </button>
        )}
      </div>
      <div className="jp-FraudJlab-historyMeta">
        {formatTimestamp(record.timestamp)} · {record.approver} · run{' '}
        <code>{record.run_id}</code>
        {words && <> · {words}</>}
        {record.forced &&
          (record.forced_gates && record.forced_gates.length > 0
            ? ` · forced override of ${record.forced_gates.join(', ')}`
            : ' · forced')}
      </div>
      {endpoint && (
        <div
          className="jp-FraudJlab-historyEndpoint"
          aria-label="Endpoint change"
        >
          {record.ab_test_id ? `A/B test ${record.ab_test_id} · ` : ''}
          {endpoint}
        </div>
      )}
      <div className="jp-FraudJlab-historyReason">{record.reason}</div>
      {record.error && (
        <div className="jp-FraudJlab-error">
          {record.failed_step ? `${record.failed_step}: ` : ''}
          {record.error}
        </div>
      )}
    </li>
  );
}

/**
 * The "Production" section of the fraud_jlab sidebar: what is live and the
 * promotion history (newest first, paged), with rollback.
 *
 * Reloads whenever this client changes production (promotion, rollback, A/B change).
 */
export function ProductionPanel(props: IProductionPanelProps): JSX.Element {
  const { service, onRolledBack } = props;
  const [live, setLive] = useState<IProductionView | null>(null);
  const [history, setHistory] = useState<IHistory | null>(null);
  // True until the first answer, so nobody mistakes the empty panel for the state.
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<{ title: string; error: Error } | null>(
    null
  );
  const [busy, setBusy] = useState(false);
  // Answers of an older reload must not overwrite a newer one.
  const generation = useRef(0);

  const reload = useCallback(async (): Promise<void> => {
    const current = ++generation.current;
    setLoading(true);
    try {
      const [state, page] = await Promise.all([
        service.getProduction(),
        service.listPromotions(HISTORY_PAGE_SIZE)
      ]);
      if (current === generation.current) {
        setLive(state);
        setHistory({
          records: page.promotions,
          nextPageToken: page.next_page_token,
          baseline: page.baseline ?? null
        });
        setError(null);
      }
    } catch (reason) {
      if (current === generation.current) {
        setError({
          title: 'Could not load production',
          error: asError(reason)
        });
      }
    } finally {
      if (current === generation.current) {
        setLoading(false);
      }
    }
  }, [service]);

  useEffect(() => {
    void reload();
    const onChanged = (): void => {
      void reload();
    };
    service.productionChanged.connect(onChanged);
    // A/B changes switch the endpoint and write ledger records too.
    service.abTestChanged.connect(onChanged);
    return () => {
      service.productionChanged.disconnect(onChanged);
      service.abTestChanged.disconnect(onChanged);
    };
  }, [service, reload]);

  const loadMore = async (): Promise<void> => {
    if (!history?.nextPageToken) {
      return;
    }
    const current = generation.current;
    setLoading(true);
    try {
      const page = await service.listPromotions(
        HISTORY_PAGE_SIZE,
        history.nextPageToken
      );
      if (current === generation.current) {
        setHistory(previous => ({
          records: [...(previous?.records ?? []), ...page.promotions],
          nextPageToken: page.next_page_token,
          baseline: previous?.baseline ?? null
        }));
      }
    } catch (reason) {
      if (current === generation.current) {
        setError({
          title: 'Could not load more history',
          error: asError(reason)
        });
      }
    } finally {
      if (current === generation.current) {
        setLoading(false);
      }
    }
  };

  const rollback = async (
    record: IPromotionRecord,
    target: RollbackTarget
  ): Promise<void> => {
    const reason = await askRollbackReason(record, target);
    if (reason === null) {
      return;
    }
    await restore(record.promotion_id, reason, target);
  };

  const restoreBaseline = async (baseline: IBaselineEntry): Promise<void> => {
    const reason = await askBaselineReason(baseline);
    if (reason === null) {
      return;
    }
    await restore(baseline.promotion_id, reason, 'before');
  };

  const restore = async (
    promotionId: string,
    reason: string,
    target: RollbackTarget
  ): Promise<void> => {
    setBusy(true);
    try {
      // The service emits productionChanged, which reloads this panel.
      const result = await service.rollback(promotionId, { reason, target });
      setError(null);
      onRolledBack?.(result);
    } catch (reason) {
      setError({ title: 'Rollback failed', error: asError(reason) });
    } finally {
      setBusy(false);
    }
  };

  const recover = async (): Promise<void> => {
    const attempts = live?.unfinished ?? [];
    const reason = await askRecoverReason(attempts);
    if (reason === null) {
      return;
    }
    setBusy(true);
    try {
      // The service emits productionChanged, which reloads this panel.
      await service.recover({ reason });
      setError(null);
      void reload();
    } catch (reason) {
      setError({ title: 'Recovery failed', error: asError(reason) });
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="jp-FraudJlab-production" aria-busy={loading}>
      <div className="jp-FraudJlab-actions jp-FraudJlab-productionToolbar">
        <span className="jp-FraudJlab-count">
          {loading ? 'Loading…' : 'Production state'}
        </span>
        <button
          type="button"
          className="jp-FraudJlab-button"
          onClick={() => void reload()}
          disabled={loading}
          aria-label="Refresh production"
        >
          Refresh
        </button>
      </div>
      {error && <ErrorMessage error={error.error} title={error.title} />}
      {live && (live.unfinished?.length ?? 0) > 0 && (
        <UnfinishedBanner
          attempts={live.unfinished ?? []}
          busy={busy}
          onRecover={() => void recover()}
        />
      )}
      {live && <LiveState state={live} />}
      {history && (
        <section
          aria-label="Promotion history"
          className="jp-FraudJlab-history"
        >
          <h3>History</h3>
          {history.records.length === 0 ? (
            <p className="jp-FraudJlab-muted">No promotions yet.</p>
          ) : (
            <ol className="jp-FraudJlab-historyList">
              {history.records.map(record => (
                <HistoryEntry
                  key={record.promotion_id}
                  record={record}
                  liveId={live?.promotion?.promotion_id ?? null}
                  busy={busy}
                  onRollback={(r, target) => void rollback(r, target)}
                />
              ))}
              {history.baseline && !history.nextPageToken && (
                <BaselineHistoryEntry
                  baseline={history.baseline}
                  busy={busy}
                  onRestore={b => void restoreBaseline(b)}
                />
              )}
            </ol>
          )}
          {history.nextPageToken && (
            <button
              type="button"
              className="jp-FraudJlab-button"
              onClick={() => void loadMore()}
              disabled={loading}
            >
              Load more
            </button>
          )}
        </section>
      )}
    </div>
  );
}

/** The sidebar section widget hosting {@link ProductionPanel}. */
export class ProductionSection extends ReactWidget {
  constructor(private readonly _props: IProductionPanelProps) {
    super();
    this.addClass('jp-FraudJlab-productionSection');
    this.title.label = 'Production';
    this.title.caption =
      'What is live in production, and the promotion history';
  }

  protected render(): JSX.Element {
    return <ProductionPanel {...this._props} />;
  }
}
