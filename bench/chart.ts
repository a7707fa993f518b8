// Grouped bars of saving vs home per policy and slack, one panel per setting, with the oracle marked.
import { Canvas, type Rgb } from './png.js';
import type { SettingSummary } from './summarize.js';

const SERIES: { policy: string; color: Rgb }[] = [
  { policy: 'spatial', color: [66, 133, 244] },
  { policy: 'temporal', color: [251, 140, 0] },
  { policy: 'spatiotemporal', color: [52, 168, 83] },
];
const BLACK: Rgb = [0, 0, 0];
const GREY: Rgb = [150, 150, 150];
const GRID: Rgb = [228, 228, 228];
const WHITE: Rgb = [255, 255, 255];
const PANEL_W = 640;
const PANEL_H = 560;
const PLOT = { left: 70, top: 70, width: 540, height: 380 };

function drawPanel(canvas: Canvas, x0: number, summary: SettingSummary): void {
  const slacks = [...new Set(summary.rows.map((row) => row.slackHours))];
  const value = (policy: string, slack: number) =>
    summary.rows.find((row) => row.policy === policy && row.slackHours === slack)?.savingVsHomePct ?? 0;
  const top = Math.max(10, ...summary.rows.map((row) => row.savingVsHomePct), summary.bestStaticSavingVsHomePct);
  const yMax = Math.ceil(top / 10) * 10;
  const left = x0 + PLOT.left;
  const y = (pct: number) => PLOT.top + PLOT.height * (1 - Math.max(0, pct) / yMax);
  canvas.text(x0 + 20, 16, `${summary.title}`, BLACK, 2);
  const subtitle = `saving vs home, mean over ${summary.homes.length} homes, dashed: best static region in hindsight (${summary.bestStaticSavingVsHomePct.toFixed(1)}%)`;
  canvas.text(x0 + 20, 40, subtitle, GREY, 1);
  for (let pct = 0; pct <= yMax; pct += 10) {
    canvas.fillRect(left, y(pct), PLOT.width, 1, pct === 0 ? BLACK : GRID);
    const label = `${pct}%`;
    canvas.text(left - 8 - Canvas.textWidth(label, 1), y(pct) - 3, label, BLACK, 1);
  }
  for (let dash = 0; dash < PLOT.width; dash += 12) {
    canvas.fillRect(left + dash, y(summary.bestStaticSavingVsHomePct), 6, 2, GREY);
  }
  const groupW = PLOT.width / slacks.length;
  const barW = groupW * 0.22;
  slacks.forEach((slack, g) => {
    const groupLeft = left + g * groupW + groupW * 0.14;
    SERIES.forEach((series, i) => {
      const pct = value(series.policy, slack);
      const barX = groupLeft + i * barW;
      canvas.fillRect(barX, y(pct), barW - 2, PLOT.top + PLOT.height - y(pct), series.color);
      const label = pct.toFixed(1);
      const labelX = barX + (barW - 2 - Canvas.textWidth(label, 1)) / 2;
      if (PLOT.top + PLOT.height - y(pct) > 14) canvas.text(labelX, y(pct) + 4, label, WHITE, 1);
      else canvas.text(labelX, y(pct) - 10, label, BLACK, 1);
    });
    const oracle = value('oracle', slack);
    canvas.fillRect(groupLeft - 4, y(oracle) - 1, SERIES.length * barW + 6, 3, BLACK);
    canvas.text(groupLeft, y(oracle) - 12, `oracle ${oracle.toFixed(1)}`, BLACK, 1);
    const axis = `${slack} h slack`;
    canvas.text(
      left + g * groupW + (groupW - Canvas.textWidth(axis, 1)) / 2,
      PLOT.top + PLOT.height + 10,
      axis,
      BLACK,
      1,
    );
  });
}

export function drawSavingsChart(summaries: readonly SettingSummary[]): Buffer {
  const canvas = new Canvas(PANEL_W * summaries.length, PANEL_H);
  summaries.forEach((summary, i) => drawPanel(canvas, i * PANEL_W, summary));
  let x = 90;
  const legendY = PANEL_H - 50;
  for (const series of SERIES) {
    canvas.fillRect(x, legendY, 14, 14, series.color);
    x += 22 + canvas.text(x + 20, legendY + 1, series.policy, BLACK, 2);
  }
  canvas.fillRect(x, legendY + 6, 24, 3, BLACK);
  x += 34 + canvas.text(x + 30, legendY + 1, 'oracle (true future)', BLACK, 2);
  canvas.fillRect(x, legendY + 6, 8, 2, GREY);
  canvas.fillRect(x + 14, legendY + 6, 8, 2, GREY);
  canvas.text(x + 30, legendY + 1, 'best static', GREY, 2);
  return canvas.toPng();
}
