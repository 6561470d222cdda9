/**
 * The protocol clients and simulators without Node-RED, for plain Node scripts and tests:
 *   const { NebvClient } = require('@labwire/node-red-instruments');
 * Node-RED itself loads the nodes from nodes/<type>.js (package.json "node-red" section).
 */
export { InstrumentError } from './protocols/common/errors';
export { BpwinClient } from './protocols/bpwin/client';
export { BpwinEventStream } from './protocols/bpwin/event-stream';
export { JobStatsPoller } from './protocols/bpwin/job-stats-poller';
export { LauncherClient } from './protocols/propeller/launcher-client';
export { SerialPropellerConnection } from './protocols/propeller/serial-connection';
export { prepareImage } from './protocols/propeller/image';
export type { PropellerConnection, LoadRequest, LoadResult, LoadProgress } from './protocols/propeller/connection';
export { NebvClient } from './protocols/nebv/client';
export { SfdaqClient } from './protocols/sfdaq/client';
export { SemiAteTester } from './protocols/semiate/tester';
export { loadSimulators } from './simulators';
