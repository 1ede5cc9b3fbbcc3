#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { EXIT } from '../common/cli.js';
import { VERSION } from '../common/version.js';
import { registerBenchCommands } from './commands/bench.js';
import { registerIdentityCommands } from './commands/identity.js';

const program = new Command();
program
  .name('capanode')
  .description('capanode agent: proves what this GPU machine contributes and claims its rewards')
  .version(VERSION)
  .exitOverride()
  .showHelpAfterError();

registerIdentityCommands(program);
registerBenchCommands(program);

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) {
    process.exitCode = e.exitCode === 0 ? EXIT.ok : EXIT.usage;
  } else {
    throw e;
  }
}
