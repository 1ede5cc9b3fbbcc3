#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { EXIT } from '../common/cli.js';
import { VERSION } from '../common/version.js';
import { registerInitCommand } from './commands/init.js';
import { registerNodesCommand } from './commands/nodes.js';
import { registerServeCommand } from './commands/serve.js';
import { registerSimulateCommand } from './commands/simulate.js';

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
registerSimulateCommand(program);

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) {
    process.exitCode = e.exitCode === 0 ? EXIT.ok : EXIT.usage;
  } else {
    throw e;
  }
}
