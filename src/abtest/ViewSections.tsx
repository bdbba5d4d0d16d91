import React from 'react';

import {
  IABDataSummary,
  IABLatency,
  IABRecommendation,
  IABTestView,
  IABVariantReadout
} from '../api';
import { formatTimestamp } from '../promotion/RecordView';
import {
  asDesign,
  asReadout,
  asSampleRatio,
  formatEstimate,
  formatNumber,
  variantOrder
} from './format';

/** The sample-size design frozen at start: what the test needs and whether it is feasible. */
export function DesignSection(props: { view: IABTestView }): JSX.Element {
  const design = asDesign(props.view.design ?? props.view.state.design);
  return (
    <section aria-label="Design" className="jp-FraudJlab-abBlock">
      <h3>Design</h3>
      {design === null ? (
        <p className="jp-FraudJlab-muted">No design recorded for this test.</p>
      ) : (
        <>
          <table className="jp-FraudJlab-kv" aria-label="Design numbers">
            <tbody>
              <tr>
                <th scope="row">Labelled frauds needed</th>
                <td className="jp-mod-numeric">
                  {formatNumber(design.frauds_needed)}
                </td>
              </tr>
              <tr>
                <th scope="row">Records needed</th>
                <td className="jp-mod-numeric">
                  {formatNumber(design.records_needed)}
                </td>
              </tr>
              <tr>
                <th scope="row">Days needed</th>
                <td className="jp-mod-numeric">
                  {formatNumber(design.days_needed)}
                  {` (${formatNumber(design.expected_days_if_effect)} expected if the effect is real)`}
                </td>
              </tr>
            </tbody>
          </table>
          <p className="jp-FraudJlab-abSentence" aria-label="Feasibility">
            {design.summary.charAt(0).toUpperCase() + design.summary.slice(1)}.
          </p>
        </>
      )}
    </section>
  );
}

