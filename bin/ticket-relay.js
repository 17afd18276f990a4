#!/usr/bin/env node
// Runs the compiled CLI. `npm ci` builds it (the `prepare` script); after editing src/, run `npm run build`.
import { main } from "../dist/cli.js";

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    console.error(error);
    process.exitCode = 1;
  },
);
