// The commands, in the order the help lists them: dispatch, the options each accepts and
// the usage lines all come from this one list.
import type { Command } from '../context.js';
import { checkCommand } from './check.js';
import { configCommand } from './config.js';
import { dnsCommand } from './dns.js';
import { deleteCommand } from './delete.js';
import { exportCommand } from './export.js';
import { importCommand } from './import.js';
import { lookupCommand } from './lookup.js';
import { migrateCommand } from './migrate.js';
import { paccCheckCommand } from './pacc-check.js';

export const COMMANDS: readonly Command[] = [importCommand, exportCommand, deleteCommand, lookupCommand, checkCommand, dnsCommand, paccCheckCommand, migrateCommand, configCommand];
