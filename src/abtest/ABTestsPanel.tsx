import { ReactWidget } from '@jupyterlab/apputils';
import { ISignal, Signal } from '@lumino/signaling';
import React, { useCallback, useEffect, useRef, useState } from 'react';

import { ABTestChangeAction, IABTestState, IABTestView } from '../api';
import { PlotlyChart } from '../compare/PlotlyChart';
import { formatPercent } from '../promotion/kinds';
import { asError } from '../loading';
import { ErrorMessage } from '../promotion/PromoteDialog';
import { formatTimestamp } from '../promotion/RecordView';
import { IFraudJlabService } from '../tokens';
import { showChangeDialog } from './ChangeDialog';
import {
  allowedActions,
  STATUS_LABELS,
  stageText,
  variantOrder
} from './format';
import { ACTION_WORDS, changeSpec } from './specs';
import { timelineFigure } from './timeline';
import {
  DataSection,
  DesignSection,
  ReadoutSection,
  RecommendationSection,
  SrmSection
} from './ViewSections';

/** Props of {@link ABTestsPanel}. */
export interface IABTestsPanelProps {
  service: IFraudJlabService;
  /** Asks the panel to select a test (the open-ab-tests command). */
  selectRequests?: ISignal<unknown, string>;
  /** The test to show first (a selection requested before the panel mounted). */
  initialSelected?: string | null;
}

/** Whether an answer of `GET ab-tests/{id}` has the view's parts (not an older server's state). */
function isView(value: IABTestView): boolean {
  const parts = value as Partial<IABTestView>;
  return (
    typeof parts.state === 'object' &&
    parts.state !== null &&
    typeof parts.data === 'object' &&
    typeof parts.recommendation === 'object' &&
    Array.isArray(parts.timeline)
  );
}

/** The variant weights as a stacked bar with its numbers. */
export function WeightsBar(props: { state: IABTestState }): JSX.Element {
  const { state } = props;
  const names = variantOrder(Object.keys(state.weights));
  const total = names.reduce((sum, n) => sum + state.weights[n], 0) || 1;
  const text =
    names.map(n => `${n} ${formatPercent(state.weights[n])}`).join(' · ') +
    (state.stage < 0 ? ' · Challenger shadow' : '');
  return (
    <div className="jp-FraudJlab-weights" aria-label={`Weights ${text}`}>
      <div className="jp-FraudJlab-weightsBar" aria-hidden="true">
        {names.map((n, i) => (
          <span
            key={n}
            className={`jp-FraudJlab-weightsPart jp-mod-variant${i % 4}`}
            style={{ width: `${(100 * state.weights[n]) / total}%` }}
            title={`${n} ${formatPercent(state.weights[n])}`}
          />
        ))}
      </div>
      <span className="jp-FraudJlab-weightsText">{text}</span>
    </div>
  );
}

function TestListEntry(props: {
  state: IABTestState;
  selected: boolean;
  onSelect: () => void;
}): JSX.Element {
  const { state, selected, onSelect } = props;
  return (
    <li
      className={`jp-FraudJlab-abTest${selected ? ' jp-mod-selected' : ''}`}
      aria-label={`A/B test ${state.ab_test_id}`}
      aria-current={selected ? 'true' : undefined}
    >
      <button
        type="button"
        className="jp-FraudJlab-link jp-FraudJlab-abTestName"
        title={`Show A/B test ${state.ab_test_id}`}
        onClick={onSelect}
      >
        {state.ab_test_id}
      </button>
      <div className="jp-FraudJlab-historyMeta">
        <span className={`jp-FraudJlab-abStatus jp-mod-${state.status}`}>
          {STATUS_LABELS[state.status] ?? state.status}
        </span>{' '}
        · <span aria-label="Stage">{stageText(state)}</span> · started{' '}
        {formatTimestamp(state.started_at)} by {state.started_by}
      </div>
      <WeightsBar state={state} />
    </li>
  );
}

