import { Backoff, Link, type LinkOptions } from '../../agent/link/index.js';
import { createLogger } from '../../common/log.js';
import type { KeyPair } from '../../proofs/keys.js';
import { MemoryJournal } from './memory-journal.js';
import { tsSolver } from './ts-solver.js';

/** An agent's link to a coordinator under test: an empty in-memory journal, no GPU, the TypeScript PoT solver, quick backoff. */
export function testLink(coordinator: { url: string; id: string }, key: KeyPair, options: Partial<LinkOptions> = {}): Link {
  return new Link({
    url: coordinator.url,
    coordinatorKey: coordinator.id,
    key,
    journal: new MemoryJournal(key.id, []),
    inventory: () => ({ gpus: [] }),
    agentVersion: '0.1.0',
    solver: tsSolver(),
    logger: createLogger({ level: 'silent' }),
    backoff: new Backoff(20, 80),
    ...options,
  });
}
