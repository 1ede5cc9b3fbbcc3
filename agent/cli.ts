#!/usr/bin/env node
import { Command } from 'commander';
import { runProgram } from '../common/cli.js';
import { VERSION } from '../common/version.js';
import { registerBenchCommands } from './commands/bench.js';
import { registerClaimCommands } from './commands/claim.js';
import { registerIdentityCommands } from './commands/identity.js';
import { registerJournalCommands } from './commands/journal.js';
import { registerProbeCommands } from './commands/probe.js';
import { registerStartCommand } from './commands/start.js';
import { registerStatusCommand } from './commands/status.js';

const program = new Command();
program
  .name('capanode')
  .description('capanode agent: proves what this GPU machine contributes and claims its rewards')
  .version(VERSION)
  .exitOverride()
  .showHelpAfterError();

registerIdentityCommands(program);
registerBenchCommands(program);
registerJournalCommands(program);
registerStartCommand(program);
registerStatusCommand(program);
registerProbeCommands(program);
registerClaimCommands(program);

await runProgram(program);
