// Grouped bars of saving vs home per policy and slack, one panel per setting, with the oracle marked. Drawn as
// SVG text (viewable as is); bench/carbon.ts also renders it to PNG.
import type { PolicySummary, SettingSummary } from './summarize.js';

/** What one chart plots per bar, how its panels are subtitled, and what its marker line shows. */
interface Measure {
  value: (row: PolicySummary) => number | null;
  subtitle: (summary: SettingSummary) => string;
  /** The marker over each slack's bars (with its label), and the dashed reference line (if any). */
  marker: (summary: SettingSummary, slack: number) => { pct: number; label: string };
  reference: (summary: SettingSummary) => number | null;
  legend: string;
}

const SAVING: Measure = {
  value: (row) => row.savingVsHomePct,
  subtitle: (summary) =>
    `saving vs home, mean over ${summary.homes.length} homes, dashed: best static region in hindsight (${summary.bestStaticSavingVsHomePct.toFixed(1)}%)`,
  marker: (summary, slack) => {
    const pct = summary.rows.find((row) => row.policy === 'oracle' && row.slackHours === slack)?.savingVsHomePct ?? 0;
    return { pct, label: `oracle ${pct.toFixed(1)}` };
  },
  reference: (summary) => summary.bestStaticSavingVsHomePct,
  legend: 'oracle (true future)',
};

const OF_CONSTRAINED: Measure = {
  value: (row) => row.fractionOfConstrainedOraclePct,
  subtitle: (summary) =>
    `share of the capacity-constrained oracle's saving vs home, mean over ${summary.homes.length} homes`,
  marker: () => ({ pct: 100, label: 'constrained oracle' }),
  reference: () => null,
  legend: 'constrained oracle = 100 %',
};

const SERIES = [
  { policy: 'spatial', colour: '#4285f4' },
  { policy: 'temporal', colour: '#fb8c00' },
  { policy: 'spatiotemporal', colour: '#34a853' },
] as const;
const GREY = '#969696';
const PANEL_W = 640;
const PANEL_H = 560;
const PLOT = { left: 70, top: 70, width: 540, height: 380 };

export function savingsChartSvg(summaries: readonly SettingSummary[]): string {
  return chartSvg(summaries, SAVING);
}

/** Per capacity setting: each policy's saving as a share of the exact optimum under that capacity. */
export function constrainedFractionChartSvg(summaries: readonly SettingSummary[]): string {
  return chartSvg(summaries, OF_CONSTRAINED);
}

function chartSvg(summaries: readonly SettingSummary[], measure: Measure): string {
  const width = PANEL_W * summaries.length;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${PANEL_H}" viewBox="0 0 ${width} ${PANEL_H}" ` +
      'font-family="DejaVu Sans, sans-serif" font-size="11" fill="#000000">',
    `<rect width="${width}" height="${PANEL_H}" fill="#ffffff"/>`,
    ...summaries.map((summary, i) => panel(i * PANEL_W, summary, measure)),
    legend(PANEL_H - 44, measure),
    '</svg>\n',
  ].join('\n');
}

