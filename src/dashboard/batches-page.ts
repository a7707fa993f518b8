import type { RegradeBatchProgress } from '../db/regrade-progress.js';
import { formatTime } from '../shared/format.js';
import { html, type SafeHtml } from './html.js';
import { layout } from './layout.js';

/** `/batches`: bulk regrades (`greengrader rerun --assignment|--course`), newest first, with their counts. */
export function renderBatchesPage(batches: readonly RegradeBatchProgress[]): SafeHtml {
  const body = html`<h1>Regrade batches</h1>
    ${
      batches.length === 0
        ? html`<p class="empty">No batches yet. <code>greengrader rerun --assignment ID</code> starts one.</p>`
        : batchesTable(batches)
    }`;
  return layout('Regrade batches', body);
}

function batchesTable(batches: readonly RegradeBatchProgress[]): SafeHtml {
  return html`<table class="batches">
    <thead>
      <tr>
        <th>Batch</th>
        <th>Of</th>
        <th>State</th>
        <th>Started</th>
        <th>Finished</th>
        <th class="num">Total</th>
        <th class="num">Queued</th>
        <th class="num">Running</th>
        <th class="num">Graded</th>
        <th class="num">Failed</th>
        <th class="num">Cancelled</th>
      </tr>
    </thead>
    <tbody>
      ${batches.map(batchRow)}
    </tbody>
  </table>`;
}

function batchRow(batch: RegradeBatchProgress): SafeHtml {
  const c = batch.counts;
  return html`<tr data-batch-id="${batch.batchId}">
    <td class="batch"><code>${batch.batchId}</code><br /><small>${batch.workflowId}</small></td>
    <td>${batch.scope} ${batch.scopeId}</td>
    <td><span class="state state-${batch.state}">${batch.state}</span></td>
    <td>${formatTime(batch.createdAt)}</td>
    <td>${formatTime(batch.finishedAt)}</td>
    <td class="num total">${c.total}</td>
    <td class="num queued">${c.queued}</td>
    <td class="num running">${c.running}</td>
    <td class="num graded">${c.graded}</td>
    <td class="num failed">${c.failed}</td>
    <td class="num cancelled">${c.cancelled}</td>
  </tr>`;
}
