import { LabIcon, SidePanel } from '@jupyterlab/ui-components';
import { ISignal, Signal } from '@lumino/signaling';
import { SplitPanel, Widget } from '@lumino/widgets';

import logoSvg from '../../style/icons/fraud-jlab.svg';
import { IFraudJlabSidebar, SIDEBAR_ID } from '../tokens';
import { RunsModel } from './model';

/** The fraud_jlab icon (sidebar tab, settings editor). */
export const fraudJlabIcon = new LabIcon({
  name: 'fraud-jlab:logo',
  svgstr: logoSvg
});

/** Rank of the runs section; other sections pick ranks around it. */
export const RUNS_SECTION_RANK = 100;

/** Share of the sidebar height the runs section gets relative to others (1). */
export const RUNS_SECTION_STRETCH = 3;

/**
 * The left sidebar: a SidePanel whose collapsible sections are ordered by
 * rank (runs first, then e.g. the production section).
 */
export class FraudJlabSidebar implements IFraudJlabSidebar {
  constructor(
    private readonly _model: RunsModel,
    private readonly _activate: () => void
  ) {
    this.panel = new SidePanel();
    this.panel.id = SIDEBAR_ID;
    this.panel.addClass('jp-FraudJlab-sidebar');
    this.panel.title.icon = fraudJlabIcon;
    this.panel.title.caption = 'fraud_jlab';
    this._model.selectionChanged.connect((_, ids) =>
      this._selectionChanged.emit(ids)
    );
  }

  /** The widget added to the left area. */
  readonly panel: SidePanel;

  /**
   * Add a section ordered by rank; `stretch` is its share of the height
   * relative to the other sections.
   */
  addSection(widget: Widget, rank = 500, stretch = 1): void {
    let index = this._sections.findIndex(section => section.rank > rank);
    if (index < 0) {
      index = this._sections.length;
    }
    this._sections.splice(index, 0, { widget, rank });
    SplitPanel.setStretch(widget, stretch);
    this.panel.insertWidget(index, widget);
    widget.disposed.connect(() => {
      this._sections = this._sections.filter(s => s.widget !== widget);
    });
  }

  activate(): void {
    this._activate();
  }

  get selectedRunIds(): readonly string[] {
    return this._model.selectedRunIds;
  }

  get selectionChanged(): ISignal<IFraudJlabSidebar, readonly string[]> {
    return this._selectionChanged;
  }

  private _sections: Array<{ widget: Widget; rank: number }> = [];
  private _selectionChanged = new Signal<IFraudJlabSidebar, readonly string[]>(
    this
  );
}
