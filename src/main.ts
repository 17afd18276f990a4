// The process entry: bin/ticket-relay.js runs the compiled copy, `npm run dev` this file.
import { main } from "./cli.js";

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    console.error(error);
    process.exitCode = 1;
  },
);
