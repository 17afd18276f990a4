import type { AddressInfo } from "node:net";
import { type ParsedMail, simpleParser } from "mailparser";
import { SMTPServer } from "smtp-server";
import { waitForCount } from "./wait.js";

export type SmtpFailure = "temporary" | "permanent";

export interface SmtpServer {
  /** `smtp://127.0.0.1:PORT`, as a user would write it in `SMTP_URL`. */
  url: string;
  messages: ParsedMail[];
  /** The next messages are refused at end of data: 451 (try later) or 550 (never). */
  failNext(...failures: SmtpFailure[]): void;
  waitForMessages(count: number, timeoutMs?: number): Promise<ParsedMail[]>;
  /** Forgets messages and failures not yet used, between tests. */
  reset(): void;
  close(): Promise<void>;
}

/** A real SMTP server that parses what it receives, so tests read subjects, parts and recipients. */
export async function startSmtpServer(): Promise<SmtpServer> {
  const messages: ParsedMail[] = [];
  const failures: SmtpFailure[] = [];

  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS"],
    logger: false,
    onData(stream, _session, callback) {
      simpleParser(stream)
        .then((mail) => {
          const failure = failures.shift();
          if (failure) {
            const error = Object.assign(
              new Error(failure === "temporary" ? "Try again later" : "Mailbox unavailable"),
              {
                responseCode: failure === "temporary" ? 451 : 550,
              },
            );
            return callback(error);
          }
          messages.push(mail);
          callback();
        })
        .catch(callback);
    },
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.server.address() as AddressInfo;
  return {
    url: `smtp://127.0.0.1:${port}`,
    messages,
    failNext: (...next) => failures.push(...next),
    waitForMessages: (count, timeoutMs) => waitForCount(messages, count, "emails", timeoutMs),
    reset() {
      messages.length = 0;
      failures.length = 0;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
