import { moriSign } from './mori-signer.js';

/**
 * POSTs a body to a running service's URL as MORI delivers a webhook: JSON, signed with the
 * secret. The in-process counterpart is `postSigned` on buildTestServer; this one goes through
 * a real socket, for tests that start the service as a process.
 */
export function postSignedTo(
  url: string,
  body: string,
  secret: string,
  { signal }: { signal?: AbortSignal } = {},
): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/json', 'x-moribiz-signature': moriSign(body, secret) },
    signal,
  });
}
