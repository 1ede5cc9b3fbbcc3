import type { BenchSuite } from './suite.js';
import { agentSuite } from './agent.js';
import { ingestSuite } from './ingest.js';
import { journalSuite } from './journal.js';
import { nativeSuite } from './native.js';
import { potSuite } from './pot.js';
import { simSuite } from './sim.js';
import { verifySuite } from './verify.js';

/** Every suite `npm run bench` runs, in order. Add new suites here. */
export const suites: BenchSuite[] = [verifySuite, journalSuite, potSuite, ingestSuite, nativeSuite, simSuite, agentSuite];
