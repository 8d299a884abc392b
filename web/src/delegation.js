// Acting for someone else: which delegations in force cover an approval, and whether the user's own roles
// could take its current step (when not, they are in the inbox only as a delegate).
import { may } from './permissions.js';

/** Whether the current step names a role the user holds or a permission the user has (sector reach aside). */
export function mayTakeStep(user, chains, approval) {
  const chain = (chains || []).find((c) => c.id === approval.chain);
  const step = chain && (chain.steps || []).find((s) => s.name === approval.current_step);
  if (!step) return true; // unknown: let the server decide
  return (step.role && (user.roles || []).some((r) => r.role === step.role)) || (step.permission && may(user, step.permission)) || false;
}

/** Delegations in force now that make `me` a delegate for `chain`. */
export function delegationsFor(delegations, me, chain) {
  const now = Date.now();
  return (delegations || []).filter((d) => d.delegate_id === me && !d.revoked_at
    && (!d.valid_from || Date.parse(d.valid_from) <= now) && Date.parse(d.valid_until) > now
    && Array.isArray(d.chains) && (d.chains.includes('*') || d.chains.includes(chain)));
}

