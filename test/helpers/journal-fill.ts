import { join } from 'node:path';
import { readKeyFile } from '../../common/keyfile.js';
import { openJournal } from '../../agent/journal/index.js';
import { uptimeBody } from './keys.js';

/** Appends `count` uptime records to an agent's journal (the agent must not be running). */
export async function fillJournal(dataDir: string, count: number): Promise<void> {
  const journal = openJournal({ file: join(dataDir, 'journal.db'), key: readKeyFile(join(dataDir, 'node.key')) });
  try {
    // Up to 64 appends in flight: each is its own transaction, committed in order.
    const inFlight: Promise<unknown>[] = [];
    for (let i = 0; i < count; i++) {
      inFlight.push(journal.append('uptime', uptimeBody(i)));
      if (inFlight.length >= 64) await Promise.all(inFlight.splice(0));
    }
    await Promise.all(inFlight);
  } finally {
    journal.close();
  }
}
