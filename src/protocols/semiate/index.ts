export * from './types';
export * from './commands';
export * from './stdf';
export * from './yield-tracker';
export * from './tester';
export { FAILURE_STATES, DEFAULT_WAIT_MS } from './wait-targets';
export { briefFailure } from './mqtt-transport';
