import { join } from 'node:path';
import { readKeyFile } from '../../common/keyfile.js';
import { openJournal } from '../../agent/journal/index.js';
import { uptimeBody } from './keys.js';

/** Appends `count` uptime records to an agent's journal (the agent must not be running). */
export function fillJournal(dataDir: string, count: number): void {
  const journal = openJournal({ file: join(dataDir, 'journal.db'), key: readKeyFile(join(dataDir, 'node.key')) });
  try {
    for (let i = 0; i < count; i++) journal.append('uptime', uptimeBody(i));
  } finally {
    journal.close();
  }
}
