import Router from "@koa/router";
import type Koa from "koa";
import type { HistoryTools } from "../../history/history-tools.js";
import type { Logger } from "../../log.js";
import type { QueueSnapshot } from "../../metrics/relay-metrics.js";
import type { DeadLetters } from "../../queue/dead-letters.js";
import type { DisabledTargets } from "../../queue/disabled-targets.js";
import type { Mutes } from "../../queue/mutes.js";
import type { RelayParts } from "../../relay-parts.js";
import { secretsEqual } from "../../sources/secure-compare.js";
import { HttpError } from "../body.js";
import { consoleCss, consoleScript } from "./assets.js";
import { readForm } from "./form.js";
import { type Html, html } from "./html.js";
import { type PageFrame, page } from "./layout.js";
import { ConsoleSessions } from "./session.js";

/** What the console's pages read and act on: the same parts the CLI commands and the admin API use. */
export interface ConsoleDeps {
  /** The history (history/); undefined when `history.enabled` is false, and the pages say so. */
  history?: HistoryTools;
  deadLetters: DeadLetters;
  mutes: Mutes;
  disabledTargets: DisabledTargets;
  /** The config in force now, with its sources, routes and templates. */
  parts: () => RelayParts;
  /** The queues' depths, as `/metrics` reads them; undefined when Redis does not answer. */
  queues: () => Promise<QueueSnapshot | undefined>;
  /** The config file the relay was started with, for the config page. */
  configFile?: string;
  logger: Logger;
  /** The largest form a page takes (the route tester's pasted body): `server.bodyLimit`. */
  bodyLimit: number;
}

/** What a page's handler finds in `ctx.state.console`. */
export interface ConsoleState {
  csrf: string;
  deps: ConsoleDeps;
}

/** One page (or a few) of the console: its routes, and what it adds to the stylesheet and script. */
export interface ConsolePage {
  /** Adds its routes to the console's router; every one runs behind the login and, if it changes something, the CSRF check. */
  add(router: Router): void;
  css?: string;
  script?: string;
}

/**
 * Content-Security-Policy of every console answer: only the relay's own stylesheet, script and
 * forms, no inline script, no framing. Whatever a ticket's text holds cannot run.
 */
const contentSecurityPolicy =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/**
 * The console (`/console` on the ingest port): pages rendered on the server from the history,
 * the dead letters, the mutes and the config, with the actions the CLI has (replay, purge, mute,
 * enable). Behind a login with `admin.token`, a session cookie and a CSRF token on every request
 * that changes something.
 */
export function consoleMiddleware(token: string, deps: ConsoleDeps, pages: readonly ConsolePage[]): Koa.Middleware {
  const sessions = new ConsoleSessions(token);
  const css = [consoleCss, ...pages.map((one) => one.css ?? "")].join("\n");
  const script = [consoleScript, ...pages.map((one) => one.script ?? "")].join("\n");

  const open = new Router({ prefix: "/console" });
  open.get("/assets/console.css", (ctx) => {
    ctx.type = "text/css; charset=utf-8";
    ctx.body = css;
  });
  open.get("/assets/console.js", (ctx) => {
    ctx.type = "text/javascript; charset=utf-8";
    ctx.body = script;
  });
  open.get("/login", (ctx) => {
    if (sessions.read(ctx)) return ctx.redirect("/console");
    render(ctx, loginPage(firstOf(ctx.query.next)));
  });
  open.post("/login", async (ctx) => {
    const form = await readForm(ctx, 8 * 1024);
    if (!secretsEqual(token, form.get("token") ?? undefined)) {
      deps.logger.warn({ client: ctx.ip }, "console login refused: wrong admin token");
      ctx.status = 401;
      render(ctx, loginPage(form.get("next") ?? undefined, "That is not the admin token."));
      return;
    }
    sessions.start(ctx);
    deps.logger.info({ client: ctx.ip }, "console login");
    ctx.status = 303;
    ctx.redirect(safeNext(form.get("next") ?? undefined));
  });

  const pagesRouter = new Router({ prefix: "/console" });
  pagesRouter.post("/logout", (ctx) => {
    sessions.end(ctx);
    ctx.status = 303;
    ctx.redirect("/console/login");
  });
  for (const one of pages) one.add(pagesRouter);

  const openRoutes = open.routes() as unknown as Koa.Middleware;
  const pageRoutes = pagesRouter.routes() as unknown as Koa.Middleware;
  return async (ctx, next) => {
    if (ctx.path !== "/console" && !ctx.path.startsWith("/console/")) return next();
    ctx.set("Content-Security-Policy", contentSecurityPolicy);
    ctx.set("X-Content-Type-Options", "nosniff");
    ctx.set("Referrer-Policy", "same-origin");
    ctx.set("Cache-Control", "no-store");
    try {
      await openRoutes(ctx, async () => {
        const session = sessions.read(ctx);
        if (!session) {
          if (ctx.method !== "GET" && ctx.method !== "HEAD") throw new HttpError(401, "log in first");
          ctx.status = 303;
          return ctx.redirect(`/console/login?next=${encodeURIComponent(ctx.originalUrl)}`);
        }
        const csrf = sessions.csrfToken(session);
        if (ctx.method !== "GET" && ctx.method !== "HEAD") {
          const presented = ctx.get("x-csrf-token") || (await csrfFromForm(ctx));
          if (!sessions.csrfMatches(session, presented || undefined)) {
            throw new HttpError(403, "this request did not carry the page's CSRF token: reload the page and try again");
          }
        }
        ctx.state.console = { csrf, deps } satisfies ConsoleState;
        await pageRoutes(ctx, async () => {
          throw new HttpError(404, "no such page");
        });
      });
    } catch (error) {
      const { status = 500, message } = error as { status?: number; message?: string };
      if (status >= 500) deps.logger.error({ err: error }, "console page failed");
      ctx.status = status;
      const csrf = (ctx.state.console as ConsoleState | undefined)?.csrf;
      render(ctx, {
        title: status === 404 ? "Not found" : `Error ${status}`,
        csrf,
        body: html`<p class="notice error">${status >= 500 ? "Something went wrong; the relay's log says what." : message}</p>`,
      });
    }
  };
}

