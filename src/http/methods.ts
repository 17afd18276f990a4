import type Router from "@koa/router";
import type Koa from "koa";
import { HttpError } from "./body.js";

/**
 * A method a served path does not take gets 405, with `Allow` listing the methods it does and
 * the same list in the JSON error. That covers OPTIONS (the relay serves no browsers, so no
 * CORS preflight) and TRACE, which must never echo a request back with its headers. Paths the
 * router does not serve fall through to the 404 after it.
 */
export function refuseOtherMethods(router: Router): Koa.Middleware {
  return async (ctx, next) => {
    const matched = router.match(ctx.path, ctx.method);
    if (matched.path.length === 0 || matched.route) return next();
    const allowed = [...new Set(matched.path.flatMap((layer) => layer.methods))].sort();
    throw new HttpError(405, `method ${ctx.method} is not allowed here; use ${listed(allowed)}`, {
      Allow: allowed.join(", "),
    });
  };
}

/** `GET`, `GET or HEAD`, `GET, HEAD or POST`. */
function listed(methods: readonly string[]): string {
  return methods.length < 2 ? methods.join("") : `${methods.slice(0, -1).join(", ")} or ${methods.at(-1)}`;
}
