import type { ChartData } from './chart-data.js';
import {
  formatDuration,
  formatEnergy,
  formatGrams,
  formatIntensity,
  formatKwh,
  formatPercent,
  formatScore,
  formatTime,
  NONE,
} from '../shared/format.js';
import { html, type SafeHtml } from './html.js';
import { renderIntensityChart } from './intensity-chart.js';
import { layout } from './layout.js';
import type { RunDetail } from './run-queries.js';
import type { EmissionsRecord, PlanRecord, ReceiptRecord } from './run-records.js';

type Attempt = PlanRecord['providerAttempts'][number];

/** `/runs/:id`: one run's facts, its carbon receipt, the plan behind it and the chart of its zones. */
export function renderReceiptPage(run: RunDetail, chart: ChartData | null): SafeHtml {
  const name = run.gradescopeSubmissionId === null ? run.id : `submission ${run.gradescopeSubmissionId}`;
  const body = html`<h1>Carbon receipt — ${name}</h1>
    <p><a href="/">← all runs</a> · <a href="/api/runs/${run.id}">JSON</a></p>
    ${facts(run)}
    <h2>Receipt</h2>
    ${run.receipt ? receipt(run, run.receipt) : html`<p class="empty">${noReceiptReason(run)}</p>`}
    <h2>Plan</h2>
    ${run.plan ? plan(run, run.plan) : html`<p class="empty">No placement plan recorded.</p>`}
    <h2>Provider attempts</h2>
    ${attempts('Forecast for the plan', run.plan?.providerAttempts ?? [])}
    ${attempts('Intensity for the receipt', run.receipt?.providerAttempts ?? [])}
    <h2>Intensity around this run</h2>
    ${renderIntensityChart(chart, { title: `Carbon intensity around ${name}`, empty: 'Nothing to chart yet.' })}`;
  return layout(`Receipt ${name}`, body);
}

function facts(run: RunDetail): SafeHtml {
  const outOf = run.totalPoints ? ` / ${run.totalPoints}` : '';
  return html`<dl class="facts">
    <dt>Assignment</dt>
    <dd>${run.assignmentTitle ?? NONE}${run.assignmentId === null ? '' : ` (${run.assignmentId})`}</dd>
    <dt>State</dt>
    <dd><span class="state state-${run.state}">${run.state}</span> ${run.outcome ?? ''}</dd>
    <dt>Re-run score</dt>
    <dd class="score">${formatScore(run.score)}${run.score === null ? '' : outOf}</dd>
    <dt>Gradescope score</dt>
    <dd class="gradescope-score">${formatScore(run.gradescopeScore)}${run.gradescopeScore === null ? '' : outOf}</dd>
    <dt>Node · region · zone</dt>
    <dd>${[run.nodeName ?? NONE, run.region ?? NONE, run.carbonZone ?? NONE].join(' · ')}</dd>
    <dt>Policy</dt>
    <dd>${run.policy ?? NONE}${run.expedited ? ' (expedited)' : ''}</dd>
    <dt>Received</dt>
    <dd>${formatTime(run.receivedAt)}</dd>
    <dt>Planned start</dt>
    <dd>${formatTime(run.plannedStartAt)}</dd>
    <dt>Container</dt>
    <dd>${formatTime(run.containerStartedAt)} → ${formatTime(run.containerFinishedAt)}</dd>
    <dt>Start delay</dt>
    <dd>${formatDuration(run.startDelayMs)}</dd>
    <dt>CPU time</dt>
    <dd>${formatDuration(run.cpuTimeMs)}</dd>
    <dt>Attempts</dt>
    <dd>${run.attempts}</dd>
    ${
      run.failureReason
        ? html`<dt>Reason</dt>
            <dd>${run.failureReason}</dd>`
        : null
    }
    <dt>Workflow</dt>
    <dd><code>${run.workflowId}</code></dd>
  </dl>`;
}

function noReceiptReason(run: RunDetail): string {
  if (!run.containerStartedAt) return 'No carbon receipt: nothing has run yet.';
  if (run.state !== 'completed') return 'No carbon receipt yet: the run is not recorded.';
  return 'No carbon receipt: carbon accounting did not complete (see the worker logs).';
}

