import { html, type SafeHtml } from './html.js';

const STYLE = `
  body { font-family: system-ui, sans-serif; margin: 0; color: #222; background: #fafafa; }
  header { background: #1f5130; color: #fff; padding: 0.8rem 1.5rem; display: flex; gap: 2rem; align-items: baseline; }
  header a { color: #fff; }
  header .brand { font-weight: 700; font-size: 1.2rem; text-decoration: none; }
  main { padding: 1rem 1.5rem 3rem; max-width: 1500px; }
  h1 { font-size: 1.4rem; } h2 { font-size: 1.15rem; margin-top: 2rem; }
  table { border-collapse: collapse; background: #fff; font-size: 0.9rem; }
  th, td { border-bottom: 1px solid #e2e2e2; padding: 0.35rem 0.6rem; text-align: left; vertical-align: top; }
  th { background: #f0f0f0; font-weight: 600; }
  td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
  tr.mismatch td.score { color: #a40000; font-weight: 600; }
  .state { border-radius: 3px; padding: 0 0.35rem; background: #eee; }
  .state-completed { background: #d8f0dd; } .state-failed, .state-rejected { background: #f6d5d5; }
  .state-running, .state-placed, .state-recording { background: #dbe8fb; }
  .state-cancelled { background: #f3ecd2; }
  .cards { display: flex; gap: 1rem; flex-wrap: wrap; }
  .card { background: #fff; border: 1px solid #e2e2e2; border-radius: 6px; padding: 0.6rem 1rem; min-width: 10rem; }
  .card .value { font-size: 1.3rem; font-weight: 600; }
  .empty { color: #666; font-style: italic; }
  figure.chart { margin: 0; background: #fff; border: 1px solid #e2e2e2; border-radius: 6px; padding: 0.5rem; max-width: 960px; }
  svg.intensity-chart { max-width: 100%; height: auto; display: block; }
  ul.legend { list-style: none; padding: 0; display: flex; gap: 1.2rem; flex-wrap: wrap; margin: 0.4rem 0; }
  ul.legend svg { vertical-align: middle; }
  dl.facts { display: grid; grid-template-columns: max-content auto; gap: 0.25rem 1rem; }
  dl.facts dt { font-weight: 600; } dl.facts dd { margin: 0; }
  code { font-size: 0.85em; }
  .positive { color: #1f6b33; } .negative { color: #a40000; }
`;

/** The page shell: inline styles only, so the page loads nothing from anywhere else. */
export function layout(title: string, body: SafeHtml): SafeHtml {
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${title} · GreenGrader</title>
        <style>
          ${STYLE}
        </style>
      </head>
      <body>
        <header>
          <a class="brand" href="/">GreenGrader</a>
          <nav><a href="/">Runs</a> · <a href="/batches">Regrade batches</a> · <a href="/api/runs">JSON</a></nav>
        </header>
        <main>${body}</main>
      </body>
    </html>`;
}
