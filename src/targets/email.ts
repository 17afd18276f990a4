import nodemailer from "nodemailer";
import type { EmailTargetConfig } from "../config/schema.js";
import { renderEmailMessage } from "../messages/render.js";
import { emailThreadHeaders } from "./email-thread.js";
import { answered, PermanentFailure, RetryLater, type Target } from "./target.js";

/** Connection-level failures nodemailer reports: the server may be back on the next try. */
const transientCodes = new Set(["ECONNECTION", "ETIMEDOUT", "ESOCKET", "EDNS", "ECONNRESET", "ECONNREFUSED"]);

export function createEmailTarget(id: string, config: EmailTargetConfig): Target {
  const transport = nodemailer.createTransport({
    url: config.smtp,
    pool: true,
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 30_000,
  });

  return {
    id,
    type: "email",
    async send(message, context) {
      const { subject, text, html } = renderEmailMessage(message);
      const thread = emailThreadHeaders(context.event, context.deliveryId);
      try {
        const info = await transport.sendMail({ from: config.from, to: config.to, subject, text, html, ...thread });
        return { detail: `accepted by SMTP as ${info.messageId}`, where: { messageId: info.messageId } };
      } catch (error) {
        throw classifySmtpError(error);
      }
    },
    async close() {
      transport.close();
    },
  };
}

function classifySmtpError(error: unknown): Error {
  const { responseCode, code, message, response } = error as {
    responseCode?: number;
    code?: string;
    message?: string;
    response?: string;
  };
  // SMTP's own split: 4xx replies are temporary by definition, 5xx are final.
  if (responseCode !== undefined) {
    const reason = `SMTP ${responseCode}`;
    const failure = responseCode >= 500 ? new PermanentFailure(reason) : new RetryLater(reason);
    return answered(failure, { status: responseCode, ...(response && { excerpt: response }) });
  }
  if (code && transientCodes.has(code)) return answered(new RetryLater(`SMTP unreachable (${code})`), { code });
  if (code === "EAUTH") return new PermanentFailure("SMTP login refused: check the credentials in smtp");
  return new RetryLater(`SMTP: ${code ?? message ?? "unknown error"}`);
}
