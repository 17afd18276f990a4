// What bin/ticket-relay.js runs, but from src/ through tsx, so process tests run today's code
// without a build.
import "../../src/main.js";
