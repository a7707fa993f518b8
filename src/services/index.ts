export { ensureBaseImage, defaultBaseImage, type BaseImageOptions, type BaseImageResult } from './base-image.js';
export { ensureDockerEngine, type DockerEngine, type DockerEngineOptions } from './docker-engine.js';
export { freePort } from './free-port.js';
export { startMosquitto, type MosquittoOptions, type RunningMosquitto } from './mosquitto.js';
export { startPostgres, type PostgresOptions, type RunningPostgres } from './postgres.js';
export type { RunningService } from './running-service.js';
export { ServiceStartError } from './service-start-error.js';
export { resolveTemporalCli } from './temporal-cli.js';
export { startTemporal, type RunningTemporal, type TemporalOptions } from './temporal.js';
