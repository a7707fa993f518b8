// Test double of the carbon-aware scheduler API: replays the recorded answers in
// /work/shared/fixtures/cas-api/ over real HTTP, enforcing the request rules of CONTRACT.md, and can answer
// with the API's error shapes, slowly, or with garbage. For tests only.
import { readFile } from 'node:fs/promises';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { toLaterShape } from './cas-replay-shapes.js';
import type { Json } from './json-object.js';

const CAS_FIXTURES_DIR = new URL('../../../shared/fixtures/cas-api/', import.meta.url);

/**
 * How the server answers: the recorded v2023-05 shape; the later shape derived from it with the request
 * handling of v2023-11 or HEAD (CONTRACT.md §2.1); or a fault.
 */
export type ReplayMode =
  | 'v2023-05'
  | 'v2023-11'
  | 'head'
  | 'error-500'
  | 'no-viable'
  | 'reject-422'
  | 'slow'
  | 'garbage'
  | 'nan'
  | 'negative-emission';

export interface ReceivedRequest {
  method: string;
  path: string;
  contentType: string;
  body: unknown;
}

const ALLOWED_KEYS = new Set([
  'runtime',
  'schedule',
  'dataset',
  'candidate_providers',
  'candidate_locations',
  'original_location',
  'carbon_data_source',
  'use_prediction',
  'desired_renewable_ratio',
  'watts_per_core',
  'core_count',
  'optimize_carbon',
  'carbon_accounting_mode',
]);

export interface CasReplayServer {
  url: string;
  received: ReceivedRequest[];
  setMode(mode: ReplayMode): void;
  close(): Promise<void>;
}

