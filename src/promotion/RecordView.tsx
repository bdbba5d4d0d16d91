import React from 'react';

import { IPromotionRecord } from '../api';
import { endpointChangeText, kindLabel } from './kinds';

/** Local date and time of an ISO timestamp (the ISO text when unparsable). */
export function formatTimestamp(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString();
}

/** Props of {@link RecordView}. */
export interface IRecordViewProps {
  record: IPromotionRecord;
}

/** The ledger record of a promotion or rollback, as a definition list. */
export function RecordView(props: IRecordViewProps): JSX.Element {
  const { record } = props;
  const rows: Array<[string, string | null]> = [
    ['Promotion id', record.promotion_id],
    ['Kind', kindLabel(record.kind)],
    ['A/B test', record.ab_test_id ?? null],
    ['Endpoint', endpointChangeText(record)],
    ['Status', record.status],
    ['Run', record.run_id],
    ['Experiment', record.experiment_name],
    ['Approver', record.approver],
    ['Reason', record.reason],
    ['Time', formatTimestamp(record.timestamp)],
    [
      'Forced past failed gates',
      record.forced
        ? `yes${record.forced_gates && record.forced_gates.length ? ` (${record.forced_gates.join(', ')})` : ''}`
        : 'no'
    ],
    ['Parameter Store backup', record.parameter_store_backup_key],
    ['Config file backup', record.config_file_backup_key ?? '—'],
    [
      'Pipeline execution ARN',
      record.pipeline_execution_arn ?? 'not triggered'
    ],
    ['Pipeline status', record.pipeline_status],
    ['Rollback of', record.rollback_of],
    ['Failed step', record.failed_step],
    ['Error', record.error]
  ];
  return (
    <dl className="jp-FraudJlab-record" aria-label="Promotion record">
      {rows
        .filter(([, value]) => value !== null && value !== '')
        .map(([label, value]) => (
          <React.Fragment key={label}>
            <dt>{label}</dt>
            <dd
              className={
                label === 'Status'
                  ? `jp-FraudJlab-promotionStatus jp-mod-${value}`
                  : undefined
              }
            >
              {value}
            </dd>
          </React.Fragment>
        ))}
    </dl>
  );
}
