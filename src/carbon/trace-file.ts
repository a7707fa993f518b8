// Loads `timestamp,gco2_per_kwh` trace files (one per carbon zone) and checks them before anyone trusts them.
import { readdir, readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import type { IntensityGrid } from './intensity-series.js';

/** One zone's replayable history: Electricity Maps hourly exports are average (LCA) intensity. */
export interface ZoneTrace extends IntensityGrid {
  zone: string;
  valuesGCo2PerKwh: Float64Array;
  /** Files the values came from, for the receipt's `source`. */
  sourceFiles: string[];
}

/** Thrown when a trace file is malformed: wrong header, bad row, gap or unsorted timestamps. */
export class TraceFileError extends Error {
  override name = 'TraceFileError';
}

/** Environment variable that points at the trace folder; without it the shared folder beside the repo is used. */
const TRACES_DIR_ENV = 'GG_CARBON_TRACES_DIR';
const DEFAULT_TRACES_DIR = new URL('../../../shared/carbon-traces/', import.meta.url);
const HEADER = 'timestamp,gco2_per_kwh';
const FILE_NAME = /^(.+)_(\d{4})\.csv$/;

const rowSchema = z.object({
  /** Start of the interval, UTC with a `Z` suffix. */
  timestamp: z.iso.datetime(),
  /** gCO2eq/kWh, a plain non-negative decimal (no NaN, no exponent, no empty cell). */
  gco2PerKwh: z
    .string()
    .regex(/^\d+(\.\d+)?$/)
    .transform(Number),
});

/** The trace folder: `env.GG_CARBON_TRACES_DIR` when set, else `/work/shared/carbon-traces` beside the repo. */
export function tracesDirFromEnv(env: Record<string, string | undefined>): string {
  const fromEnv = env[TRACES_DIR_ENV];
  return fromEnv !== undefined && fromEnv !== '' ? fromEnv : fileURLToPath(DEFAULT_TRACES_DIR);
}

/** Parses one CSV; every row must follow the previous one by exactly the first row's step. */
export function parseTraceCsv(text: string, zone: string, sourceFile: string): ZoneTrace {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  if (lines[lines.length - 1] === '') lines.pop();
  if (lines[0] !== HEADER) throw new TraceFileError(`${sourceFile}: header must be "${HEADER}", got "${lines[0]}"`);
  const values = new Float64Array(lines.length - 1);
  let startMs = NaN;
  let stepMs = NaN;
  let previousMs = NaN;
  for (let i = 1; i < lines.length; i += 1) {
    // Two unquoted columns, a timestamp and a number (checked just below): no quoting for a CSV library to undo.
    const cells = (lines[i] ?? '').split(',');
    const row = rowSchema.safeParse({ timestamp: cells[0], gco2PerKwh: cells[1] });
    if (cells.length !== 2 || !row.success)
      throw new TraceFileError(`${sourceFile}:${i + 1}: malformed row "${lines[i]}"`);
    const atMs = Date.parse(row.data.timestamp);
    if (i === 1) startMs = atMs;
    else if (i === 2) stepMs = atMs - previousMs;
    if (i >= 2 && (atMs - previousMs !== stepMs || stepMs <= 0)) {
      throw new TraceFileError(`${sourceFile}:${i + 1}: expected a step of ${stepMs} ms, got ${atMs - previousMs} ms`);
    }
    previousMs = atMs;
    values[i - 1] = row.data.gco2PerKwh;
  }
  if (values.length < 2) throw new TraceFileError(`${sourceFile}: needs at least two rows`);
  return { zone, startMs, stepMs, valuesGCo2PerKwh: values, sourceFiles: [sourceFile] };
}

/** Reads one file; the zone defaults to the file name before `_<year>.csv`. */
async function loadTraceFile(path: string, zone?: string): Promise<ZoneTrace> {
  const name = basename(path);
  const zoneId = zone ?? FILE_NAME.exec(name)?.[1];
  if (zoneId === undefined) throw new TraceFileError(`${path}: name is not <ZONE>_<YEAR>.csv and no zone was given`);
  return parseTraceCsv(await readFile(path, 'utf8'), zoneId, name);
}

/** Loads every `<ZONE>_<YEAR>.csv` in a folder (or only `zones`); consecutive years of a zone are joined. */
export async function loadTraceDirectory(dir: string, zones?: readonly string[]): Promise<Map<string, ZoneTrace>> {
  const names = (await readdir(dir)).filter((name) => FILE_NAME.test(name)).sort();
  const traces = new Map<string, ZoneTrace>();
  for (const name of names) {
    const zone = FILE_NAME.exec(name)?.[1] ?? '';
    if (zones !== undefined && !zones.includes(zone)) continue;
    const next = await loadTraceFile(join(dir, name), zone);
    const previous = traces.get(zone);
    traces.set(zone, previous === undefined ? next : joinTraces(previous, next));
  }
  const absent = (zones ?? []).filter((zone) => !traces.has(zone));
  if (absent.length > 0) throw new TraceFileError(`${dir}: no trace file for ${absent.join(', ')}`);
  return traces;
}

function joinTraces(first: ZoneTrace, second: ZoneTrace): ZoneTrace {
  const firstEnd = first.startMs + first.valuesGCo2PerKwh.length * first.stepMs;
  if (first.stepMs !== second.stepMs || second.startMs !== firstEnd) {
    throw new TraceFileError(
      `${first.zone}: ${second.sourceFiles.join()} does not continue ${first.sourceFiles.join()}`,
    );
  }
  const values = new Float64Array(first.valuesGCo2PerKwh.length + second.valuesGCo2PerKwh.length);
  values.set(first.valuesGCo2PerKwh);
  values.set(second.valuesGCo2PerKwh, first.valuesGCo2PerKwh.length);
  return { ...first, valuesGCo2PerKwh: values, sourceFiles: [...first.sourceFiles, ...second.sourceFiles] };
}
