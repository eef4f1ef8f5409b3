import type { AttemptEntry, HistoryEntry } from '../history/order-history.js';
import type { OrderTimeline, RecentOrder } from '../history/read-order-history.js';
import { html, type Html } from './html-page.js';

const BOARD = '/admin/queues/queue';

function when(iso: string | undefined): Html {
  return iso ? html`<time datetime="${iso}">${iso.replace('T', ' ')}</time>` : html`-`;
}

/** A table with a heading row, in a box that scrolls sideways on a phone. */
const dataTable = (headings: readonly string[], rows: readonly Html[]): Html =>
  html`<div class="scroll">
    <table>
      <thead>
        <tr>
          ${headings.map((h) => html`<th>${h}</th>`)}
        </tr>
      </thead>
      <tbody>
        ${rows}
      </tbody>
    </table>
  </div>`;

const searchBox = (value = ''): Html =>
  html`<form method="get" action="/admin/orders" role="search">
    <label>Order id <input type="search" name="q" value="${value}" placeholder="1234567890123456789" required /></label>
    <button>Open</button>
  </form>`;

export function ordersIndexBody(orders: RecentOrder[]): Html {
  const rows = orders.map(
    (o) =>
      html`<tr>
        <td><a href="/admin/orders/${encodeURIComponent(o.orderId)}">${o.orderId}</a></td>
        <td>${o.name ?? '-'}</td>
        <td>${o.status ?? '-'}</td>
        <td>${when(o.lastSeenAt)}</td>
      </tr>`,
  );
  return html`<h1>Orders</h1>
    ${searchBox()}
    ${
      orders.length === 0
        ? html`<p class="muted">No order has a history yet (histories last as long as the dedupe window).</p>`
        : dataTable(['Order', 'Name', 'Status', 'Last activity'], rows)
    }`;
}

function outcomeClass(outcome: string): string {
  if (outcome === 'delivered' || outcome === 'final') return 'ok';
  if (outcome === 'failed' || outcome === 'dead-lettered' || outcome === 'error') return 'bad';
  return 'wait';
}

/** One timeline row: when, what, and the details of that kind of entry. */
function entryRow(entry: HistoryEntry, duplicates: Record<string, number>): Html {
  if (entry.kind === 'received') {
    const dups = duplicates[entry.eventId] ?? 0;
    return html`<tr>
      <td>${when(entry.at)}</td>
      <td>event received</td>
      <td>
        <code>${entry.eventId}</code> ${entry.eventType}
        (${entry.generation})${dups > 0 ? html`; <strong>${dups}</strong> duplicate(s) answered` : ''} ·
        <a href="${BOARD}/mori-events/${encodeURIComponent(entry.jobId)}">job</a>
      </td>
    </tr>`;
  }
  if (entry.kind === 'lookup') {
    const label = { final: 'final', 'not-final': 'not final yet', 'rate-limited': '429', error: 'error' }[
      entry.outcome
    ];
    return html`<tr>
      <td>${when(entry.at)}</td>
      <td>MORI look-up</td>
      <td>
        ${entry.apiVersion} ${entry.purpose}:
        <span class="${outcomeClass(entry.outcome)}">${label}</span
        >${entry.status ? html` · status ${entry.status}` : ''}${entry.httpStatus ? html` · HTTP ${entry.httpStatus}` : ''}${entry.error ? html` · ${entry.error}` : ''}
        · ${entry.durationMs} ms
      </td>
    </tr>`;
  }
  return html`<tr>
    <td>${when(entry.at)}</td>
    <td>delivery to ${entry.sink}</td>
    <td>${attemptDetails(entry)}</td>
  </tr>`;
}

function attemptDetails(a: AttemptEntry): Html {
  return html`attempt ${a.attempt}:
    <span class="${outcomeClass(a.outcome)}">${a.outcome}</span
    >${a.reason ? html` (${a.reason})` : ''}${a.httpStatus ? html` · HTTP ${a.httpStatus}` : ''}${a.error ? html` · ${a.error}` : ''}
    · ${a.durationMs} ms${a.nextRetryAt ? html` · next retry ${when(a.nextRetryAt)}` : ''}`;
}

function summaryTable(summary: Record<string, unknown> | undefined, name: unknown): Html {
  if (!summary) return html`<p class="muted">No delivery yet: the summary appears with the first one.</p>`;
  const rows = [['name', name], ...Object.entries(summary)]
    .filter(([, v]) => v !== undefined && v !== null && !(Array.isArray(v) && v.length === 0))
    .map(
      ([k, v]) =>
        html`<tr>
          <th>${k}</th>
          <td>${typeof v === 'object' ? JSON.stringify(v) : v}</td>
        </tr>`,
    );
  return html`<div class="scroll">
    <table>
      ${rows}
    </table>
  </div>`;
}

