import { IEndpointState, IPromotionRecord, PromotionKind } from '../api';

/** What each ledger record kind did, in words (history titles, result lines). */
export const KIND_LABELS: Record<PromotionKind, string> = {
  promotion: 'Promotion',
  rollback: 'Rollback',
  recovery: 'Recovery',
  ab_deploy: 'A/B test started',
  ab_weights: 'A/B traffic split changed',
  ab_promote: 'A/B challenger promoted',
  ab_rollback: 'A/B test rolled back',
  ab_stop: 'A/B test stopped'
};

/** Readable name of a ledger record kind (the kind itself when unknown). */
export function kindLabel(kind: string): string {
  return (KIND_LABELS as Record<string, string>)[kind] ?? kind;
}

/** Whether a ledger record is an audited endpoint change (kind `ab_*`). */
export function isEndpointChange(
  record: Pick<IPromotionRecord, 'kind'>
): boolean {
  return record.kind.startsWith('ab_');
}

/** `Champion 90% · Challenger 10%` (plus shadow variants), or `—`. */
export function weightsText(state: IEndpointState | null | undefined): string {
  if (!state) {
    return '—';
  }
  const parts = Object.entries(state.weights ?? {}).map(
    ([name, weight]) => `${name} ${formatPercent(weight)}`
  );
  for (const shadow of state.shadow_variants ?? []) {
    parts.push(`${shadow} shadow`);
  }
  return parts.length > 0 ? parts.join(' · ') : '—';
}

/** A weight in percent without float noise: 90 -> `90%`, 33.3333 -> `33.3%`. */
export function formatPercent(value: number): string {
  return `${Number(value.toFixed(1))}%`;
}

/** One line describing an endpoint change: config and weights before -> after. */
export function endpointChangeText(record: IPromotionRecord): string | null {
  const before = record.endpoint_before;
  const after = record.endpoint_after;
  if (!before && !after) {
    return null;
  }
  const config =
    before?.config_name !== after?.config_name
      ? `${before?.config_name ?? '—'} → ${after?.config_name ?? '—'}`
      : (after?.config_name ?? before?.config_name ?? '—');
  return `${after?.endpoint_name ?? before?.endpoint_name}: ${config}; ${weightsText(before)} → ${weightsText(after)}`;
}
