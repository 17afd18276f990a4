/**
 * A browser's session in the console, over plain fetch: logged in with the admin token, its
 * cookie kept, the CSRF token read from a page as a form would carry it.
 */
export interface ConsoleSession {
  /** A page's HTML; fails the test on anything but 200. */
  page(path: string): Promise<string>;
  /** Posts a form as a browser does (no redirect followed); `csrf: false` leaves the token out. */
  post(path: string, form: Record<string, string | string[]>, options?: { csrf?: boolean }): Promise<Response>;
}

export async function consoleSession(relayUrl: string, token: string): Promise<ConsoleSession> {
  const login = await fetch(`${relayUrl}/console/login`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ token }).toString(),
    redirect: "manual",
  });
  if (login.status !== 303) throw new Error(`console login answered ${login.status}`);
  const cookie = (login.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
  let csrf: string | undefined;

  const page = async (path: string) => {
    const answer = await fetch(`${relayUrl}${path}`, { headers: { cookie }, redirect: "manual" });
    const text = await answer.text();
    if (answer.status !== 200) throw new Error(`GET ${path} answered ${answer.status}: ${text.slice(0, 500)}`);
    csrf ??= /name="csrf" value="([^"]+)"/.exec(text)?.[1];
    return text;
  };

  return {
    page,
    async post(path, form, options = {}) {
      if (csrf === undefined) await page("/console");
      const body = new URLSearchParams();
      for (const [name, value] of Object.entries(form)) {
        for (const one of Array.isArray(value) ? value : [value]) body.append(name, one);
      }
      if (options.csrf !== false) body.set("csrf", csrf ?? "");
      return fetch(`${relayUrl}${path}`, {
        method: "POST",
        headers: { cookie, "content-type": "application/x-www-form-urlencoded" },
        body: body.toString(),
        redirect: "manual",
      });
    },
  };
}

/** The notice an action's redirect carries (`?done=…`), as the page it leads to shows it. */
export function doneText(answer: Response): string {
  const location = answer.headers.get("location") ?? "";
  return new URL(location, "http://console").searchParams.get("done") ?? "";
}
