import type { ChartData } from './chart-data.js';
import {
  formatDuration,
  formatGrams,
  formatIntensity,
  formatPercent,
  formatScore,
  formatTime,
  NONE,
} from '../shared/format.js';
import { html, type SafeHtml } from './html.js';
import { renderIntensityChart } from './intensity-chart.js';
import { layout } from './layout.js';
import type { RunSummary } from './run-queries.js';

/** `/`: totals, the intensity chart with each run's start, and the runs table, newest first. */
export function renderRunsPage(runs: readonly RunSummary[], chart: ChartData | null): SafeHtml {
  const body = html`<h1>Grading runs</h1>
    ${
      runs.length === 0
        ? html`<p class="empty">No runs yet. Runs appear here as soon as Gradescope publishes a submission.</p>`
        : totals(runs)
    }
    <h2>Plans of the last 24 h: carbon intensity by region</h2>
    ${renderIntensityChart(chart, {
      title: 'Carbon intensity of the regions of the last 24 h of plans, with planned and actual starts',
      empty: 'No run was planned in the last 24 h.',
    })}
    <h2>Runs</h2>
    ${runs.length === 0 ? html`<p class="empty">Nothing to list.</p>` : runsTable(runs)}`;
  return layout('Runs', body);
}

function totals(runs: readonly RunSummary[]): SafeHtml {
  const graded = runs.filter((run) => run.outcome === 'graded').length;
  const accounted = runs.filter((run) => run.emissionsGCo2 !== null);
  const compared = runs.filter((run) => run.savingGCo2 !== null && run.counterfactualEmissionsGCo2 !== null);
  const emitted = sum(accounted.map((run) => run.emissionsGCo2 ?? 0));
  const saved = sum(compared.map((run) => run.savingGCo2 ?? 0));
  const counterfactual = sum(compared.map((run) => run.counterfactualEmissionsGCo2 ?? 0));
  return html`<section class="cards">
    <div class="card">
      <div>Runs listed</div>
      <div class="value">${runs.length}</div>
    </div>
    <div class="card">
      <div>Graded</div>
      <div class="value">${graded}</div>
    </div>
    <div class="card">
      <div>Emitted (${accounted.length} accounted)</div>
      <div class="value">${formatGrams(emitted)} CO₂</div>
    </div>
    <div class="card">
      <div>Saved against immediate-home</div>
      <div class="value">
        ${formatGrams(saved)} (${formatPercent(counterfactual > 0 ? saved / counterfactual : null)})
      </div>
    </div>
  </section>`;
}

function runsTable(runs: readonly RunSummary[]): SafeHtml {
  return html`<table class="runs">
    <thead>
      <tr>
        <th>Submission</th>
        <th>Assignment</th>
        <th>State</th>
        <th>Outcome</th>
        <th class="num">Re-run score</th>
        <th class="num">Gradescope score</th>
        <th>Node · region · zone</th>
        <th>Policy</th>
        <th class="num">Start delay</th>
        <th>Planned start</th>
        <th class="num">Emitted CO₂</th>
        <th class="num">Saving</th>
      </tr>
    </thead>
    <tbody>
      ${runs.map(runRow)}
    </tbody>
  </table>`;
}

function runRow(run: RunSummary): SafeHtml {
  const mismatch =
    run.score !== null && run.gradescopeScore !== null && Math.abs(run.score - run.gradescopeScore) > 1e-9;
  const outOf = run.totalPoints ? ` / ${run.totalPoints}` : '';
  const savingClass = run.savingGCo2 === null ? '' : run.savingGCo2 >= 0 ? 'positive' : 'negative';
  return html`<tr data-run-id="${run.id}" class="${mismatch ? 'mismatch' : ''}">
    <td class="submission">
      <a href="/runs/${run.id}">${run.gradescopeSubmissionId ?? run.payloadSha256.slice(0, 12)}</a>
      ${run.trigger === 'rerun' ? html`<small>(re-run)</small>` : null}
    </td>
    <td class="assignment">${run.assignmentTitle ?? NONE}</td>
    <td>
      <span class="state state-${run.state}">${run.waitingForSlot ? 'queued for a slot' : run.state}</span
      >${run.expedited ? html` <small>expedited</small>` : null}${run.lane ? html` <small>${run.lane}</small>` : null}
    </td>
    <td class="outcome">${run.outcome ?? NONE}</td>
    <td class="num score">${formatScore(run.score)}${run.score === null ? '' : outOf}</td>
    <td class="num gradescope-score">
      ${formatScore(run.gradescopeScore)}${run.gradescopeScore === null ? '' : outOf}
    </td>
    <td class="node">${[run.nodeName ?? NONE, run.region ?? NONE, run.carbonZone ?? NONE].join(' · ')}</td>
    <td class="policy">${run.policy ?? NONE}</td>
    <td class="num delay">${formatDuration(run.startDelayMs)}</td>
    <td
      class="planned"
      title="${run.plannedIntensityGCo2PerKwh === null ? '' : `expected ${formatIntensity(run.plannedIntensityGCo2PerKwh)}`}"
    >
      ${formatTime(run.plannedStartAt)}
    </td>
    <td class="num emissions">${formatGrams(run.emissionsGCo2)}</td>
    <td class="num saving ${savingClass}">
      ${formatGrams(run.savingGCo2)}${run.savingFraction === null ? '' : ` (${formatPercent(run.savingFraction)})`}
    </td>
  </tr>`;
}

function sum(values: readonly number[]): number {
  return values.reduce((total, value) => total + value, 0);
}
