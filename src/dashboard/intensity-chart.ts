// The intensity chart as inline SVG, drawn on the server: one step line per zone, a filled dot where
// each run started and a diamond where it was planned to start. No script, no external asset. Pure.
import { ROUND_STEPS_MS, type ChartData, type ChartMarker } from './chart-data.js';
import { formatDuration, formatIntensity, formatTime } from '../shared/format.js';
import { html, type SafeHtml } from './html.js';

const WIDTH = 960;
const HEIGHT = 340;
const PLOT = { left: 64, right: WIDTH - 20, top: 20, bottom: HEIGHT - 48 };
/** Colour-blind-safe qualitative palette (ColorBrewer Dark2 and one blue). */
const COLOURS = ['#1b9e77', '#d95f02', '#7570b3', '#e7298a', '#66a61e', '#e6ab02', '#a6761d', '#1f78b4'];
const MAX_X_TICKS = 6;

export function zoneColour(index: number): string {
  return COLOURS[index % COLOURS.length] ?? '#333333';
}

/** The chart with its legend and notes; `empty` is shown instead when there is nothing to draw. */
export function renderIntensityChart(data: ChartData | null, options: { title: string; empty: string }): SafeHtml {
  if (data === null) return html`<p class="empty">${options.empty}</p>`;
  const span = Math.max(1, data.toMs - data.fromMs);
  const x = (ms: number) => PLOT.left + ((ms - data.fromMs) / span) * (PLOT.right - PLOT.left);
  const values = [
    ...data.series.flatMap((s) => s.samples.map((sample) => sample.valueGCo2PerKwh)),
    ...data.markers.map((marker) => marker.valueGCo2PerKwh),
  ].filter((v): v is number => v !== null && Number.isFinite(v));
  const { max: yMax, step: yStep } = niceAxis(Math.max(1, ...values));
  const y = (value: number) => PLOT.bottom - (value / yMax) * (PLOT.bottom - PLOT.top);
  const colourOf = new Map(data.series.map((s, i) => [s.zone, zoneColour(i)]));
  const markerColour = (marker: ChartMarker) => colourOf.get(marker.zone) ?? '#555555';

  const yTicks: SafeHtml[] = [];
  for (let value = 0; value <= yMax + 1e-9; value += yStep) {
    yTicks.push(
      html`<g class="tick">
        <line x1="${PLOT.left}" x2="${PLOT.right}" y1="${fix(y(value))}" y2="${fix(y(value))}" stroke="#e3e3e3" />
        <text x="${PLOT.left - 8}" y="${fix(y(value) + 4)}" text-anchor="end">${String(Number(value.toFixed(6)))}</text>
      </g>`,
    );
  }
  const tickStep = ROUND_STEPS_MS.find((step) => span / step <= MAX_X_TICKS) ?? span;
  const xTicks: SafeHtml[] = [];
  for (let at = Math.ceil(data.fromMs / tickStep) * tickStep; at <= data.toMs; at += tickStep) {
    xTicks.push(
      html`<g class="tick">
        <line x1="${fix(x(at))}" x2="${fix(x(at))}" y1="${PLOT.bottom}" y2="${PLOT.bottom + 5}" stroke="#777777" />
        <text x="${fix(x(at))}" y="${PLOT.bottom + 19}" text-anchor="middle">${tickLabel(at, tickStep)}</text>
      </g>`,
    );
  }
  const paths = data.series.map(
    (s) =>
      html`<path
        class="series"
        data-zone="${s.zone}"
        d="${stepPath(s.samples, data.stepMs, data.toMs, x, y)}"
        fill="none"
        stroke="${colourOf.get(s.zone) ?? '#333333'}"
        stroke-width="2.5"
        stroke-linejoin="round"
        ><title>${s.zone}</title></path
      >`,
  );
  const links = [...new Set(data.markers.map((m) => m.runId))].flatMap((runId) => {
    const planned = data.markers.find((m) => m.runId === runId && m.kind === 'planned');
    const actual = data.markers.find((m) => m.runId === runId && m.kind === 'actual');
    if (!planned || !actual) return [];
    return [
      html`<line
        class="marker-link"
        x1="${fix(x(planned.atMs))}"
        y1="${fix(y(planned.valueGCo2PerKwh ?? 0))}"
        x2="${fix(x(actual.atMs))}"
        y2="${fix(y(actual.valueGCo2PerKwh ?? 0))}"
        stroke="#555555"
        stroke-dasharray="3 3"
      />`,
    ];
  });
  const markers = data.markers.map((marker) => {
    const cx = x(marker.atMs);
    const cy = y(marker.valueGCo2PerKwh ?? 0);
    const title = html`<title>
      ${marker.label} ${formatTime(marker.atMs)} in ${marker.zone}, ${formatIntensity(marker.valueGCo2PerKwh)}
    </title>`;
    const colour = markerColour(marker);
    const diamond = `M ${fix(cx)} ${fix(cy - 7)} L ${fix(cx + 7)} ${fix(cy)} L ${fix(cx)} ${fix(cy + 7)} L ${fix(cx - 7)} ${fix(cy)} Z`;
    return marker.kind === 'actual'
      ? html`<g class="marker marker-actual" data-run="${marker.runId}" data-zone="${marker.zone}">
          ${title}<circle cx="${fix(cx)}" cy="${fix(cy)}" r="6" fill="${colour}" stroke="#ffffff" stroke-width="1.5" />
        </g>`
      : html`<g class="marker marker-planned" data-run="${marker.runId}" data-zone="${marker.zone}">
          ${title}<path d="${diamond}" fill="#ffffff" stroke="${colour}" stroke-width="2" />
        </g>`;
  });
  const now =
    data.nowMs >= data.fromMs && data.nowMs <= data.toMs
      ? html`<g class="now"
          ><line
            x1="${fix(x(data.nowMs))}"
            x2="${fix(x(data.nowMs))}"
            y1="${PLOT.top}"
            y2="${PLOT.bottom}"
            stroke="#999999"
            stroke-dasharray="2 4"
          /><text x="${fix(x(data.nowMs) - 4)}" y="${PLOT.top + 10}" text-anchor="end">now</text></g
        >`
      : null;
  const basis = data.basis ? `${data.basis} ` : '';
  const description = `${basis}carbon intensity of ${data.series.map((s) => s.zone).join(', ') || 'no zone'}, ${formatTime(data.fromMs)} to ${formatTime(data.toMs)}`;

  return html`<figure class="chart">
    <svg
      class="intensity-chart"
      xmlns="http://www.w3.org/2000/svg"
      viewBox="0 0 ${WIDTH} ${HEIGHT}"
      width="${WIDTH}"
      height="${HEIGHT}"
      role="img"
      aria-label="${options.title}: ${description}"
      font-family="system-ui, sans-serif"
      font-size="12"
      fill="#333333"
    >
      <rect x="0" y="0" width="${WIDTH}" height="${HEIGHT}" fill="#ffffff" />
      ${yTicks}
      <line x1="${PLOT.left}" x2="${PLOT.right}" y1="${PLOT.bottom}" y2="${PLOT.bottom}" stroke="#777777" />
      ${xTicks}
      <text x="${(PLOT.left + PLOT.right) / 2}" y="${HEIGHT - 8}" text-anchor="middle">
        time (UTC) from ${formatTime(data.fromMs)}, ${formatDuration(data.stepMs)} steps
      </text>
      <text transform="translate(16 ${(PLOT.top + PLOT.bottom) / 2}) rotate(-90)" text-anchor="middle">
        gCO₂/kWh${data.basis ? ` (${data.basis})` : ''}
      </text>
      ${now} ${paths} ${links} ${markers}
    </svg>
    <figcaption>
      <ul class="legend">
        ${data.series.map(
          (s) =>
            html`<li>
              <svg width="26" height="12" aria-hidden="true">
                <line x1="1" x2="25" y1="6" y2="6" stroke="${colourOf.get(s.zone) ?? '#333333'}" stroke-width="3" />
              </svg>
              ${s.zone}${s.regions.length > 0 ? ` (${s.regions.join(', ')})` : ''}
            </li>`,
        )}
        <li>
          <svg width="14" height="14" aria-hidden="true"><circle cx="7" cy="7" r="5" fill="#555555" /></svg> actual
          start
        </li>
        <li>
          <svg width="16" height="16" aria-hidden="true">
            <path d="M 8 1 L 15 8 L 8 15 L 1 8 Z" fill="#ffffff" stroke="#555555" stroke-width="2" />
          </svg>
          planned start
        </li>
      </ul>
      <p>
        ${options.title}: ${description}.
        ${data.provider ? `Past intensity from provider ${data.provider} (${data.sources.join(', ')}).` : ''}
      </p>
      ${
        data.notes.length > 0
          ? html`<ul class="notes">
              ${data.notes.map((note) => html`<li>${note}</li>`)}
            </ul>`
          : null
      }
    </figcaption>
  </figure>`;
}

