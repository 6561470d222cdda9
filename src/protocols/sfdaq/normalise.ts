/**
 * Replies of the documented and the current broker differ in shape; a flow should not care.
 * Each normaliser maps either shape to one result, keeping `message` where it says something.
 */
import { isPlainObject, type Params } from './validate';

export type Reply = Record<string, unknown>;
export type Result = Record<string, unknown>;

/** A run number as a number, from a number or numeric text ("22"). */
function asNumber(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(value)) return Number(value);
  return undefined;
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function textMessage(reply: Reply): Result {
  return typeof reply.message === 'string' ? { message: reply.message } : {};
}

/** Everything but the status envelope. */
function rest(reply: Reply): Result {
  const { status: _status, message: _message, exception: _exception, ...others } = reply;
  return others;
}

function runNumber(reply: Reply): Result {
  // Documented: {"message": "22"}; current code: {"run_number": 22}.
  return { run_number: asNumber(reply.run_number) ?? asNumber(reply.message) };
}

function baseName(path: unknown): string {
  return String(path).split('/').pop() ?? '';
}

/**
 * The same fields from both generations: copied [{source, destination}], failed [{file, reason}].
 * Current: destination_files {source: dest}, error_files {source: reason}. Documented:
 * destination_file_path [dest] and error_files [source], no reasons (null); a destination's source
 * is the requested file of the same name (the broker copies into aux/ under the file's own name).
 */
function copiedFiles(reply: Reply, request: Params): Result {
  const failed = isPlainObject(reply.error_files)
    ? Object.entries(reply.error_files).map(([file, why]) => ({ file, reason: textOrNull(why) }))
    : list(reply.error_files).map((file) => ({ file: String(file), reason: null }));
  if (isPlainObject(reply.destination_files)) {
    const copied = Object.entries(reply.destination_files).map(([source, destination]) => ({ source, destination }));
    return { ...textMessage(reply), copied, failed };
  }
  const notCopied = new Set(failed.map((f) => f.file));
  const requested = list(request.files)
    .map(String)
    .filter((file) => !notCopied.has(file));
  const copied = list(reply.destination_file_path ?? reply.destination_files).map((destination) => ({
    source: requested.find((file) => baseName(file) === baseName(destination)) ?? null,
    destination,
  }));
  return { ...textMessage(reply), copied, failed };
}

const NORMALISERS: Record<string, (reply: Reply, request: Params) => Result> = {
  retrieve_from_buffers: (r) => ({
    ...textMessage(r),
    run_number: asNumber(r.run_number),
    acquisition_number: asNumber(r.acquisition_number),
    unique_acquisition_number: asNumber(r.unique_acquisition_number),
    files: list(r.files),
  }),
  take_pedestal: (r) => {
    const wait = typeof r.message === 'string' ? /wait at least ([\d.]+) seconds/.exec(r.message) : null;
    return { ...textMessage(r), wait_seconds: wait ? Number(wait[1]) : undefined };
  },
  get_allowed_detectors: (r) => ({
    detectors: list(r.detectors),
    // The document calls them names, the current code descriptions.
    names: list(r.names ?? r.descriptions),
    visualisation_address: list(r.visualisation_address),
  }),
  get_running_detectors: (r) => ({ ...rest(r), detectors: list(r.detectors) }),
  advance_run_number: runNumber,
  get_current_run_number: runNumber,
  get_pvlist: (r) => ({ pv_list: list(r.pv_list) }),
  set_pvlist: (r) => ({ pv_list: list(r.pv_list ?? r.message) }),
  get_detector_settings: (r) => ({ settings: isPlainObject(r.parameters) ? r.parameters : rest(r) }),
  // The documented broker answers only {"status":"ok"}: it does not say what changed, so neither do we
  // (an empty changed_parameters would read "nothing changed"); requested is what was asked for.
  set_detector_settings: (r, request) => ({
    ...textMessage(r),
    requested: isPlainObject(request.parameters) ? request.parameters : {},
    ...(isPlainObject(r.changed_parameters) ? { changed_parameters: r.changed_parameters } : {}),
  }),
  copy_user_files: copiedFiles,
  get_dap_settings: (r) => ({ parameters: isPlainObject(r.parameters) ? r.parameters : isPlainObject(r.message) ? r.message : {} }),
  set_dap_settings: (r) => ({
    ...textMessage(r),
    changed_parameters: isPlainObject(r.changed_parameters) ? r.changed_parameters : isPlainObject(r.message) ? r.message : {},
  }),
};

/** `request` is the body that was sent (some replies only make sense next to it). */
export function normaliseReply(operation: string, reply: Reply, request: Params = {}): Result {
  const normalise = NORMALISERS[operation];
  return normalise ? normalise(reply, request) : { ...textMessage(reply), ...rest(reply) };
}

function textOrNull(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}
