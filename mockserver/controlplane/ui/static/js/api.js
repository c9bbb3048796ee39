// The documented control API (openapi/control.yaml), relative to the page: /_emulator/ui -> /_emulator/.

const BASE = new URL("./", location.href);

export class ApiError extends Error {
  constructor(message, status, type) {
    super(message);
    this.status = status;
    this.type = type;
  }
}

export function url(path, { tenant, params } = {}) {
  const target = new URL(path, BASE);
  if (tenant !== undefined && tenant !== null) target.searchParams.set("tenant", tenant);
  for (const [key, value] of Object.entries(params || {})) {
    if (value !== undefined && value !== null && value !== "") target.searchParams.set(key, value);
  }
  return target.toString();
}

export async function api(path, { method = "GET", body, tenant, params } = {}) {
  const init = { method, credentials: "same-origin", cache: "no-store", headers: {} };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(url(path, { tenant, params }), init);
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!response.ok) {
    const error = data && data.error;
    throw new ApiError((error && error.message) || `HTTP ${response.status}`, response.status, error && error.type);
  }
  return data;
}

export const mediaUrl = (tenant, jobId, kind) => url(`jobs/${encodeURIComponent(jobId)}/${kind}`, { tenant });
export const specUrl = (name) => new URL(`../openapi/${name}`, BASE).toString();

let routesCache = null;

/** Provider operations, grouped by provider: {boson: [{operation_id, method, path}], heygen: [...]} (fetched once). */
export async function operations() {
  if (!routesCache) {
    routesCache = api("routes").then((data) => {
      const grouped = {};
      for (const route of data.routes) (grouped[route.provider] ||= []).push(route);
      for (const list of Object.values(grouped)) list.sort((a, b) => a.operation_id.localeCompare(b.operation_id));
      return grouped;
    }).catch((error) => {
      routesCache = null;
      throw error;
    });
  }
  return routesCache;
}