/** Horizontal runs at each sample's value with vertical joins; a missing sample breaks the line. */
function stepPath(
  samples: readonly { startMs: number; valueGCo2PerKwh: number | null }[],
  stepMs: number,
  endMs: number,
  x: (ms: number) => number,
  y: (value: number) => number,
): string {
  const parts: string[] = [];
  let drawing = false;
  for (const sample of samples) {
    if (sample.valueGCo2PerKwh === null) {
      drawing = false;
      continue;
    }
    const top = fix(y(sample.valueGCo2PerKwh));
    parts.push(drawing ? `V ${top}` : `M ${fix(x(sample.startMs))} ${top}`);
    parts.push(`H ${fix(x(Math.min(sample.startMs + stepMs, endMs)))}`);
    drawing = true;
  }
  return parts.join(' ');
}

/** 0 to a round maximum, in 4–6 round steps. */
function niceAxis(maxValue: number): { max: number; step: number } {
  const rough = maxValue / 5;
  const magnitude = 10 ** Math.floor(Math.log10(rough));
  const step = ([1, 2, 2.5, 5, 10].find((m) => m * magnitude >= rough) ?? 10) * magnitude;
  return { max: Math.ceil((maxValue * 1.05) / step) * step, step };
}

function tickLabel(atMs: number, tickStepMs: number): string {
  const iso = new Date(atMs).toISOString();
  if (tickStepMs < 60_000) return iso.slice(11, 19);
  if (tickStepMs < 24 * 3_600_000) return iso.slice(11, 16);
  return iso.slice(5, 10);
}

function fix(value: number): string {
  return value.toFixed(1);
}
