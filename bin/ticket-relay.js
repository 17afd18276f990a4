#!/usr/bin/env node
// Runs the compiled CLI. `npm ci` builds it (the `prepare` script); after editing src/, run `npm run build`.
import "../dist/main.js";
