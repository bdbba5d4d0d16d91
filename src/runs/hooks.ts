import { CommandRegistry } from '@lumino/commands';
import { useEffect, useState, useSyncExternalStore } from 'react';

import { RunsModel } from './model';

/** Re-render the calling component whenever the runs model changes. */
export function useRunsModel(model: RunsModel): number {
  return useSyncExternalStore(
    onChange => {
      const slot = (): void => onChange();
      model.changed.connect(slot);
      return () => {
        model.changed.disconnect(slot);
      };
    },
    () => model.version
  );
}

/**
 * Whether a command exists, updated when commands are added or removed
 * (the compare/promotion plugins may activate after the sidebar).
 */
export function useHasCommand(commands: CommandRegistry, id: string): boolean {
  const [has, setHas] = useState(() => commands.hasCommand(id));
  useEffect(() => {
    const slot = (): void => setHas(commands.hasCommand(id));
    commands.commandChanged.connect(slot);
    slot();
    return () => {
      commands.commandChanged.disconnect(slot);
    };
  }, [commands, id]);
  return has;
}
