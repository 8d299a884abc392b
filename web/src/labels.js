// Names of the things approvals speak of, from the catalogs; an id the catalogs do not know is shown as it is
// (chains and steps are the installation's own configuration).
import { t, has } from './i18n.js';

const known = (prefix, id) => (id && has(`${prefix}.${id}`) ? t(`${prefix}.${id}`) : id || '—');

export const itemLabel = (type) => known('item', type);
export const chainLabel = (id) => known('chain', id);
export const stepLabel = (id) => known('step', id);
export const decisionLabel = (d) => known('decision', d);
export const categoryLabel = (c) => known('category', c);
export const policyRuleLabel = (rule) => known('policy', rule);
