import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { html, unsafeRaw } from '../../../src/dashboard/html.js';

describe('html template', () => {
  it('escapes interpolated text, in content and in quoted attributes', () => {
    const name = `<script>alert("x")</script> & 'y'`;
    assert.equal(
      html`<td title="${name}">${name}</td>`.value,
      '<td title="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;">' +
        '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;</td>',
    );
  });

  it('inserts nested templates and arrays as markup, and nothing for null, undefined and false', () => {
    const rows = ['a<b', 'c'].map((cell) => html`<li>${cell}</li>`);
    const list = html`<ul>
      ${rows}${null}${undefined}${false}
    </ul>`;
    assert.equal(list.value.replace(/>\s+</g, '><'), '<ul><li>a&lt;b</li><li>c</li></ul>');
    assert.equal(html`${0} ${unsafeRaw('<b>')}`.value, '0 <b>');
  });

  it('refuses values it cannot render faithfully', () => {
    assert.throws(() => html`${{ a: 1 }}`, TypeError);
  });
});
