import { quote } from './quote';

/** What crypto.randomUUID() mints: the only job ids a client may name. */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Ids of the short jobs a client starts (Defend, dataset imports and downloads). The client
 * mints each one (crypto.randomUUID) and passes it with the start call, so it knows the id
 * of every event before the first one can arrive. An id is taken once per lab process: a
 * second start with it is refused before anything is read, consumed or stored.
 */
export class JobIds {
  private readonly taken = new Set<string>();

  claim(id: string): void {
    if (!UUID.test(id)) throw new Error(`job id ${quote(id)} is not a UUID (mint it with crypto.randomUUID())`);
    const key = id.toLowerCase();
    if (this.taken.has(key)) throw new Error(`job id ${quote(id)} is already taken by another job: mint a new one for each start`);
    this.taken.add(key);
  }
}
