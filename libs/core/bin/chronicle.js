#!/usr/bin/env node
// The installed `chronicle` command. It is a file of its own, not dist/cli/main.js,
// so that npm can link it before the library is built (as in this repository).
await import('../dist/cli/main.js');