/** Advance / Promote / Roll back / Stop, enabled by the test's status. */
function ActionButtons(props: {
  state: IABTestState;
  busy: boolean;
  onAction: (action: ABTestChangeAction) => void;
}): JSX.Element {
  const { state, busy, onAction } = props;
  const allowed = allowedActions(state);
  const actions: ABTestChangeAction[] = [
    'advance',
    'promote',
    'rollback',
    'stop'
  ];
  return (
    <div className="jp-FraudJlab-actions" aria-label="A/B test actions">
      {actions.map(action => (
        <button
          key={action}
          type="button"
          className="jp-FraudJlab-button"
          disabled={busy || !allowed[action]}
          title={ACTION_WORDS[action].caption}
          onClick={() => onAction(action)}
        >
          {ACTION_WORDS[action].verb}…
        </button>
      ))}
    </div>
  );
}

/** One test's view: state, actions, design, data, readout, SRM, recommendation, chart. */
function TestView(props: {
  view: IABTestView;
  busy: boolean;
  onAction: (action: ABTestChangeAction) => void;
}): JSX.Element {
  const { view, busy, onAction } = props;
  const { state } = view;
  const figure = timelineFigure(view.timeline);
  const metric = view.timeline[0]?.metric ?? 'primary metric';
  return (
    <div
      className="jp-FraudJlab-abView"
      role="region"
      aria-label={`A/B test view ${state.ab_test_id}`}
    >
      <h3>
        {state.ab_test_id}{' '}
        <span className={`jp-FraudJlab-abStatus jp-mod-${state.status}`}>
          {STATUS_LABELS[state.status] ?? state.status}
        </span>
      </h3>
      <p className="jp-FraudJlab-muted">
        Challenger run <code>{state.experiment_id}</code> on{' '}
        <code>{state.endpoint_name}</code> · {stageText(state)} of plan{' '}
        {state.plan.map(p => `${p}%`).join(' → ')}
      </p>
      <WeightsBar state={state} />
      <ActionButtons state={state} busy={busy} onAction={onAction} />
      <RecommendationSection recommendation={view.recommendation} />
      <DesignSection view={view} />
      <DataSection data={view.data} />
      <ReadoutSection view={view} />
      <SrmSection view={view} />
      <section aria-label="Timeline" className="jp-FraudJlab-abBlock">
        <h3>Timeline</h3>
        {figure ? (
          <PlotlyChart figure={figure} label={`${metric} per variant`} />
        ) : (
          <p className="jp-FraudJlab-muted">No labelled data over time yet.</p>
        )}
      </section>
      {(state.history ?? []).length > 0 && (
        <section aria-label="A/B test history" className="jp-FraudJlab-abBlock">
          <h3>History</h3>
          <ol className="jp-FraudJlab-historyList">
            {[...(state.history ?? [])].reverse().map(event => (
              <li key={event.event_id} className="jp-FraudJlab-historyEntry">
                <div className="jp-FraudJlab-historyMeta">
                  {event.action} · {formatTimestamp(event.timestamp)} ·{' '}
                  {event.approver} · record <code>{event.promotion_id}</code>
                </div>
                <div className="jp-FraudJlab-historyReason">{event.reason}</div>
              </li>
            ))}
          </ol>
        </section>
      )}
    </div>
  );
}

/**
 * The "A/B tests" section of the fraud_jlab sidebar: every test (status,
 * stage, weights) and the selected one's view, with its audited changes.
 * Reloads after every A/B change made through this client.
 */
