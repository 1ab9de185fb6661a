#!/usr/bin/env node
// The `heirloom` command (package.json "bin"): runs the TypeScript CLI through tsx, so `npx heirloom …` works
// in a checkout without a build step and prints nothing but the command's own output.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('./main.ts');
process.exitCode = await main(process.argv.slice(2));
