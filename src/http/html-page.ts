import type { FastifyReply, FastifyRequest } from 'fastify';

/** Escapes text for HTML content and quoted attributes: order and file names come from MORI's customers. */
function escapeHtml(value: unknown): string {
  const text = typeof value === 'string' ? value : value === undefined || value === null ? '' : JSON.stringify(value);
  return text.replace(
    /[&<>"'`]/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '`': '&#96;' })[c]!,
  );
}

/**
 * A template tag that escapes every interpolated value; a value already made by `html` (a `Html`)
 * goes in as it is, so pages are built from pieces without escaping twice or forgetting once.
 */
export class Html {
  readonly text: string;
  constructor(text: string) {
    this.text = text;
  }
}

export function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  let out = strings[0]!;
  values.forEach((value, i) => {
    const parts = Array.isArray(value) ? value : [value];
    out += parts.map((v) => (v instanceof Html ? v.text : escapeHtml(v))).join('') + strings[i + 1]!;
  });
  return new Html(out);
}

/**
 * No script at all, styles from this page only, forms post only here, never framed: an escaping
 * mistake still cannot run code, and another site cannot overlay the page (clickjacking).
 */
const CONTENT_SECURITY_POLICY =
  "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/** Readable on a phone: one column, tables scroll sideways, system fonts. */
const STYLE = `
body{font:15px/1.45 system-ui,sans-serif;margin:0 auto;max-width:70rem;padding:.75rem;color:#1b1f24}
h1{font-size:1.3rem;overflow-wrap:anywhere}h2{font-size:1.1rem;margin-top:1.5rem}
.scroll{overflow-x:auto}table{border-collapse:collapse;width:100%}
th,td{text-align:left;vertical-align:top;padding:.3rem .5rem;border-bottom:1px solid #d0d7de}
td{overflow-wrap:anywhere}th{font-weight:600;white-space:nowrap}
time,code,pre{font-family:ui-monospace,monospace;font-size:.85rem}pre{background:#f6f8fa;padding:.5rem;overflow-x:auto}
.ok{color:#1a7f37}.bad{color:#cf222e}.wait{color:#9a6700}.muted{color:#59636e}
form{margin:.75rem 0}input[type=search]{font:inherit;padding:.35rem;width:min(20rem,70%)}
button{font:inherit;padding:.35rem .8rem}nav a{margin-right:1rem}
`;

function htmlPage(title: string, body: Html): string {
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${title}</title>
        <style>
          ${new Html(STYLE)}
        </style>
      </head>
      <body>
        <nav><a href="/admin/orders">Orders</a><a href="/admin/queues">Queues</a></nav>
        ${body}
      </body>
    </html>`.text;
}

/** Sends a page with the headers every admin page carries. */
export function sendPage(reply: FastifyReply, status: number, title: string, body: Html): FastifyReply {
  return reply
    .code(status)
    .header('content-type', 'text/html; charset=utf-8')
    .header('content-security-policy', CONTENT_SECURITY_POLICY)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .header('cache-control', 'no-store')
    .send(htmlPage(title, body));
}

/** A browser asks for HTML; an API client (curl, a script) keeps the JSON envelope. */
export function wantsHtml(request: FastifyRequest): boolean {
  return /\btext\/html\b/.test(request.headers.accept ?? '');
}
