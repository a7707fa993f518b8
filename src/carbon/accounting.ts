// A run's carbon receipt: energy from measured CPU time, emissions from the intensity over the run's real
// interval in its real zone, and what the same run would have emitted under immediate-home. Pure.
//
// Energy model (documented so the numbers can be checked by hand):
//   cpuEnergyKwh    = cpuTimeSec × wattsPerCore / 3.6e6          (busy core-seconds, as the CAS API counts power)
//   memoryEnergyKwh = wallTimeSec × memoryGb × wattsPerMemoryGb / 3.6e6   (memory held for the whole run)
//   energyKwh       = (cpuEnergyKwh + memoryEnergyKwh) × pue
// Emissions assume the energy is spread evenly over the run:
//   emissionsGCo2   = energyKwh × mean intensity over [start, end) (time-weighted, gCO2/kWh)
// The counterfactual is the same energy at home over [received, received + wall time): no move, no delay.
import type { CasPostRunFigures } from './cas-provider.js';
import type { IntensityBasis, IntensityMeasurement } from './provider.js';

export interface PowerModel {
  /** Per busy core; 5 W is the CAS API default (240 W TDP ÷ 48 threads of a Xeon Platinum 8275CL). */
  wattsPerCore: number;
  /** Per GB of memory held; 0.3725 W/GB is the figure Green Algorithms and Cloud Carbon Footprint use. */
  wattsPerMemoryGb: number;
  /** Data-centre overhead; the CAS API hard-codes 1. */
  pue: number;
}

export const DEFAULT_POWER_MODEL: PowerModel = { wattsPerCore: 5, wattsPerMemoryGb: 0.3725, pue: 1 };

export interface RunUsage {
  /** Container CPU time (user + system) as measured, seconds. */
  cpuTimeSec: number;
  wallTimeSec: number;
  /** Memory limit (or peak) of the container, GB. */
  memoryGb: number;
}

export interface EnergyEstimate {
  cpuEnergyKwh: number;
  memoryEnergyKwh: number;
  energyKwh: number;
}

export function estimateEnergy(usage: RunUsage, power: PowerModel = DEFAULT_POWER_MODEL): EnergyEstimate {
  for (const [name, value] of Object.entries({ ...usage, ...power })) {
    if (!Number.isFinite(value) || value < 0) throw new RangeError(`${name} must be a non-negative number`);
  }
  const cpuEnergyKwh = (usage.cpuTimeSec * power.wattsPerCore) / 3.6e6;
  const memoryEnergyKwh = (usage.wallTimeSec * usage.memoryGb * power.wattsPerMemoryGb) / 3.6e6;
  return { cpuEnergyKwh, memoryEnergyKwh, energyKwh: (cpuEnergyKwh + memoryEnergyKwh) * power.pue };
}

interface EmissionsFigure {
  zone: string;
  startMs: number;
  endMs: number;
  intensityGCo2PerKwh: number;
  emissionsGCo2: number;
  basis: IntensityBasis;
  source: string;
}

export interface CarbonReceipt extends EnergyEstimate {
  power: PowerModel;
  /** `null` when no provider had a figure (the run still counts its energy). */
  actual: EmissionsFigure | null;
  /** What immediate-home would have emitted; same basis as `actual` or `null`. */
  counterfactual: EmissionsFigure | null;
  /** counterfactual − actual; positive is a saving. */
  savingGCo2: number | null;
  /** saving ÷ counterfactual. */
  savingFraction: number | null;
  /** The original's post-run raw-scores, when the cas provider was asked. */
  casPostRun: CasPostRunFigures | null;
  notes: string[];
}

export interface RunAccountingInput {
  usage: RunUsage;
  power?: PowerModel;
  actual: IntensityMeasurement | null;
  counterfactual: IntensityMeasurement | null;
  casPostRun?: CasPostRunFigures | null;
}

function emissionsOf(energyKwh: number, measurement: IntensityMeasurement): EmissionsFigure {
  return { ...measurement, emissionsGCo2: energyKwh * measurement.intensityGCo2PerKwh };
}

/** Interval immediate-home would have used: home, starting when the submission arrived, same wall time. */
export function counterfactualInterval(receivedMs: number, wallTimeSec: number): { startMs: number; endMs: number } {
  return { startMs: receivedMs, endMs: receivedMs + wallTimeSec * 1000 };
}

export function accountRun(input: RunAccountingInput): CarbonReceipt {
  const power = input.power ?? DEFAULT_POWER_MODEL;
  const energy = estimateEnergy(input.usage, power);
  const notes: string[] = [];
  const actual = input.actual ? emissionsOf(energy.energyKwh, input.actual) : null;
  let counterfactual = input.counterfactual ? emissionsOf(energy.energyKwh, input.counterfactual) : null;
  if (actual === null) notes.push('no intensity for the run: emissions unknown');
  if (actual && counterfactual && counterfactual.basis !== actual.basis) {
    notes.push(`counterfactual is ${counterfactual.basis}, run is ${actual.basis}: not compared`);
    counterfactual = null;
  }
  const savingGCo2 = actual && counterfactual ? counterfactual.emissionsGCo2 - actual.emissionsGCo2 : null;
  const savingFraction =
    savingGCo2 !== null && counterfactual && counterfactual.emissionsGCo2 > 0
      ? savingGCo2 / counterfactual.emissionsGCo2
      : null;
  return {
    ...energy,
    power,
    actual,
    counterfactual,
    savingGCo2,
    savingFraction,
    casPostRun: input.casPostRun ?? null,
    notes,
  };
}