function panel(x0: number, summary: SettingSummary, measure: Measure): string {
  const slacks = [...new Set(summary.rows.map((row) => row.slackHours))];
  const value = (policy: string, slack: number) =>
    measure.value(summary.rows.find((row) => row.policy === policy && row.slackHours === slack)!) ?? 0;
  const reference = measure.reference(summary);
  const markers = slacks.map((slack) => measure.marker(summary, slack).pct);
  const top = Math.max(
    10,
    ...summary.rows.filter((row) => row.policy !== 'immediate-home').map((row) => measure.value(row) ?? 0),
    ...markers,
    reference ?? 0,
  );
  const yMax = Math.ceil(top / 10) * 10;
  const left = x0 + PLOT.left;
  const right = left + PLOT.width;
  const bottom = PLOT.top + PLOT.height;
  const y = (pct: number) => PLOT.top + PLOT.height * (1 - Math.max(0, pct) / yMax);
  const parts = [
    text(x0 + 20, 30, summary.title, { size: 20 }),
    text(x0 + 20, 52, measure.subtitle(summary), { fill: GREY }),
  ];
  for (let pct = 0; pct <= yMax; pct += 10) {
    parts.push(line(left, right, y(pct), pct === 0 ? '#000000' : '#e4e4e4'));
    parts.push(text(left - 8, y(pct) + 4, `${pct}%`, { anchor: 'end' }));
  }
  if (reference !== null) {
    parts.push(line(left, right, fix(y(reference)), GREY, 'stroke-width="2" stroke-dasharray="6 6"'));
  }
  const groupW = PLOT.width / slacks.length;
  const barW = groupW * 0.22;
  slacks.forEach((slack, g) => {
    const groupLeft = left + g * groupW + groupW * 0.14;
    SERIES.forEach((series, i) => {
      const pct = value(series.policy, slack);
      const barX = groupLeft + i * barW;
      const barH = bottom - y(pct);
      const bar = `x="${fix(barX)}" y="${fix(y(pct))}" width="${fix(barW - 2)}" height="${fix(barH)}"`;
      parts.push(`<rect ${bar} fill="${series.colour}"/>`);
      // The value sits inside a bar tall enough to hold it, else just above it.
      const inside = barH > 16;
      const label = { anchor: 'middle' as const, fill: inside ? '#ffffff' : '#000000', size: 10 };
      parts.push(text(barX + (barW - 2) / 2, inside ? y(pct) + 13 : y(pct) - 4, pct.toFixed(1), label));
    });
    const marker = measure.marker(summary, slack);
    const markerY = fix(y(marker.pct));
    parts.push(line(groupLeft - 4, groupLeft + SERIES.length * barW + 2, markerY, '#000000', 'stroke-width="3"'));
    parts.push(text(groupLeft, y(marker.pct) - 6, marker.label));
    parts.push(text(left + (g + 0.5) * groupW, bottom + 20, `${slack} h slack`, { anchor: 'middle' }));
  });
  return parts.join('\n');
}

/** One row of keys under the panels; fixed slots, so no text has to be measured. */
function legend(top: number, measure: Measure): string {
  const keys = [
    ...SERIES.map((series) => ({
      label: series.policy,
      mark: (x: number) => `<rect x="${x}" y="${top - 12}" width="14" height="14" fill="${series.colour}"/>`,
    })),
    { label: measure.legend, mark: (x: number) => line(x - 6, x + 18, top - 5, '#000000', 'stroke-width="3"') },
    ...(measure === SAVING
      ? [
          {
            label: 'best static',
            mark: (x: number) => line(x - 6, x + 18, top - 5, GREY, 'stroke-width="2" stroke-dasharray="6 4"'),
          },
        ]
      : []),
  ];
  const slots = [90, 230, 370, 560, 820];
  return keys
    .map((key, i) => {
      const x = slots[i] ?? 0;
      return `${key.mark(x)}\n${text(x + 24, top, key.label, { size: 16 })}`;
    })
    .join('\n');
}

function line(x1: number, x2: number, y: number, stroke: string, extra = ''): string {
  return `<line x1="${fix(x1)}" x2="${fix(x2)}" y1="${fix(y)}" y2="${fix(y)}" stroke="${stroke}" ${extra}/>`;
}

function text(
  x: number,
  y: number,
  content: string,
  style: { anchor?: 'start' | 'middle' | 'end'; fill?: string; size?: number } = {},
): string {
  const attributes = [
    `x="${fix(x)}"`,
    `y="${fix(y)}"`,
    style.anchor ? `text-anchor="${style.anchor}"` : '',
    style.fill ? `fill="${style.fill}"` : '',
    style.size ? `font-size="${style.size}"` : '',
  ].filter(Boolean);
  return `<text ${attributes.join(' ')}>${escapeXml(content)}</text>`;
}

function escapeXml(content: string): string {
  return content.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] ?? c);
}

/** Two decimals keep the SVG short and are finer than a pixel. */
function fix(value: number): number {
  return Math.round(value * 100) / 100;
}
