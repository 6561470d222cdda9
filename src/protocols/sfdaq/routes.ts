/**
 * The one table of sf-daq broker operations. Validation, method choice, the editor's operation
 * list and the help all read this table, so a route added here is usable everywhere at once.
 *
 * Facts come from the broker's REST document (the "documented" broker) and from its current code
 * (the "current" broker): methods differ for a few routes, and some routes exist only today.
 */
export type HttpMethod = 'GET' | 'POST';
export type BrokerKind = 'fast' | 'slow';

/**
 * Parameter types as the broker needs them. `detectors` is a dict of detector name → options;
 * `detectors-or-list` also accepts a list of names (take_pedestal), which the client turns into a dict.
 */
export type ParamType = 'string' | 'integer' | 'number' | 'boolean' | 'object' | 'string[]' | 'integer[]' | 'detectors' | 'detectors-or-list';

export interface ParamSpec {
  name: string;
  type: ParamType;
  required: boolean;
  /** One line for the dialog and the help. */
  description: string;
}

export interface RouteSpec {
  operation: string;
  broker: BrokerKind;
  /** Method in the broker's REST document; null when the route exists only in the current code. */
  documentedMethod: HttpMethod | null;
  /** Method the current broker code registers. */
  currentMethod: HttpMethod;
  params: ParamSpec[];
  summary: string;
  /** Parameters other than the listed ones are sent on (the broker stores them as metadata). */
  passesExtraParams?: boolean;
  /** Smallest per-call timeout for this route, in ms (a pedestal takes longer to set up). */
  minTimeoutMs?: number;
  /** An irreversible route: it runs only when the caller repeats this parameter's value as confirmation. */
  confirmParam?: string;
  /** A failure reply can still carry results the caller needs (files that were copied). */
  partialResults?: boolean;
}

const str = (name: string, description: string, required = true): ParamSpec => ({ name, type: 'string', required, description });
const int = (name: string, description: string, required = true): ParamSpec => ({ name, type: 'integer', required, description });
const opt = (name: string, type: ParamType, description: string): ParamSpec => ({ name, type, required: false, description });

const PGROUP = str('pgroup', 'proposal group, e.g. p17502');
const DETECTOR_NAME = str('detector_name', 'detector, e.g. JF02T09V03');
const RATE = opt('rate_multiplicator', 'integer', 'beam rate divider: 1 (100 Hz), 2, 4, 8, 10, 20, 40, 50 or 100');
const SETTINGS = (what: string): ParamSpec => ({
  name: 'parameters',
  type: 'object',
  required: true,
  description: `${what} to change, e.g. {"delay": 0.00088}`,
});
const MODULES: ParamSpec = { name: 'modules', type: 'integer[]', required: true, description: 'module numbers, e.g. [0, 1]' };