function sinkSections(t: OrderTimeline): Html[] {
  const attempts = t.entries.filter((e): e is AttemptEntry => e.kind === 'attempt');
  const sinks = [...new Set(attempts.map((a) => a.sink))];
  return sinks.map((sink) => {
    const mine = attempts.filter((a) => a.sink === sink);
    const ledger = t.ledger.filter((l) => l.sink === sink);
    const jobs = [...new Set(mine.map((a) => a.jobId))];
    return html`<h3>${sink}</h3>
      ${dataTable(
        ['Time', 'Attempt', 'Outcome', 'HTTP', 'Error', 'Duration', 'Next retry'],
        mine.map(
          (a) =>
            html`<tr class="attempt">
              <td>${when(a.at)}</td>
              <td>${a.attempt}</td>
              <td class="${outcomeClass(a.outcome)}">${a.outcome}${a.reason ? ` (${a.reason})` : ''}</td>
              <td>${a.httpStatus ?? '-'}</td>
              <td>${a.error ?? '-'}</td>
              <td>${a.durationMs} ms</td>
              <td>${when(a.nextRetryAt)}</td>
            </tr>`,
        ),
      )}
      <ul>
        ${ledger.map(
          (l) =>
            html`<li class="ledger">
              ledger, <code>${l.deliveryId}</code>:
              ${l.deliveredAt ? html`<span class="ok">delivered</span> at ${when(l.deliveredAt)}` : html`<span class="wait">not delivered</span>`}
            </li>`,
        )}${jobs.map((j) => html`<li><a href="${BOARD}/mori-deliveries/${encodeURIComponent(j)}">job ${j}</a></li>`)}
      </ul>`;
  });
}

export interface TimelineOptions {
  /** The replay form's per-page token; undefined when the dashboard is read-only (no form at all). */
  replayToken: string | undefined;
  /** Jobs the last replay put back to work, after the form's redirect. */
  replayed: number | undefined;
}

export function orderTimelineBody(t: OrderTimeline, opts: TimelineOptions): Html {
  const data = t.envelope?.data as { order?: Record<string, unknown>; summary?: Record<string, unknown> } | undefined;
  const name = data?.order?.orderName;
  const rows = t.entries.map((e) => entryRow(e, t.duplicates));
  const receivedIds = new Set(t.entries.flatMap((e) => (e.kind === 'received' ? [e.eventId] : [])));
  // Duplicates of an event whose first copy is not in the list (its entry aged out of the cap).
  const orphans = Object.entries(t.duplicates).filter(([id]) => !receivedIds.has(id));
  return html`<h1>
      Order <code>${t.orderId}</code>${typeof name === 'string' ? html` · <span class="name">${name}</span>` : ''}
    </h1>
    ${searchBox(t.orderId)}
    ${opts.replayed !== undefined ? html`<p class="ok">Replay: ${opts.replayed} dead-lettered job(s) put back to work.</p>` : ''}
    <h2>Summary</h2>
    ${summaryTable(data?.summary, name)}
    <h2>Timeline <span class="muted">(newest last)</span></h2>
    ${dataTable(['Time', 'What', 'Details'], rows)}
    ${orphans.map(([id, n]) => html`<p>${n} duplicate(s) of event <code>${id}</code> answered.</p>`)}
    <h2>Sinks</h2>
    ${sinkSections(t)}
    ${
      opts.replayToken
        ? html`<form method="post" action="/admin/orders/${encodeURIComponent(t.orderId)}/replay">
            <input type="hidden" name="token" value="${opts.replayToken}" /><button>
              Replay this order's dead letters
            </button>
          </form>`
        : html`<p class="muted">Read-only dashboard: replay with <code>mori-webhook replay</code>.</p>`
    }
    <h2>Envelope <span class="muted">(last delivered, secrets and presigned URLs redacted)</span></h2>
    ${
      t.envelope
        ? html`<details>
            <summary>Show the envelope</summary>
            <pre class="envelope">${JSON.stringify(t.envelope, null, 2)}</pre>
          </details>`
        : html`<p class="muted">None delivered yet.</p>`
    }`;
}

export function messageBody(title: string, message: string): Html {
  return html`<h1>${title}</h1>
    <p>${message}</p>
    ${searchBox()}`;
}
