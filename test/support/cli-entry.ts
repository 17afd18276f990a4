// What bin/ticket-relay.js does, but from src/ through tsx, so process tests run today's code
// without a build.
import { main } from "../../src/cli.js";

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    console.error(error);
    process.exitCode = 1;
  },
);
