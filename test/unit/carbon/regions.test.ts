import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  RegionsConfigError,
  casLocationsByZone,
  loadRegionsConfig,
  parseRegionsConfig,
  regionsOfZone,
  resolveRegion,
  US_TRACE_ZONES,
} from '../../../src/carbon/regions.js';

const US_ZONES = US_TRACE_ZONES;

describe('regions config', () => {
  it('maps the three coarse regions as the original scheduler resolved them', async () => {
    const config = await loadRegionsConfig();
    assert.equal(resolveRegion(config, 'us-west')?.entry.zone, 'US-CAL-CISO');
    assert.equal(resolveRegion(config, 'us-central')?.entry.zone, 'US-MIDW-MISO');
    assert.equal(resolveRegion(config, 'us-east')?.entry.zone, 'US-MIDA-PJM');
  });

  it('gives every US trace zone at least one region', async () => {
    const config = await loadRegionsConfig();
    for (const zone of US_ZONES) assert.ok(regionsOfZone(config, zone).length > 0, zone);
  });

  it('resolves a site exactly and an unknown site by its coarse region', async () => {
    const config = await loadRegionsConfig();
    assert.deepEqual(resolveRegion(config, 'us-east.atlanta')?.entry.zone, 'US-SE-SOCO');
    assert.equal(resolveRegion(config, 'us-west.new-site')?.matched, 'us-west');
    assert.equal(resolveRegion(config, 'mars.base'), null);
  });

  it('gives the cas provider one location per zone, ad-hoc ones with coordinates', async () => {
    const config = await loadRegionsConfig();
    const locations = casLocationsByZone(config, ['us-west', 'us-west.ucsd', 'us-east']);
    assert.deepEqual(locations.get('US-CAL-CISO'), {
      id: 'Nautilus:us-west',
      latitude: 37.338208,
      longitude: -121.886329,
    });
    assert.equal(locations.get('US-MIDA-PJM')?.id, 'Nautilus:us-east');
  });

  it('rejects unknown keys, bad ids and half coordinates', () => {
    assert.throws(() => parseRegionsConfig({ regions: { a: { zone: 'Z', colour: 'red' } } }), RegionsConfigError);
    assert.throws(() => parseRegionsConfig({ regions: { a: { zone: 'Z', cas: { id: 'no-colon' } } } }), /provider/);
    assert.throws(() => parseRegionsConfig({ regions: { a: { zone: 'Z', cas: { id: 'N:a', latitude: 1 } } } }), /both/);
  });

  it('names the file it cannot read', async () => {
    await assert.rejects(loadRegionsConfig('/nonexistent/regions.json'), /nonexistent/);
  });
});
