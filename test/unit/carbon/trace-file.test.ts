import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TraceFileError, loadTraceDirectory, parseTraceCsv, tracesDirFromEnv } from '../../../src/carbon/trace-file.js';

const HEADER = 'timestamp,gco2_per_kwh';

describe('trace files', () => {
  it('parses a regular hourly series', () => {
    const trace = parseTraceCsv(`${HEADER}\n2023-01-01T00:00:00Z,309.75\n2023-01-01T01:00:00Z,283.77\n`, 'Z', 'z.csv');
    assert.equal(trace.startMs, Date.parse('2023-01-01T00:00:00Z'));
    assert.equal(trace.stepMs, 3_600_000);
    assert.deepEqual(Array.from(trace.valuesGCo2PerKwh), [309.75, 283.77]);
  });

  const broken: [string, string][] = [
    ['a wrong header', 'time,value\n2023-01-01T00:00:00Z,1\n2023-01-01T01:00:00Z,2'],
    ['a gap', `${HEADER}\n2023-01-01T00:00:00Z,1\n2023-01-01T01:00:00Z,2\n2023-01-01T03:00:00Z,3`],
    ['a repeated hour', `${HEADER}\n2023-01-01T00:00:00Z,1\n2023-01-01T01:00:00Z,2\n2023-01-01T01:00:00Z,3`],
    ['a negative value', `${HEADER}\n2023-01-01T00:00:00Z,1\n2023-01-01T01:00:00Z,-2`],
    ['NaN', `${HEADER}\n2023-01-01T00:00:00Z,1\n2023-01-01T01:00:00Z,NaN`],
    ['an empty value', `${HEADER}\n2023-01-01T00:00:00Z,1\n2023-01-01T01:00:00Z,`],
    ['a timestamp without zone', `${HEADER}\n2023-01-01T00:00:00,1\n2023-01-01T01:00:00,2`],
    ['an extra column', `${HEADER}\n2023-01-01T00:00:00Z,1,x\n2023-01-01T01:00:00Z,2`],
    ['a single row', `${HEADER}\n2023-01-01T00:00:00Z,1`],
  ];
  for (const [what, text] of broken) {
    it(`rejects ${what}`, () => assert.throws(() => parseTraceCsv(text, 'Z', 'z.csv'), TraceFileError));
  }

  it('loads the 2023 traces from the shared folder, 8760 hours each', async () => {
    const traces = await loadTraceDirectory(tracesDirFromEnv(process.env), ['US-CAL-CISO', 'US-NY-NYIS']);
    assert.equal(traces.get('US-CAL-CISO')?.valuesGCo2PerKwh.length, 8760);
    assert.equal(traces.get('US-NY-NYIS')?.startMs, Date.parse('2023-01-01T00:00:00Z'));
  });

  it('names a missing zone', async () => {
    await assert.rejects(loadTraceDirectory(tracesDirFromEnv(process.env), ['XX-NOWHERE']), /XX-NOWHERE/);
  });

  it('takes the folder from GG_CARBON_TRACES_DIR when set', () => {
    assert.equal(tracesDirFromEnv({ GG_CARBON_TRACES_DIR: '/data/traces' }), '/data/traces');
    assert.match(tracesDirFromEnv({}), /shared\/carbon-traces\/$/);
  });
});
