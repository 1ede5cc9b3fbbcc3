#!/usr/bin/env node
import { Command } from 'commander';
import { runProgram } from '../common/cli.js';
import { VERSION } from '../common/version.js';
import { registerInitCommand } from './commands/init.js';
import { registerJobsCommand } from './commands/jobs.js';
import { registerLedgerCommand } from './commands/ledger.js';
import { registerNodesCommand } from './commands/nodes.js';
import { registerServeCommand } from './commands/serve.js';
import { registerSimulateCommand } from './commands/simulate.js';
import { registerStakeCommand } from './commands/stake.js';

const program = new Command();
program
  .name('capanode-coordinator')
  .description('capanode reference coordinator: verifies and stores what nodes prove, challenges their throughput')
  .version(VERSION)
  .exitOverride()
  .showHelpAfterError();

registerInitCommand(program);
registerServeCommand(program);
registerNodesCommand(program);
registerLedgerCommand(program);
registerStakeCommand(program);
registerJobsCommand(program);
registerSimulateCommand(program);

await runProgram(program);
