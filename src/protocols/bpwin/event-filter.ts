import { EVENT_NOTES, type BpwinEvent } from './events';

export interface EventFilterOptions {
  /** Notes to pass; the four known ones. */
  notes: readonly string[];
  /** Pass Notes BPWin may add later (not one of the four). */
  otherNotes: boolean;
  /** Status values to pass (case-insensitive); empty = all. */
  statuses: readonly string[];
}

/** "Fail, Complete" → ["fail", "complete"]. */
export function parseStatusList(text: unknown): string[] {
  if (typeof text !== 'string') return [];
  return text
    .split(/[,;\s]+/)
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s !== '');
}

/** Output index per Note when each Note has its own output: the four known Notes, then "other". */
export function noteOutput(note: string): number {
  const index = (EVENT_NOTES as readonly string[]).indexOf(note);
  return index === -1 ? EVENT_NOTES.length : index;
}

export function createEventFilter(options: EventFilterOptions): (event: BpwinEvent) => boolean {
  const notes = new Set(options.notes);
  const statuses = new Set(options.statuses.map((s) => s.toLowerCase()));
  const known = new Set<string>(EVENT_NOTES);
  // The default (every Note, any status) needs no look-up per event.
  if (options.otherNotes && statuses.size === 0 && EVENT_NOTES.every((note) => notes.has(note))) return () => true;
  return (event) => {
    const noteOk = known.has(event.note) ? notes.has(event.note) : options.otherNotes;
    return noteOk && (statuses.size === 0 || statuses.has(event.status.toLowerCase()));
  };
}
