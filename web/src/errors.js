// An ApiError as the user reads it: a translated sentence chosen by the error's code, the field at fault by
// its translated label, and the server's own message as detail.
import { t, has } from './i18n.js';

/**
 * @param {any} err an ApiError or anything thrown
 * @param {string} [context] a catalog prefix tried first, e.g. "signin" for "signin.error.unauthenticated"
 * @returns {{message: string, field: string|null, detail: string}}
 */
export function describeError(err, context) {
  const code = err && err.code ? String(err.code) : 'unknown';
  let message;
  if (context && has(`${context}.error.${code}`)) message = t(`${context}.error.${code}`);
  else if (has(`error.${code}`)) message = t(`error.${code}`);
  else message = t('error.unknown', { status: err && err.status ? err.status : '?' });
  if (err && err.retryAfter) {
    const minutes = Math.max(1, Math.ceil(err.retryAfter / 60));
    message = t('error.retry_after', { message, minutes });
  }
  let field = null;
  // A refused sign-in or session names a header (Authorization), not something the user typed.
  const fieldless = code === 'unauthenticated' || code === 'too_many_requests';
  if (err && err.field && !fieldless) field = has(`field.${err.field}`) ? t(`field.${err.field}`) : err.field;
  return { message, field, detail: err && err.serverMessage ? String(err.serverMessage) : '' };
}
