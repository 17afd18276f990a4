/**
 * What the schema cannot see about route templates: a delivery carries its route's name, and
 * finds the route's template by it, so a route with a template needs a name no other route
 * has; and a route's template for a kind of target none of its deliveries goes to would
 * silently do nothing. Reads the unvalidated value, like the other cross-reference checks.
 */
export function routeTemplateProblems(root: Record<string, unknown>): { path: PropertyKey[]; message: string }[] {
  const problems: { path: PropertyKey[]; message: string }[] = [];
  const targets = asRecord(root.targets);
  const routes: unknown[] = Array.isArray(root.routes) ? root.routes : [];
  // The name the router gives each route (routing/router.ts).
  const names = routes.map((route, index) => {
    const { name } = asRecord(route);
    return typeof name === "string" ? name : `routes[${index}]`;
  });
  routes.forEach((route, index) => {
    const { template, to, name } = asRecord(route);
    if (template === undefined) return;
    const other = names.findIndex((each, i) => i !== index && each === names[index]);
    if (other !== -1) {
      problems.push({
        path: ["routes", index, typeof name === "string" ? "name" : "template"],
        message: `routes[${other}] is named "${names[index]}" too; a route with a template needs a name of its own`,
      });
    }
    const ids = (Array.isArray(to) ? to : []).filter((id): id is string => typeof id === "string");
    // A fallback delivery keeps the route that sent the event to the target that gave up.
    const reached = [...ids, ...ids.map((id) => asRecord(targets[id]).fallback)];
    for (const kind of ["slack", "email"]) {
      if (asRecord(template)[kind] === undefined) continue;
      if (reached.some((id) => typeof id === "string" && asRecord(targets[id]).type === kind)) continue;
      problems.push({
        path: ["routes", index, "template", kind],
        message: `no target of this route (${ids.join(", ")}), nor a fallback of one, is ${kind === "email" ? "an email" : "a slack"} target`,
      });
    }
  });
  return problems;
}

function asRecord(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}
