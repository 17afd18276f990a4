import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type Koa from "koa";

/** The console's session cookie. */
export const sessionCookie = "relay_console";
/** A session ends after this long without a request. */
export const idleMs = 30 * 60_000;
/** A session's cookie is written again (its idle time restarted) at most this often. */
const refreshEveryMs = 60_000;

export interface ConsoleSession {
  /** Random per login: what the CSRF token is made from. */
  id: string;
  /** When it ends unless used before (ms). */
  expires: number;
}

/**
 * Sessions with nothing kept on the server: the cookie holds the session's id and end, signed
 * with a key made from `admin.token`. Any ingest process behind a load balancer reads any
 * session, and changing the token ends them all. The CSRF token is a second signature of the
 * session's id, so a page can carry it and no other site can know it.
 */
export class ConsoleSessions {
  readonly #key: Buffer;

  constructor(token: string) {
    this.#key = createHmac("sha256", token).update("ticket-relay console session").digest();
  }

  /** Starts a session after a good login. */
  start(ctx: Koa.Context): ConsoleSession {
    const session = { id: randomBytes(16).toString("base64url"), expires: Date.now() + idleMs };
    this.#write(ctx, session);
    return session;
  }

  /** The request's session, if it has one still running; its idle time starts again. */
  read(ctx: Koa.Context): ConsoleSession | undefined {
    const cookie = ctx.cookies.get(sessionCookie);
    const dot = cookie?.lastIndexOf(".") ?? -1;
    if (!cookie || dot < 0) return undefined;
    const payload = cookie.slice(0, dot);
    if (!this.#sameSignature(cookie.slice(dot + 1), this.#sign(payload))) return undefined;
    let session: ConsoleSession;
    try {
      session = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as ConsoleSession;
    } catch {
      return undefined;
    }
    const now = Date.now();
    if (typeof session.id !== "string" || !(session.expires > now)) return undefined;
    if (session.expires - now < idleMs - refreshEveryMs) {
      session.expires = now + idleMs;
      this.#write(ctx, session);
    }
    return session;
  }

  end(ctx: Koa.Context): void {
    ctx.cookies.set(sessionCookie, "", { ...cookieOptions(ctx), maxAge: 0 });
  }

  csrfToken(session: ConsoleSession): string {
    return this.#sign(`csrf:${session.id}`);
  }

  /** Constant-time, as every token check of the relay. */
  csrfMatches(session: ConsoleSession, presented: string | undefined): boolean {
    return presented !== undefined && this.#sameSignature(presented, this.csrfToken(session));
  }

  #write(ctx: Koa.Context, session: ConsoleSession): void {
    const payload = Buffer.from(JSON.stringify(session)).toString("base64url");
    ctx.cookies.set(sessionCookie, `${payload}.${this.#sign(payload)}`, { ...cookieOptions(ctx), maxAge: idleMs });
  }

  #sign(text: string): string {
    return createHmac("sha256", this.#key).update(text).digest("base64url");
  }

  #sameSignature(a: string, b: string): boolean {
    const left = Buffer.from(a);
    const right = Buffer.from(b);
    return left.length === right.length && timingSafeEqual(left, right);
  }
}

/**
 * HttpOnly: no script reads it. SameSite=Strict: no other site's page sends it. Secure when the
 * request came over HTTPS, as Koa judges it: `X-Forwarded-Proto` counts only with
 * `server.trustProxy`. `overwrite`: a refreshed cookie replaces the one set earlier in the request.
 */
function cookieOptions(ctx: Koa.Context) {
  return {
    httpOnly: true,
    sameSite: "strict" as const,
    secure: ctx.secure,
    path: "/console",
    overwrite: true,
  };
}
