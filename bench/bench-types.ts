/**
 * The shape every benchmark returns; bench/run.ts prints them together. Ratios, not absolute
 * times, are what we compare: this machine is shared and noisy.
 */
export interface BenchRow {
  /** What was measured, e.g. "pipelined calls/s via nebv client". */
  name: string;
  value: number;
  unit: string;
  /** value divided by the baseline's value (or inverted where lower is better), with the baseline named. */
  ratio?: { against: string; value: number; target?: string };
}

export interface BenchSection {
  title: string;
  rows: BenchRow[];
  notes?: string[];
}

/** Each bench/<system>.bench.ts exports `run` with this type. */
export type BenchRun = () => Promise<BenchSection>;