export const ROUTES: readonly RouteSpec[] = [
  {
    operation: 'retrieve_from_buffers',
    broker: 'fast',
    documentedMethod: 'POST',
    currentMethod: 'POST',
    summary: 'Write the data of a pulse-id range from the buffers to files in the pgroup.',
    passesExtraParams: true,
    params: [
      PGROUP,
      int('start_pulseid', 'first pulse id'),
      int('stop_pulseid', 'last pulse id (at most 60001 pulses after start_pulseid)'),
      opt('run_number', 'integer', 'run to add this acquisition to (a scan step); a new run without it'),
      opt('append_user_tag_to_data_dir', 'boolean', 'append user_tag to the run directory name'),
      opt('user_tag', 'string', 'tag for the run directory: letters, digits, _ - + .'),
      RATE,
      opt('channels_list', 'string[]', 'DataBuffer source names'),
      opt('camera_list', 'string[]', 'camera names'),
      opt('pv_list', 'string[]', 'EPICS PV names from the EPICS buffer'),
      opt('detectors', 'detectors', 'detector name → options, e.g. {"JF02T09V03": {"compression": true}}'),
      opt('scan_info', 'object', 'scan description: scan_name, scan_values, scan_readbacks, scan_step_info'),
      opt('selected_pulse_ids', 'integer[]', 'write only these pulse ids of the range'),
    ],
  },
  {
    operation: 'take_pedestal',
    broker: 'fast',
    documentedMethod: 'POST',
    currentMethod: 'POST',
    summary: 'Start a pedestal (dark) run for detectors; the reply says how long to wait.',
    minTimeoutMs: 60_000,
    params: [PGROUP, { name: 'detectors', type: 'detectors-or-list', required: true, description: 'detector names as a dict or a list' }, RATE],
  },
  {
    operation: 'get_allowed_detectors',
    broker: 'fast',
    documentedMethod: 'GET',
    currentMethod: 'GET',
    summary: 'Detectors configured for this beamline, with names and visualisation addresses.',
    params: [],
  },
  {
    operation: 'get_running_detectors',
    broker: 'fast',
    documentedMethod: 'GET',
    currentMethod: 'GET',
    summary: 'Detectors currently writing to the detector buffer.',
    params: [],
  },
  {
    operation: 'power_on_detector',
    broker: 'fast',
    documentedMethod: 'POST',
    currentMethod: 'POST',
    summary: 'Power on and configure a detector (takes minutes).',
    params: [DETECTOR_NAME],
  },
  {
    operation: 'advance_run_number',
    broker: 'fast',
    documentedMethod: 'GET',
    currentMethod: 'POST',
    summary: 'Generate the next run number of a pgroup.',
    params: [PGROUP],
  },
  {
    operation: 'get_current_run_number',
    broker: 'fast',
    documentedMethod: 'GET',
    currentMethod: 'GET',
    summary: 'The last generated run number of a pgroup.',
    params: [PGROUP],
  },
  {
    operation: 'get_pvlist',
    broker: 'fast',
    documentedMethod: 'GET',
    currentMethod: 'GET',
    summary: 'EPICS channels recorded by the EPICS buffer of this beamline.',
    params: [],
  },
  {
    operation: 'set_pvlist',
    broker: 'fast',
    documentedMethod: 'POST',
    currentMethod: 'POST',
    summary: 'Replace the recorded EPICS channels (restarts the EPICS buffer).',
    params: [{ name: 'pv_list', type: 'string[]', required: true, description: 'EPICS PV names' }],
  },
  {
    operation: 'close_pgroup_writing',
    broker: 'fast',
    documentedMethod: 'POST',
    currentMethod: 'POST',
    summary: 'Close a pgroup for writing and start archiving. Irreversible: needs msg.confirm equal to the pgroup.',
    confirmParam: 'pgroup',
    params: [PGROUP],
  },
  {
    operation: 'get_detector_settings',
    broker: 'slow',
    documentedMethod: 'POST',
    currentMethod: 'GET',
    summary: 'Exposure time, delay, detector mode and gain mode of a detector.',
    params: [DETECTOR_NAME],
  },
  {
    operation: 'set_detector_settings',
    broker: 'slow',
    documentedMethod: 'POST',
    currentMethod: 'POST',
    summary: 'Change detector settings (exptime, delay, detector_mode, gain_mode).',
    params: [DETECTOR_NAME, SETTINGS('settings')],
  },
  {
    operation: 'copy_user_files',
    broker: 'slow',
    documentedMethod: 'POST',
    currentMethod: 'POST',
    summary: 'Copy files into the aux folder of a run; files that failed are listed.',
    partialResults: true,
    params: [
      PGROUP,
      int('run_number', 'run to copy the files to'),
      { name: 'files', type: 'string[]', required: true, description: 'absolute paths, e.g. in the pgroup res/ folder' },
    ],
  },
  {
    operation: 'get_dap_settings',
    broker: 'slow',
    documentedMethod: 'POST',
    currentMethod: 'GET',
    summary: 'Data analysis pipeline (DAP) parameters of a detector.',
    params: [DETECTOR_NAME],
  },
  {
    operation: 'set_dap_settings',
    broker: 'slow',
    documentedMethod: 'POST',
    currentMethod: 'POST',
    summary: 'Change DAP parameters of a detector; the reply lists old and new values.',
    params: [DETECTOR_NAME, SETTINGS('DAP parameters')],
  },
  {
    operation: 'power_on_modules',
    broker: 'slow',
    documentedMethod: null,
    currentMethod: 'POST',
    summary: 'Power on modules of a detector (current broker only).',
    params: [DETECTOR_NAME, MODULES],
  },
  {
    operation: 'power_off_modules',
    broker: 'slow',
    documentedMethod: null,
    currentMethod: 'POST',
    summary: 'Power off modules of a detector (current broker only).',
    params: [DETECTOR_NAME, MODULES],
  },
  {
    operation: 'get_detector_status',
    broker: 'slow',
    documentedMethod: null,
    currentMethod: 'GET',
    summary: 'Status of a detector (current broker only).',
    params: [DETECTOR_NAME],
  },
  {
    operation: 'get_detector_temperatures',
    broker: 'slow',
    documentedMethod: null,
    currentMethod: 'GET',
    summary: 'Temperatures of a detector (current broker only).',
    params: [DETECTOR_NAME],
  },
  {
    operation: 'get_detector_pings',
    broker: 'slow',
    documentedMethod: null,
    currentMethod: 'GET',
    summary: 'Network pings of a detector (current broker only).',
    params: [DETECTOR_NAME],
  },
  {
    operation: 'get_jfctrl_monitor',
    broker: 'slow',
    documentedMethod: null,
    currentMethod: 'GET',
    summary: 'JFCtrl monitor values of a detector (current broker only).',
    params: [DETECTOR_NAME],
  },
  {
    operation: 'upload_custom_dap_script',
    broker: 'slow',
    documentedMethod: null,
    currentMethod: 'POST',
    summary: 'Upload a custom DAP script (current broker only).',
    params: [str('name', 'script name without folder, e.g. my_roi'), str('code', 'Python source defining proc(...)')],
  },
];

const BY_OPERATION = new Map(ROUTES.map((route) => [route.operation, route]));

export function findRoute(operation: string): RouteSpec | undefined {
  return BY_OPERATION.get(operation);
}

/** A route that cannot be undone (closing a pgroup): it asks for a confirmation parameter. */
export function isIrreversible(operation: string): boolean {
  return findRoute(operation)?.confirmParam !== undefined;
}

export const OPERATIONS: readonly string[] = ROUTES.map((route) => route.operation);

export const ALLOWED_RATE_MULTIPLICATORS: readonly number[] = [1, 2, 4, 8, 10, 20, 40, 50, 100];
export const MAX_PULSEID_DELTA = 60001;
/** The broker turns other characters of a user_tag into "_" (SciCat and file-system safe set); we refuse them instead. */
export const USER_TAG_PATTERN = /^[A-Za-z0-9_+.-]+$/;
/** The broker (bottle) refuses larger request bodies. */
export const MAX_BODY_BYTES = 102_400;
export const DEFAULT_TIMEOUT_MS = 10_000;

/** The method to try after `method` was refused with 405. */
export function otherMethod(method: HttpMethod): HttpMethod {
  return method === 'GET' ? 'POST' : 'GET';
}
