#!/usr/bin/env node
import module from 'node:module';

// Node 22.1 and later keep the compiled code of the modules a command loads (in the system's temp
// folder, or $NODE_COMPILE_CACHE), so every command after the first starts sooner; Node 20 has no
// such cache and goes on as before. Called before the CLI is imported, which is why that import is
// dynamic.
module.enableCompileCache?.();
await import('../dist/cli.js');
