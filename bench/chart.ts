// Grouped bars of saving vs home per policy and slack, one panel per setting, with the oracle marked. Drawn as
// SVG text (viewable as is); bench/carbon.ts also renders it to PNG.
import type { SettingSummary } from './summarize.js';

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
  const width = PANEL_W * summaries.length;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${PANEL_H}" viewBox="0 0 ${width} ${PANEL_H}" ` +
      'font-family="DejaVu Sans, sans-serif" font-size="11" fill="#000000">',
    `<rect width="${width}" height="${PANEL_H}" fill="#ffffff"/>`,
    ...summaries.map((summary, i) => panel(i * PANEL_W, summary)),
    legend(PANEL_H - 44),
    '</svg>\n',
  ].join('\n');
}

function panel(x0: number, summary: SettingSummary): string {
  const slacks = [...new Set(summary.rows.map((row) => row.slackHours))];
  const value = (policy: string, slack: number) =>
    summary.rows.find((row) => row.policy === policy && row.slackHours === slack)?.savingVsHomePct ?? 0;
  const top = Math.max(10, ...summary.rows.map((row) => row.savingVsHomePct), summary.bestStaticSavingVsHomePct);
  const yMax = Math.ceil(top / 10) * 10;
  const left = x0 + PLOT.left;
  const right = left + PLOT.width;
  const bottom = PLOT.top + PLOT.height;
  const y = (pct: number) => PLOT.top + PLOT.height * (1 - Math.max(0, pct) / yMax);
  const parts = [
    text(x0 + 20, 30, summary.title, { size: 20 }),
    text(
      x0 + 20,
      52,
      `saving vs home, mean over ${summary.homes.length} homes, dashed: best static region in hindsight (${summary.bestStaticSavingVsHomePct.toFixed(1)}%)`,
      { fill: GREY },
    ),
  ];
  for (let pct = 0; pct <= yMax; pct += 10) {
    parts.push(line(left, right, y(pct), pct === 0 ? '#000000' : '#e4e4e4'));
    parts.push(text(left - 8, y(pct) + 4, `${pct}%`, { anchor: 'end' }));
  }
  const best = fix(y(summary.bestStaticSavingVsHomePct));
  parts.push(line(left, right, best, GREY, 'stroke-width="2" stroke-dasharray="6 6"'));
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
    const oracle = value('oracle', slack);
    const oracleY = fix(y(oracle));
    parts.push(line(groupLeft - 4, groupLeft + SERIES.length * barW + 2, oracleY, '#000000', 'stroke-width="3"'));
    parts.push(text(groupLeft, y(oracle) - 6, `oracle ${oracle.toFixed(1)}`));
    parts.push(text(left + (g + 0.5) * groupW, bottom + 20, `${slack} h slack`, { anchor: 'middle' }));
  });
  return parts.join('\n');
}

/** One row of keys under the panels; fixed slots, so no text has to be measured. */
function legend(top: number): string {
  const keys = [
    ...SERIES.map((series) => ({
      label: series.policy,
      mark: (x: number) => `<rect x="${x}" y="${top - 12}" width="14" height="14" fill="${series.colour}"/>`,
    })),
    { label: 'oracle (true future)', mark: (x: number) => line(x - 6, x + 18, top - 5, '#000000', 'stroke-width="3"') },
    {
      label: 'best static',
      mark: (x: number) => line(x - 6, x + 18, top - 5, GREY, 'stroke-width="2" stroke-dasharray="6 4"'),
    },
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
