/**
 * Replies of the documented and the current broker differ in shape; a flow should not care.
 * Each normaliser maps either shape to one result, keeping `message` where it says something.
 */
import { isPlainObject } from './validate';

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

function copiedFiles(reply: Reply): Result {
  // Documented: destination_file_path [dest], error_files [source]; current: destination_files {source: dest}, error_files {source: reason}.
  const copied = isPlainObject(reply.destination_files)
    ? Object.entries(reply.destination_files).map(([source, destination]) => ({ source, destination }))
    : list(reply.destination_file_path ?? reply.destination_files).map((destination) => ({ destination }));
  const failed = isPlainObject(reply.error_files)
    ? Object.entries(reply.error_files).map(([file, reason]) => ({ file, reason }))
    : list(reply.error_files).map((file) => ({ file }));
  return { ...textMessage(reply), copied, failed };
}

const NORMALISERS: Record<string, (reply: Reply) => Result> = {
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
  set_detector_settings: (r) => ({ ...textMessage(r), changed_parameters: isPlainObject(r.changed_parameters) ? r.changed_parameters : {} }),
  copy_user_files: copiedFiles,
  get_dap_settings: (r) => ({ parameters: isPlainObject(r.parameters) ? r.parameters : isPlainObject(r.message) ? r.message : {} }),
  set_dap_settings: (r) => ({
    ...textMessage(r),
    changed_parameters: isPlainObject(r.changed_parameters) ? r.changed_parameters : isPlainObject(r.message) ? r.message : {},
  }),
};

export function normaliseReply(operation: string, reply: Reply): Result {
  const normalise = NORMALISERS[operation];
  return normalise ? normalise(reply) : { ...textMessage(reply), ...rest(reply) };
}
