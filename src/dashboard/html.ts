// A tiny HTML builder: every interpolated value is escaped unless it is already built HTML. Pure.

/** Markup that is safe to insert as is: only `html` and `unsafeRaw` make one. */
export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for an element's content or a quoted attribute value (HTML and SVG alike). */
function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => ESCAPES[char] ?? char);
}

/**
 * Tagged template: `html\`<td>${name}</td>\`` escapes `name`. Nested `html` results and arrays of them
 * are inserted as they are; `null`, `undefined` and `false` insert nothing (for `${cond && html\`…\`}`).
 * Attribute values must be quoted in the template.
 */
export function html(strings: TemplateStringsArray, ...values: unknown[]): SafeHtml {
  let out = strings[0] ?? '';
  values.forEach((value, i) => {
    out += render(value) + (strings[i + 1] ?? '');
  });
  return new SafeHtml(out);
}

/** Markup built by code that escapes by itself (numbers formatted for SVG paths); never user data. */
export function unsafeRaw(markup: string): SafeHtml {
  return new SafeHtml(markup);
}

function render(value: unknown): string {
  if (value === null || value === undefined || value === false) return '';
  if (value instanceof SafeHtml) return value.value;
  if (Array.isArray(value)) return value.map(render).join('');
  if (typeof value === 'string') return escapeHtml(value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (value instanceof Date) return escapeHtml(value.toISOString());
  throw new TypeError(`html: cannot interpolate a ${typeof value}; format it to a string first`);
}