/** Scored, labelled and unlabelled records, and the label cut-off. */
export function DataSection(props: { data: IABDataSummary }): JSX.Element {
  const { data } = props;
  const rows: Array<[string, string]> = [
    ['Scored', formatNumber(data.records_scored)],
    ['Labelled', formatNumber(data.records_labelled)],
    ['Unlabelled (no label yet)', formatNumber(data.records_unlabelled)],
    ['Labelled frauds', formatNumber(data.frauds_labelled)],
    [
      'Label cut-off',
      data.label_cutoff ? formatTimestamp(data.label_cutoff) : 'no labels yet'
    ],
    [
      'Information',
      data.information_fraction === null
        ? '—'
        : `${(data.information_fraction * 100).toFixed(0)}% of the design's frauds`
    ]
  ];
  if (data.truncated) {
    rows.push([
      'Capture read',
      'partly: more capture exists than one read takes (counts are a lower bound)'
    ]);
  }
  if (data.malformed > 0) {
    rows.push([
      'Malformed capture lines (skipped)',
      formatNumber(data.malformed)
    ]);
  }
  return (
    <section aria-label="Data" className="jp-FraudJlab-abBlock">
      <h3>Data</h3>
      <table className="jp-FraudJlab-kv" aria-label="Data summary">
        <tbody>
          {rows.map(([label, value]) => (
            <tr key={label}>
              <th scope="row">{label}</th>
              <td className="jp-mod-numeric">{value}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

type MetricRow = {
  label: string;
  value: (
    r: IABVariantReadout | undefined,
    l: IABLatency | undefined
  ) => string;
};

function latency(key: 'p50_ms' | 'p95_ms' | 'p99_ms'): MetricRow['value'] {
  return (_, l) => {
    const value = l?.[key];
    return value === null || value === undefined
      ? '—'
      : `${formatNumber(value)} ms`;
  };
}

/** Per-variant readout with 95% intervals, then the latency percentiles. */
export function ReadoutSection(props: { view: IABTestView }): JSX.Element {
  const { view } = props;
  const readout = asReadout(view.readout);
  const variants = variantOrder([
    ...Object.keys(readout?.variants ?? {}),
    ...Object.keys(view.latency),
    ...Object.keys(view.state.weights)
  ]);
  const fpr = readout ? ` (FPR ${formatNumber(readout.target_fpr)})` : '';
  const rows: MetricRow[] = [
    { label: 'Labelled records', value: r => formatNumber(r?.n_labelled) },
    { label: 'Frauds', value: r => formatNumber(r?.frauds) },
    {
      label: 'Average precision',
      value: r => formatEstimate(r?.average_precision)
    },
    {
      label: `Recall at FPR${fpr}`,
      value: r => formatEstimate(r?.recall_at_fpr)
    },
    { label: 'Alert rate', value: r => formatEstimate(r?.alert_rate) },
    {
      label: 'Alert precision',
      value: r => formatEstimate(r?.alert_precision)
    },
    { label: 'Latency p50', value: latency('p50_ms') },
    { label: 'Latency p95', value: latency('p95_ms') },
    { label: 'Latency p99', value: latency('p99_ms') }
  ];
  return (
    <section aria-label="Readout" className="jp-FraudJlab-abBlock">
      <h3>Readout</h3>
      {readout === null && (
        <p className="jp-FraudJlab-muted">
          No labelled data yet: quality metrics appear once labels arrive.
        </p>
      )}
      <table
        className="jp-FraudJlab-diff jp-FraudJlab-abReadout"
        aria-label="Readout per variant"
      >
        <thead>
          <tr>
            <th scope="col">Metric (95% CI)</th>
            {variants.map(v => (
              <th scope="col" key={v}>
                {v}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map(row => (
            <tr key={row.label}>
              <th scope="row">{row.label}</th>
              {variants.map(v => (
                <td key={v} className="jp-mod-numeric">
                  {row.value(readout?.variants[v], view.latency[v])}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
      <p className="jp-FraudJlab-muted">
        Latency source:{' '}
        {variants
          .map(v => `${v} ${view.latency[v]?.source ?? 'none'}`)
          .join(', ')}
      </p>
    </section>
  );
}

/** The sample-ratio-mismatch check: observed split vs planned weights. */
export function SrmSection(props: { view: IABTestView }): JSX.Element {
  const srm = asSampleRatio(props.view.srm);
  if (srm === null) {
    return (
      <section aria-label="Sample ratio" className="jp-FraudJlab-abBlock">
        <h3>Sample ratio</h3>
        <p className="jp-FraudJlab-muted">Not enough traffic to check yet.</p>
      </section>
    );
  }
  return (
    <section aria-label="Sample ratio" className="jp-FraudJlab-abBlock">
      <h3>Sample ratio</h3>
      <p
        className={
          srm.alarm ? 'jp-FraudJlab-srm jp-mod-alarm' : 'jp-FraudJlab-srm'
        }
        role={srm.alarm ? 'alert' : undefined}
        aria-label="SRM status"
      >
        {srm.alarm ? 'SRM alarm' : 'No sample-ratio mismatch'}: p ={' '}
        {formatNumber(srm.p_value)}
      </p>
      <p className="jp-FraudJlab-muted">{srm.detail}</p>
    </section>
  );
}

const ACTION_LABELS: Record<IABRecommendation['action'], string> = {
  promote: 'Promote the challenger',
  continue: 'Continue collecting data',
  stop: 'Stop the test',
  rollback: 'Roll back',
  none: 'Nothing to do: the test is finished'
};

/** What the sequential test recommends, and its reason in words. */
export function RecommendationSection(props: {
  recommendation: IABRecommendation;
}): JSX.Element {
  const { recommendation: r } = props;
  const numbers = [
    r.look !== null ? `look ${r.look}` : null,
    r.statistic !== null ? `statistic ${formatNumber(r.statistic)}` : null,
    r.boundary !== null ? `boundary ${formatNumber(r.boundary)}` : null,
    r.improvement !== null ? `improvement ${formatNumber(r.improvement)}` : null
  ].filter((x): x is string => x !== null);
  return (
    <section aria-label="Recommendation" className="jp-FraudJlab-abBlock">
      <h3>Recommendation</h3>
      <p
        className={`jp-FraudJlab-abAction jp-mod-${r.action}`}
        aria-label="Recommended action"
      >
        {ACTION_LABELS[r.action] ?? r.action}
      </p>
      <p aria-label="Recommendation reason">{r.reason}</p>
      {numbers.length > 0 && (
        <p className="jp-FraudJlab-muted">{numbers.join(' · ')}</p>
      )}
    </section>
  );
}