function receipt(run: RunDetail, r: ReceiptRecord): SafeHtml {
  const power = r.power;
  return html`<table class="receipt">
      <tbody>
        <tr>
          <th>Energy</th>
          <td class="num energy">${formatEnergy(r.energyKwh)}</td>
          <td>${formatKwh(r.energyKwh)}${power && power.pue !== 1 ? `, PUE ${power.pue}` : ''}</td>
        </tr>
        <tr>
          <th>· CPU</th>
          <td class="num">${formatEnergy(r.cpuEnergyKwh)}</td>
          <td>
            ${formatKwh(r.cpuEnergyKwh)}: ${formatDuration(run.cpuTimeMs)} CPU time
            ${power ? `× ${power.wattsPerCore} W per core` : ''}
          </td>
        </tr>
        <tr>
          <th>· Memory</th>
          <td class="num">${formatEnergy(r.memoryEnergyKwh)}</td>
          <td>
            ${formatKwh(r.memoryEnergyKwh)}: memory held for the run ${power ? `× ${power.wattsPerMemoryGb} W/GB` : ''}
          </td>
        </tr>
        ${figureRows('Run', r.actual, 'intensity')} ${figureRows('Immediate-home', r.counterfactual, 'counterfactual')}
        <tr>
          <th>Saving</th>
          <td class="num saving ${r.savingGCo2 === null ? '' : r.savingGCo2 >= 0 ? 'positive' : 'negative'}">
            ${formatGrams(r.savingGCo2)}
          </td>
          <td>${formatPercent(r.savingFraction)} of what immediate-home would have emitted</td>
        </tr>
      </tbody>
    </table>
    ${
      r.notes.length > 0
        ? html`<ul class="notes">
            ${r.notes.map((note) => html`<li>${note}</li>`)}
          </ul>`
        : null
    }`;
}

function figureRows(label: string, figure: EmissionsRecord | null, kind: string): SafeHtml {
  if (figure === null) {
    return html`<tr class="${kind}">
      <th>${label}</th>
      <td class="num">${NONE}</td>
      <td>no figure</td>
    </tr>`;
  }
  return html`<tr class="${kind}">
      <th>${label} intensity</th>
      <td class="num">${formatIntensity(figure.intensityGCo2PerKwh)}</td>
      <td>
        ${figure.basis}, source <code>${figure.source}</code>, zone ${figure.zone}, ${formatTime(figure.startMs)} →
        ${formatTime(figure.endMs)}
      </td>
    </tr>
    <tr class="${kind}">
      <th>${label} emissions</th>
      <td class="num emissions">${formatGrams(figure.emissionsGCo2)}</td>
      <td>energy × intensity</td>
    </tr>`;
}

function plan(run: RunDetail, p: PlanRecord): SafeHtml {
  const chosen = run.nodeName;
  return html`<dl class="facts">
      <dt>Policy</dt>
      <dd>${p.policy ?? run.policy ?? NONE}</dd>
      <dt>Last planned at</dt>
      <dd>${formatTime(p.plannedAt)}</dd>
      <dt>Deadline</dt>
      <dd>${formatTime(p.deadline)}${p.deadlineRule ? ` (${p.deadlineRule})` : ''}</dd>
      <dt>Delay chosen then</dt>
      <dd>${formatDuration(p.delayMs)}</dd>
      <dt>Expected intensity</dt>
      <dd>${formatIntensity(p.expectedIntensityGCo2PerKwh)}</dd>
      <dt>Home, now, expected</dt>
      <dd>${formatIntensity(p.expectedHomeNowIntensityGCo2PerKwh)}</dd>
      <dt>Forecast</dt>
      <dd>
        ${p.forecastProvider ?? 'none'}${p.forecastSources.length > 0 ? ` (${p.forecastSources.join(', ')})` : ''}
      </dd>
      ${
        p.fallbackReason
          ? html`<dt>Fallback</dt>
              <dd>${p.fallbackReason}</dd>`
          : null
      }
    </dl>
    ${
      p.candidates.length > 0
        ? html`<table class="candidates">
            <thead>
              <tr>
                <th>Candidate node</th>
                <th>Region</th>
                <th>Zone</th>
                <th class="num">Free slots</th>
                <th></th>
              </tr>
            </thead>
            <tbody>
              ${p.candidates.map(
                (c) =>
                  html`<tr>
                    <td>${c.id}</td>
                    <td>${c.region}</td>
                    <td>${c.zone}</td>
                    <td class="num">${c.freeSlots ?? NONE}</td>
                    <td>
                      ${[c.id === chosen ? 'chosen' : '', c.id === p.homeCandidateId ? 'home' : ''].filter(Boolean).join(', ')}
                    </td>
                  </tr>`,
              )}
            </tbody>
          </table>`
        : null
    }
    ${
      p.notes.length + p.missingZones.length > 0
        ? html`<ul class="notes">
            ${p.notes.map((note) => html`<li>${note}</li>`)}
            ${p.missingZones.map((m) => html`<li>no forecast for ${m.zone}: ${m.reason}</li>`)}
          </ul>`
        : null
    }`;
}

function attempts(title: string, list: readonly Attempt[]): SafeHtml {
  if (list.length === 0) return html`<p><strong>${title}:</strong> <span class="empty">none recorded</span></p>`;
  return html`<p><strong>${title}:</strong></p>
    <ol class="attempts">
      ${list.map(
        (a) =>
          html`<li>
            ${a.provider}: ${a.ok ? 'answered' : `failed${a.failure ? ` (${a.failure})` : ''}`}
            ${a.error ? html`— ${a.error}` : null}
          </li>`,
      )}
    </ol>`;
}
