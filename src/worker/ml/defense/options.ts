/**
 * Algorithm 1's options are resolved once, at the job edge, from the registry's one
 * preset table (src/shared/registry/defenses.ts: paper Sec. 5.2 values, cited there);
 * `purify` checks them once where it uses them.
 */
export { type ResolvedAd as ActiveDefenseOptions, checkResolvedAd as checkDefenseOptions } from '../../../shared/registry';
