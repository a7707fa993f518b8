// The later API shape (v2023-11 and HEAD, CONTRACT.md §3) derived from a recorded v2023-05 answer, for the
// replay server. For tests only.
import type { Json } from './json-object.js';

/** v2023-11/HEAD shape: gCO2 with unit keys, prefixed ISOs, `timings` and `emission_rates` instead of `start_delay`. */
export function toLaterShape(recorded: Json, request: Json): Json {
  const echo = recorded.request as Json;
  const schedule = echo.schedule as Json;
  const startMs = Date.parse(String(schedule.start_time));
  const runtimeSec = Number(request.runtime);
  const maxDelaySec = Number((request.schedule as Json).max_delay ?? 0);
  const iso = (ms: number) => new Date(ms).toISOString();
  const rawScores = recorded['raw-scores'] as Record<string, Json>;
  for (const scores of Object.values(rawScores)) {
    for (const key of ['carbon-emission-from-compute', 'carbon-emission-from-migration', 'carbon-emission']) {
      scores[key] = Number(scores[key]) * 1000;
    }
    scores['energy-usage-unit'] = 'kWh';
    scores['carbon-emission-unit'] = 'gCO2';
  }
  const details = Object.fromEntries(
    Object.entries(rawScores).map(([id, scores]) => [
      id,
      {
        timings: [
          {
            min_start: iso(startMs),
            max_end: iso(startMs + (runtimeSec + maxDelaySec) * 1000),
            input_transfer_start: iso(startMs),
            input_transfer_duration: 0,
            input_transfer_end: iso(startMs),
            compute_start: iso(startMs),
            compute_duration: runtimeSec,
            compute_end: iso(startMs + runtimeSec * 1000),
            output_transfer_start: iso(startMs + runtimeSec * 1000),
            output_transfer_duration: 0,
            output_transfer_end: iso(startMs + runtimeSec * 1000),
            total_transfer_time: 0,
          },
        ],
        route: [],
        'route.hop_count': 0,
        emission_rates: {
          compute: { [iso(startMs)]: Number(scores['carbon-emission-from-compute']) / runtimeSec },
          transfer: {},
          'transfer.network': {},
          'transfer.endpoint': {},
        },
        emission_integral: {},
      },
    ]),
  );
  const isos = Object.fromEntries(
    Object.entries(recorded.isos as Record<string, string | null>).map(([id, ba]) => [id, ba && `watttime:${ba}`]),
  );
  return {
    ...recorded,
    request: { ...echo, original_location: request.original_location ?? null, optimize_carbon: true },
    'original-region': typeof request.original_location === 'string' ? request.original_location : 'None',
    isos,
    details,
  };
}
