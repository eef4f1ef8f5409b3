import { describe, expect, it } from 'vitest';
import { html } from '../../src/http/html-page.js';

describe('the html template tag', () => {
  it('escapes every interpolated value, for text and for quoted attributes', () => {
    const name = `<script>alert('x')</script> & "quoted" \`tick\``;
    expect(html`<p title="${name}">${name}</p>`.text).toBe(
      '<p title="&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;quoted&quot; &#96;tick&#96;">' +
        '&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;quoted&quot; &#96;tick&#96;</p>',
    );
  });

  it('takes pieces it made as they are, so nothing is escaped twice', () => {
    const rows = ['<a>', '<b>'].map((v) => html`<li>${v}</li>`);
    const list = html`<ul>
      ${rows}
    </ul>`;
    expect(list.text.replace(/\s+/g, '')).toBe('<ul><li>&lt;a&gt;</li><li>&lt;b&gt;</li></ul>');
  });

  it('shows nothing for undefined and null, and numbers and objects as JSON', () => {
    expect(html`${undefined}|${null}|${42}|${{ a: '<x>' }}`.text).toBe('||42|{&quot;a&quot;:&quot;&lt;x&gt;&quot;}');
  });
});
