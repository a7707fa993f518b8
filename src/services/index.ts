export { ensureBaseImage, defaultBaseImage } from './base-image.js';
export { resolveClientIdGuardPlugin } from './client-id-guard-plugin.js';
export { ensureDockerEngine } from './docker-engine.js';
export { freePort } from './free-port.js';
export { startMosquitto, type RunningMosquitto } from './mosquitto.js';
export { startPostgres } from './postgres.js';
export { resolveTemporalCli } from './temporal-cli.js';
export { startTemporal, type RunningTemporal } from './temporal.js';
