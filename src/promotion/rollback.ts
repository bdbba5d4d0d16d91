import { Dialog } from '@jupyterlab/apputils';
import { Widget } from '@lumino/widgets';

import {
  IBaselineEntry,
  IPromotionRecord,
  IUnfinishedAttempt,
  RollbackTarget
} from '../api';
import { formatTimestamp } from './RecordView';

/**
 * Dialog body asking why a promotion is rolled back. The textarea is marked
 * in error while it holds no text, which keeps the dialog's accept button
 * disabled.
 */
class RollbackReasonBody extends Widget implements Dialog.IBodyWidget<string> {
  constructor(question: string) {
    super();
    this.addClass('jp-FraudJlab-rollbackBody');
    const text = document.createElement('p');
    text.textContent = question;
    const label = document.createElement('label');
    label.className = 'jp-FraudJlab-field';
    const caption = document.createElement('span');
    caption.textContent = 'Reason (required, recorded in the ledger)';
    this._reason = document.createElement('textarea');
    this._reason.className = 'jp-FraudJlab-reason';
    this._reason.required = true;
    this._reason.rows = 2;
    this._reason.addEventListener('input', () => {
      // The dialog checks its inputs in a capturing listener, before this
      // one ran: tell it again when the verdict changed.
      if (this.validate()) {
        this.announce();
      }
    });
    label.append(caption, this._reason);
    this.node.append(text, label);
    this.validate();
  }

  /**
   * Mark the reason invalid while blank (whitespace does not count).
   *
   * @returns whether the verdict changed.
   */
  validate(): boolean {
    const blank = this._reason.value.trim() === '';
    const changed = this._reason.classList.contains('jp-mod-error') !== blank;
    this._reason.classList.toggle('jp-mod-error', blank);
    this._reason.setAttribute('aria-invalid', String(blank));
    return changed;
  }

  /** Let the dialog re-check its inputs (it only does so on `input` events). */
  announce(): void {
    this._reason.dispatchEvent(new Event('input', { bubbles: true }));
  }

  getValue(): string {
    return this._reason.value.trim();
  }

  private _reason: HTMLTextAreaElement;
}

/**
 * Ask for confirmation and a reason before restoring the production state
 * that `record` wrote (`target` "after") or the state before it ("before":
 * undo it).
 *
 * @returns the reason, or `null` when the user cancelled.
 */
export async function askRollbackReason(
  record: IPromotionRecord,
  target: RollbackTarget = 'after'
): Promise<string | null> {
  const what =
    `${record.kind} ${record.promotion_id} (run ${record.run_id}, ` +
    `${formatTimestamp(record.timestamp)}, by ${record.approver})`;
  if (target === 'before') {
    return askReason(
      'Undo change',
      'Undo',
      `Undo ${what}? Parameter Store and the production config file are set ` +
        'back to the state before it, from its backup; the undo is recorded in ' +
        'the ledger.'
    );
  }
  return askReason(
    'Roll back production',
    'Roll back',
    `Roll production back to ${what}? Parameter Store and the production ` +
      'config file are set back to the values it wrote; the rollback is ' +
      'recorded in the ledger.'
  );
}

/**
 * Ask for confirmation and a reason before restoring the production state
 * that predates fraud_jlab (the first record's backup).
 *
 * @returns the reason, or `null` when the user cancelled.
 */
export async function askBaselineReason(
  baseline: IBaselineEntry
): Promise<string | null> {
  return askReason(
    'Restore the state before fraud_jlab',
    'Restore',
    'Restore production to its state before fraud_jlab’s first promotion ' +
      `(backup ${baseline.parameter_store_backup_key}, ` +
      `${formatTimestamp(baseline.timestamp)})? The restore is recorded in the ledger.`
  );
}

/**
 * Ask for confirmation and a reason before recovering from promotions whose
 * process died mid-way.
 *
 * @returns the reason, or `null` when the user cancelled.
 */
export async function askRecoverReason(
  attempts: IUnfinishedAttempt[]
): Promise<string | null> {
  const names = attempts
    .map(a => `${a.kind} ${a.promotion_id} (run ${a.run_id}, ${a.approver})`)
    .join(', ');
  return askReason(
    'Recover production',
    'Recover',
    `Restore production to its state before ${names}? Values someone else ` +
      'changed since are left as they are and reported; the recovery is ' +
      'recorded in the ledger.'
  );
}

async function askReason(
  title: string,
  label: string,
  question: string
): Promise<string | null> {
  const body = new RollbackReasonBody(question);
  const dialog = new Dialog<string>({
    title,
    body,
    buttons: [Dialog.cancelButton(), Dialog.warnButton({ label })],
    focusNodeSelector: 'textarea',
    defaultButton: 0
  });
  const result = dialog.launch();
  await dialog.ready;
  body.announce();
  const { button, value } = await result;
  if (!button.accept || !value) {
    return null;
  }
  return value;
}