export function ABTestsPanel(props: IABTestsPanelProps): JSX.Element {
  const { service, selectRequests, initialSelected } = props;
  const [tests, setTests] = useState<IABTestState[] | null>(null);
  const [selected, setSelected] = useState<string | null>(
    initialSelected ?? null
  );
  const [view, setView] = useState<IABTestView | null>(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<{ title: string; error: Error } | null>(
    null
  );
  const [busy, setBusy] = useState(false);
  const generation = useRef(0);

  const reload = useCallback(async (): Promise<void> => {
    const current = ++generation.current;
    setLoading(true);
    try {
      const page = await service.listABTests();
      if (current === generation.current) {
        setTests(page.ab_tests);
        setError(null);
      }
    } catch (reason) {
      if (current === generation.current) {
        setError({ title: 'Could not load A/B tests', error: asError(reason) });
      }
    } finally {
      if (current === generation.current) {
        setLoading(false);
      }
    }
  }, [service]);

  // The selected test's view, reloaded with the list.
  const [viewGeneration, setViewGeneration] = useState(0);
  useEffect(() => {
    if (selected === null) {
      setView(null);
      return;
    }
    const controller = new AbortController();
    service.getABTestView(selected, controller.signal).then(
      result => {
        if (!isView(result)) {
          setView(null);
          setError({
            title: `Could not load A/B test ${selected}`,
            error: new Error(
              'The server answered without the A/B view (state, data, recommendation): ' +
                'the fraud_jlab server extension is older than this frontend.'
            )
          });
          return;
        }
        setView(result);
        setError(null);
      },
      (reason: unknown) => {
        if (!controller.signal.aborted) {
          setView(null);
          setError({
            title: `Could not load A/B test ${selected}`,
            error: asError(reason)
          });
        }
      }
    );
    return () => controller.abort();
  }, [service, selected, viewGeneration]);

  useEffect(() => {
    void reload();
    const onChanged = (_: unknown, state: IABTestState): void => {
      setSelected(state.ab_test_id);
      setViewGeneration(g => g + 1);
      void reload();
    };
    service.abTestChanged.connect(onChanged);
    const onSelect = (_: unknown, id: string): void => {
      setSelected(id);
      setViewGeneration(g => g + 1);
    };
    selectRequests?.connect(onSelect);
    return () => {
      service.abTestChanged.disconnect(onChanged);
      selectRequests?.disconnect(onSelect);
    };
  }, [service, reload, selectRequests]);

  const act = async (action: ABTestChangeAction): Promise<void> => {
    if (!view) {
      return;
    }
    setBusy(true);
    try {
      // A success emits abTestChanged, which reloads the list and the view.
      await showChangeDialog(service, changeSpec(service, view.state, action));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div
      className="jp-FraudJlab-production jp-FraudJlab-abTests"
      aria-busy={loading}
    >
      <div className="jp-FraudJlab-actions jp-FraudJlab-productionToolbar">
        <span className="jp-FraudJlab-count">
          {loading
            ? 'Loading…'
            : `${tests?.length ?? 0} A/B test${tests?.length === 1 ? '' : 's'}`}
        </span>
        <button
          type="button"
          className="jp-FraudJlab-button"
          onClick={() => {
            setViewGeneration(g => g + 1);
            void reload();
          }}
          disabled={loading}
          aria-label="Refresh A/B tests"
        >
          Refresh
        </button>
      </div>
      {error && <ErrorMessage error={error.error} title={error.title} />}
      {tests && tests.length === 0 && (
        <p className="jp-FraudJlab-muted">
          No A/B tests yet. Start one from a run&apos;s detail (Start A/B
          test…).
        </p>
      )}
      {tests && tests.length > 0 && (
        <ol className="jp-FraudJlab-historyList" aria-label="A/B tests">
          {tests.map(state => (
            <TestListEntry
              key={state.ab_test_id}
              state={state}
              selected={state.ab_test_id === selected}
              onSelect={() => {
                setSelected(state.ab_test_id);
                setViewGeneration(g => g + 1);
              }}
            />
          ))}
        </ol>
      )}
      {selected !== null && view === null && !error && (
        <p role="status" className="jp-FraudJlab-muted">
          Loading the A/B test view…
        </p>
      )}
      {view && view.state.ab_test_id === selected && (
        <TestView view={view} busy={busy} onAction={a => void act(a)} />
      )}
    </div>
  );
}

/** The sidebar section widget hosting {@link ABTestsPanel}. */
export class ABTestsSection extends ReactWidget {
  constructor(service: IFraudJlabService) {
    super();
    this._service = service;
    this.addClass('jp-FraudJlab-productionSection');
    this.title.label = 'A/B tests';
    this.title.caption =
      'A/B tests on the production endpoint: stage, weights, readout, recommendation';
  }

  /** Select (and show) one test. */
  select(abTestId: string): void {
    this._last = abTestId;
    this._select.emit(abTestId);
  }

  protected render(): JSX.Element {
    return (
      <ABTestsPanel
        service={this._service}
        selectRequests={this._select}
        initialSelected={this._last}
      />
    );
  }

  private readonly _service: IFraudJlabService;
  private _last: string | null = null;
  private readonly _select = new Signal<ABTestsSection, string>(this);
}
