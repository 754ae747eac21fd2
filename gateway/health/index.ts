// Active health checks and drift detection for published extensions: the monitor asks
// each extension for `_service { sdl }` on a schedule, records whether it answered in
// time, and compares the live SDL with the registered one.
export {
  HealthMonitor,
  type HealthMonitorOptions,
  type ExtensionHealth,
  type HealthState,
  type DriftStatus,
} from './monitor.js';
export { fetchServiceSdlOver, SERVICE_SDL_QUERY, type FetchServiceSdl, type HealthTarget } from './fetch.js';
export { compareSdl, type DriftComparison } from './drift.js';
export { HealthCheckError } from './failure.js';