export async function startCasReplayServer(mode: ReplayMode = 'v2023-05'): Promise<CasReplayServer> {
  const samples = await Promise.all(
    [1, 2, 3].map(async (n) => ({
      request: JSON.parse(await readFile(new URL(`${n}.request.json`, CAS_FIXTURES_DIR), 'utf8')) as Json,
      response: JSON.parse(await readFile(new URL(`${n}.response.json`, CAS_FIXTURES_DIR), 'utf8')) as Json,
    })),
  );
  const received: ReceivedRequest[] = [];
  const timers = new Set<NodeJS.Timeout>();
  let current = mode;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => answer(req, res, Buffer.concat(chunks).toString('utf8')));
  });

  function send(res: ServerResponse, status: number, body: unknown, raw?: string): void {
    res.writeHead(status, { 'content-type': raw === undefined ? 'application/json' : 'text/html' });
    res.end(raw ?? JSON.stringify(body));
  }

  function answer(req: IncomingMessage, res: ServerResponse, text: string): void {
    let body: unknown = null;
    const contentType = String(req.headers['content-type'] ?? '');
    try {
      body = contentType.startsWith('application/json') ? JSON.parse(text) : null;
    } catch {
      body = null;
    }
    received.push({ method: req.method ?? '', path: req.url ?? '', contentType, body });
    if (req.url !== '/carbon-aware-scheduler/')
      return send(res, 404, { message: 'The requested URL was not found on the server.' });
    if (req.method !== 'GET') return send(res, 405, { message: 'The method is not allowed for the requested URL.' });
    const problems = validate(body);
    if (Object.keys(problems).length > 0) return send(res, 422, { messages: { json: problems } });
    const request = body as Json;
    const byLocation = ((request.candidate_locations as unknown[] | undefined) ?? []).length > 0;
    if (current === 'v2023-11' && byLocation && request.original_location == null) {
      return send(res, 500, { error: "Failed to get candidate regions: 'NoneType' object has no attribute 'split'" });
    }
    if (current === 'v2023-11' && request.original_location != null)
      return send(res, 500, { error: 'TODO: look up from database' });
    if (current === 'head' && request.original_location == null) return send(res, 500, { error: 'None' });
    switch (current) {
      case 'error-500':
        return send(res, 500, { error: 'None' });
      case 'no-viable':
        return send(res, 400, { request, error: 'No viable candidate', isos: {}, details: {} });
      case 'reject-422':
        return send(res, 422, { messages: { json: { original_location: true } } });
      case 'garbage':
        return send(res, 200, null, '<html><body>502 Bad Gateway</body></html>');
      case 'nan':
        res.writeHead(200, { 'content-type': 'application/json' });
        return void res.end('{"raw-scores": {"Nautilus:us-west": {"carbon-emission": NaN}}}');
      case 'slow': {
        const timer = setTimeout(() => send(res, 200, replay(request, 'v2023-05')), 5_000);
        timers.add(timer);
        return;
      }
      default:
        return send(res, 200, replay(request, current));
    }
  }

  /** The recorded sample whose candidates cover the request's, narrowed to them and scaled to its runtime. */
  function replay(request: Json, shape: ReplayMode): Json {
    const locations = ((request.candidate_locations as Json[] | undefined) ?? []).map((l) => String(l.id));
    const providers = (request.candidate_providers as string[] | undefined) ?? [];
    const sample =
      samples.find((s) =>
        locations.length > 0
          ? locations.every((id) =>
              ((s.request.candidate_locations as Json[] | undefined) ?? []).some((l) => l.id === id),
            )
          : providers.every((p) => ((s.request.candidate_providers as string[] | undefined) ?? []).includes(p)),
      ) ?? samples[0];
    const recorded = structuredClone(sample?.response ?? {});
    const keep = (id: string) =>
      locations.length > 0 ? locations.includes(id) : providers.includes(id.split(':')[0] ?? '');
    for (const key of ['weighted-scores', 'raw-scores', 'isos', 'warnings', 'details']) {
      const map = recorded[key] as Json;
      recorded[key] = Object.fromEntries(Object.entries(map).filter(([id]) => keep(id)));
    }
    const scale = Number(request.runtime) / 900;
    const watts = Number(request.watts_per_core ?? 5) * Number(request.core_count ?? 1);
    const recordedRequest = recorded.request as Json;
    recorded.request = {
      ...recordedRequest,
      runtime: request.runtime,
      watts_per_core: request.watts_per_core,
      core_count: request.core_count,
    };
    for (const scores of Object.values(recorded['raw-scores'] as Record<string, Json>)) {
      scores['energy-usage'] = (watts * Number(request.runtime)) / 3.6e6;
      for (const key of ['carbon-emission-from-compute', 'carbon-emission']) {
        scores[key] = (Number(scores[key]) * scale * watts) / 5;
      }
    }
    if (shape === 'negative-emission') {
      for (const scores of Object.values(recorded['raw-scores'] as Record<string, Json>))
        scores['carbon-emission'] = -1;
    }
    return shape === 'v2023-11' || shape === 'head' ? toLaterShape(recorded, request) : recorded;
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/carbon-aware-scheduler/`,
    received,
    setMode: (next) => void (current = next),
    close: () =>
      new Promise((resolve) => {
        for (const timer of timers) clearTimeout(timer);
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Request rules from CONTRACT.md §2 that the client must respect (422 otherwise). */
function validate(body: unknown): Json {
  if (body === null || typeof body !== 'object') {
    const missing = ['Missing data for required field.'];
    return { runtime: missing, schedule: missing, dataset: missing };
  }
  const request = body as Json;
  const problems: Json = {};
  for (const key of Object.keys(request)) if (!ALLOWED_KEYS.has(key)) problems[key] = ['Unknown field.'];
  if (!(Number(request.runtime) > 0)) problems.runtime = ['Must be greater than 0.'];
  const schedule = request.schedule as Json | undefined;
  if (!schedule || schedule.type !== 'onetime' || (schedule.interval ?? null) !== null) {
    problems.schedule = ['onetime schedule without interval expected'];
  } else if (
    schedule.start_time !== null &&
    (typeof schedule.start_time !== 'string' || !/(Z|[+-]\d{2}:\d{2})$/.test(schedule.start_time))
  ) {
    problems.schedule = { start_time: ['Not a valid aware datetime.'] };
  }
  if (!request.dataset) problems.dataset = ['Missing data for required field.'];
  const hasProviders = ((request.candidate_providers as unknown[] | undefined) ?? []).length > 0;
  const hasLocations = ((request.candidate_locations as unknown[] | undefined) ?? []).length > 0;
  if (hasProviders === hasLocations) {
    const message = 'Must provide one of candidate_providers and candidate_locations';
    problems.candidate_providers = message;
    problems.candidate_locations = message;
  }
  return problems;
}
