/** What `ticket-relay --help` prints, and every usage error after saying what is wrong. */
export const usage = `Usage: ticket-relay <command> [options]

Commands:
  serve [--config FILE] [--role all|ingest|worker]   run the relay (default role: all)
  check [--strict] [--config FILE]                   validate the config and exit; --strict also
                                                     fails on warnings (unreachable routes …)
  reload --pid PID [--force]                         have a running serve load its config again;
                                                     --force even one with no routes or targets
  try [EVENT] [--source ID] [--url BASE] [--wait 15s] [--json]
                                                     post a sample webhook to the running relay
                                                     and follow it to its targets
  route --event FILE.json [--source ID] [--at TIME] [--json]
                                                     dry run: the routes, targets and messages a
                                                     webhook body would get (sends nothing)
  test [FILE...]                                     run the route tests beside the config (tests/*.yaml)
  send-test (TARGET... | --all)                      send a test message through real targets
  sonar register --source ID --url PUBLIC_URL [--events a,b] [--name NAME] [--config FILE]
                                                     create the webhook on Sonar for source ID
                                                     (API token from $SONAR_API_TOKEN)
  dlq list [--target T] [--since 1h] [--json]        deliveries that gave up, newest first
  dlq show ID [--json]                               one of them in full, with the message it would send
  dlq replay (ID... | --target T | --all) [--since 1h]
                                                     queue them again, with all their tries
  dlq purge (ID... | --target T | --all) [--older-than 7d]
                                                     delete them
  targets list [--json]                              targets disabled after an HTTP 410 (why, since when),
                                                     then muted ones
  targets enable ID                                  send to a disabled target again
  mute (TARGET | ROUTE) --for 1h [--reason TEXT] [--drop]
                                                     hold (or drop) its deliveries for a while
  unmute (TARGET | ROUTE)                            lift a mute; what it held is sent now
  mutes [--json]                                     the mutes in force, until when and why
  events [--ticket ID] [--source S] [--type T] [--target T] [--outcome O] [--since 1h] [--limit N]
                                                     webhooks received, newest first, and what
                                                     became of each delivery
  events show RECEIPT_ID [--json]                    one webhook's whole story: each route's reason,
                                                     every try, where it went
  events tail [--json]                               follow new webhooks and their deliveries live
  events refused [--source S] [--json]               requests refused (a wrong token …), newest first
  events replay (--ticket ID | --target T | --outcome O | RECEIPT_ID...) [--since 1h] [--dry-run]
                                                     send recorded deliveries again
  events forget --ticket ID                          erase what the relay keeps of a ticket
  ticket ID [--json]                                 a ticket's timeline: what arrived, where it
                                                     went, and why anything did not

Every command takes --help; dlq, targets, the mute, events and ticket commands work on the
Redis that the config names.
The config file is --config, else $RELAY_CONFIG, else config/relay.yaml.
Variables in a .env file in the working directory are loaded when not already set.`;
