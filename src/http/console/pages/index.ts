import type { ConsolePage } from "../console.js";
import { configPage } from "./config.js";
import { deadLettersPage } from "./dead-letters.js";
import { eventPage } from "./event.js";
import { eventsPage } from "./events.js";
import { mutesPage } from "./mutes.js";
import { overviewPage } from "./overview.js";
import { routeTesterPage } from "./route-tester.js";
import { ticketPage } from "./ticket.js";

/** Every page of the console; the navigation (layout.ts) lists the main ones. */
export const consolePages: readonly ConsolePage[] = [
  overviewPage,
  eventsPage,
  eventPage,
  ticketPage,
  deadLettersPage,
  mutesPage,
  routeTesterPage,
  configPage,
];
