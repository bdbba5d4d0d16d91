import { Dialog, ReactWidget } from '@jupyterlab/apputils';

/** A React element as a dialog body. */
class PanelBody extends ReactWidget {
  constructor(private readonly _render: () => JSX.Element) {
    super();
    this.addClass('jp-FraudJlab-promoteBody');
  }

  protected render(): JSX.Element {
    return this._render();
  }
}

/**
 * Open a dialog whose body is a React panel with its own confirm button
 * (the dialog itself only has Close). `render` receives `done`, which the
 * panel calls with what it achieved; the promise resolves when the dialog is
 * closed, with the last value passed to `done` (null if none).
 */
export async function showPanelDialog<T>(
  title: string,
  render: (done: (value: T) => void) => JSX.Element
): Promise<T | null> {
  let result: T | null = null;
  const body = new PanelBody(() =>
    render(value => {
      result = value;
    })
  );
  const dialog = new Dialog({
    title,
    body,
    buttons: [Dialog.cancelButton({ label: 'Close' })],
    focusNodeSelector: 'textarea',
    hasClose: true
  });
  dialog.addClass('jp-FraudJlab-promoteDialog');
  await dialog.launch();
  return result;
}
