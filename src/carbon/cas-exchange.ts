// One exchange with the CAS API: send, then sort the answer into a result or a typed failure (CONTRACT.md §5).
// 200 with a valid body is interpreted; 422 and 400 "No viable candidate" are final (retrying cannot help);
// 5xx, timeouts, network faults and bodies that are not JSON or contradict themselves are retryable.
import { getWithJsonBody } from './cas-http.js';
import { type CasInterpretation, interpretCasResponse } from './cas-response.js';
import { casErrorSchema, casNoViableSchema, casSuccessSchema, casValidationErrorSchema } from './cas-schemas.js';
import { CarbonProviderError } from './provider.js';

/** Sample 2 (45 regions) is 28 kB; anything near this is not an answer from this API. */
const MAX_RESPONSE_BYTES = 2 << 20;

export async function askCas(
  url: string,
  body: Record<string, unknown>,
  timeoutMs: number,
): Promise<CasInterpretation> {
  const answer = await getWithJsonBody(url, body, { timeoutMs, maxResponseBytes: MAX_RESPONSE_BYTES });
  const status = answer.status;
  let parsed: unknown;
  try {
    parsed = JSON.parse(answer.text);
  } catch {
    const snippet = answer.text.slice(0, 80).replace(/\s+/g, ' ');
    throw new CarbonProviderError('cas', 'invalid-response', `HTTP ${status}, not JSON: "${snippet}"`, true, status);
  }
  if (status === 200) {
    const success = casSuccessSchema.safeParse(parsed);
    if (!success.success) {
      const issues = success.error.issues.slice(0, 3).map((i) => `${i.path.join('.')}: ${i.message}`);
      throw new CarbonProviderError('cas', 'invalid-response', `unexpected answer: ${issues.join('; ')}`, true, 200);
    }
    try {
      return interpretCasResponse(success.data);
    } catch (error) {
      throw new CarbonProviderError('cas', 'invalid-response', (error as Error).message, true, 200);
    }
  }
  if (status === 400 && casNoViableSchema.safeParse(parsed).success) {
    throw new CarbonProviderError('cas', 'no-data', 'No viable candidate', false, status);
  }
  const invalid = casValidationErrorSchema.safeParse(parsed);
  if (status === 422 && invalid.success) {
    const detail = JSON.stringify(invalid.data.messages.json).slice(0, 300);
    throw new CarbonProviderError('cas', 'rejected-request', `request rejected: ${detail}`, false, status);
  }
  const error = casErrorSchema.safeParse(parsed);
  const message = error.success ? error.data.error : JSON.stringify(parsed).slice(0, 200);
  throw new CarbonProviderError('cas', 'http-status', `HTTP ${status}: ${message}`, status >= 500, status);
}
