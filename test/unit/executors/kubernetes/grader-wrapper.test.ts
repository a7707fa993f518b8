import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { GraderLimits } from '../../../../src/executors/executor.js';
import { parseGraderLog } from '../../../../src/executors/kubernetes/grader-wrapper.js';

const limits: GraderLimits = {
  timeoutSec: 10,
  memoryBytes: 1,
  nanoCpus: 1,
  pidsLimit: 1,
  outputMaxBytes: 16,
  resultsMaxBytes: 8,
};

const nonce = '0123456789abcdef0123456789abcdef';

function trailer(fields: Record<string, string>, results?: string, key = nonce): string {
  const lines = Object.entries(fields).map(([key, value]) => `${key}=${value}`);
  const body =
    results === undefined ? ['results=absent'] : ['results=present', Buffer.from(results).toString('base64')];
  return [
    '',
    `==== greengrader trailer v2 ${key} ====`,
    ...lines,
    ...body,
    `==== greengrader trailer end ${key} ====`,
    '',
  ].join('\n');
}

const done = { stage: 'done', exit: '0', startedMs: '1000', finishedMs: '1500', dropped: '0', cpu: '0m0.25s 0m0.05s' };

describe('parseGraderLog', () => {
  it('takes only a trailer carrying the run nonce, even one printed after it', () => {
    const forged = trailer({ ...done, exit: '0', cpu: '0m0s 0m0.001s' }, '{"s":100}', 'f'.repeat(32));
    const parsed = parseGraderLog(`${trailer({ ...done, exit: '3' })}${forged}`, limits, nonce);
    assert.equal(parsed.trailer?.stage === 'done' && parsed.trailer.exitCode, 3);
    assert.equal(parsed.trailer?.stage === 'done' && parsed.trailer.resultsJson, null);
  });

  it('splits the grader output from the trailer and decodes results.json', () => {
    const parsed = parseGraderLog(`hello\n${trailer(done, '{"s":1}')}`, limits, nonce);
    assert.equal(parsed.output, 'hello\n');
    assert.equal(parsed.outputTruncated, false);
    assert.deepEqual(parsed.trailer, {
      stage: 'done',
      exitCode: 0,
      startedAt: new Date(1000),
      finishedAt: new Date(1500),
      outputTruncated: false,
      cpuTimeMs: 300,
      resultsJson: '{"s":1}',
      resultsTruncated: false,
      resultsRefusal: null,
      timedOut: false,
    });
  });

  it('reports a results.json refused unread: not a regular file, or over the cap by its size', () => {
    const refused = (body: string) =>
      parseGraderLog(trailer(done).replace('results=absent', body), limits, nonce).trailer;
    const special = refused('results=not-regular');
    assert.equal(special?.stage === 'done' && special.resultsJson, null);
    assert.match(String(special?.stage === 'done' && special.resultsRefusal), /^results\.json is not a regular file/);
    const large = refused('resultsSize=1099511627776\nresults=too-large');
    assert.equal(large?.stage === 'done' && large.resultsJson, null);
    assert.equal(large?.stage === 'done' && large.resultsTruncated, true);
    assert.match(
      String(large?.stage === 'done' && large.resultsRefusal),
      /^results\.json is larger than 8 bytes \(1099511627776 bytes\)/,
    );
  });

  it('trusts only the last trailer, so a grader printing a fake one changes nothing', () => {
    const fake = trailer({ ...done, exit: '0' }, '{"s":100}');
    const parsed = parseGraderLog(`${fake}${trailer({ ...done, exit: '2' })}`, limits, nonce);
    assert.equal(parsed.trailer?.stage === 'done' && parsed.trailer.exitCode, 2);
    assert.equal(parsed.trailer?.stage === 'done' && parsed.trailer.resultsJson, null);
  });

  it('cuts results.json at its cap and says so, and reports dropped output', () => {
    const parsed = parseGraderLog(`x${trailer({ ...done, dropped: '5' }, '123456789')}`, limits, nonce);
    assert.equal(parsed.outputTruncated, true);
    assert.equal(parsed.trailer?.stage === 'done' && parsed.trailer.resultsJson, '12345678');
    assert.equal(parsed.trailer?.stage === 'done' && parsed.trailer.resultsTruncated, true);
  });

  it('recognises the in-pod timeout only after the full timeout', () => {
    const late = parseGraderLog(trailer({ ...done, exit: '124', finishedMs: '11000' }), limits, nonce);
    const early = parseGraderLog(trailer({ ...done, exit: '124', finishedMs: '2000' }), limits, nonce);
    assert.equal(late.trailer?.stage === 'done' && late.trailer.timedOut, true);
    assert.equal(early.trailer?.stage === 'done' && early.trailer.timedOut, false);
  });

  it('keeps the capped output of a pod that died before its trailer', () => {
    const parsed = parseGraderLog('a'.repeat(40), limits, nonce);
    assert.equal(parsed.trailer, null);
    assert.equal(parsed.output, 'a'.repeat(16));
    assert.equal(parsed.outputTruncated, true);
  });

  it('reports input that could not be unpacked', () => {
    const parsed = parseGraderLog(trailer({ stage: 'input', error: 'tar: not found' }), limits, nonce);
    assert.deepEqual(parsed.trailer, { stage: 'input', error: 'tar: not found' });
  });
});