/** Writes a page as the answer. */
export function render(ctx: Koa.Context, frame: PageFrame): void {
  ctx.type = "text/html; charset=utf-8";
  ctx.body = page(frame).text;
}

/** Renders a page of the console, with the session's CSRF token and the notice of a redirect (`?done=`). */
export function renderPage(ctx: Koa.Context, frame: Omit<PageFrame, "csrf">): void {
  const { csrf } = ctx.state.console as ConsoleState;
  render(ctx, { ...frame, csrf, notice: frame.notice ?? firstOf(ctx.query.done) });
}

/** After an action: back to a page, saying what was done (the Post/Redirect/Get pattern). */
export function redirectDone(ctx: Koa.Context, to: string, done: string): void {
  ctx.status = 303;
  ctx.redirect(`${to}${to.includes("?") ? "&" : "?"}done=${encodeURIComponent(done)}`);
}

/** The state a page handler has: the CSRF token for its forms, and what it reads and acts on. */
export function consoleOf(ctx: Koa.Context): ConsoleState {
  return ctx.state.console as ConsoleState;
}

/**
 * An action of the console (a replay, a purge, a mute, an enable) in the log, marked "from the
 * console", and in the history's list of actions taken by hand; a replay is also noted on the
 * delivery itself.
 */
export function logAction(ctx: Koa.Context, action: string, details: Record<string, unknown>): void {
  const { deps } = consoleOf(ctx);
  deps.logger.info({ ...details, from: "console", client: ctx.ip }, `${action} from the console`);
  const what = Object.entries(details)
    .map(([key, value]) => `${key}: ${typeof value === "string" ? value : JSON.stringify(value)}`)
    .join(", ");
  void deps.history?.recordAction({ action, what: what.slice(0, 500), from: "console", client: ctx.ip });
}

async function csrfFromForm(ctx: Koa.Context): Promise<string | undefined> {
  if (!ctx.is("application/x-www-form-urlencoded")) return undefined;
  const form = await readForm(ctx, consoleOf(ctx)?.deps.bodyLimit ?? 1024 * 1024);
  // The handler reads the same form: it is kept, since the body can be read only once.
  ctx.state.form = form;
  return form.get("csrf") ?? undefined;
}

/** The form a page posted, read once by the CSRF check. */
export function formOf(ctx: Koa.Context): URLSearchParams {
  return (ctx.state.form as URLSearchParams | undefined) ?? new URLSearchParams();
}

function loginPage(next: string | undefined, problem?: string): PageFrame {
  return {
    title: "Log in",
    body: html`<form class="login" method="post" action="/console/login">
  ${problem ? html`<p class="notice error" role="alert">${problem}</p>` : ""}
  <label for="token">Admin token (<code>admin.token</code> in the relay's config)</label>
  <input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
  <input type="hidden" name="next" value="${next ?? ""}">
  <button type="submit">Log in</button>
</form>`,
  };
}

/** Only a path of the console itself: a login link must not send anyone elsewhere. */
function safeNext(next: string | undefined): string {
  return next && /^\/console(\/|\?|$)/.test(next) && !next.startsWith("//") ? next : "/console";
}

function firstOf(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

export type { Html };
