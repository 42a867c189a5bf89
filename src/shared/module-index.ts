/**
 * The modules of a folder gathered at build time (import.meta.glob), by the id each declares:
 * one per id, every known id present. Attack runners and defense builders are found this way,
 * so adding one is its file plus its registry entry.
 */
export function indexModules<M extends { id: string }>(
  modules: Record<string, M | undefined>,
  known: readonly string[],
  where: { what: string; folder: string; define: string; valid: (m: M) => boolean },
): ReadonlyMap<string, M> {
  const byId = new Map<string, M>();
  for (const [file, m] of Object.entries(modules)) {
    if (!m || !where.valid(m)) throw new Error(`${where.what} ${file} has no default export from ${where.define}`);
    if (byId.has(m.id)) throw new Error(`two files for the ${where.what} '${m.id}' (one in ${file})`);
    byId.set(m.id, m);
  }
  const missing = known.filter((id) => !byId.has(id));
  if (missing.length) throw new Error(`registered ${where.what}s without a file in ${where.folder}: ${missing.join(', ')}`);
  return byId;
}
