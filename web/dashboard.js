// sipwarden's dashboard: the control API's JSON, shown and acted on in the browser. Every value from the
// daemon (log lines, reasons, user names come from attackers) goes into the page as text, never as HTML.
"use strict";

const TOKEN_KEY = "sipwarden-token";
const REFRESH_MS = 5000;
/** Decisions of the last day shown at most, newest first. */
const DECISIONS_SHOWN = 50;
/** Registrations shown at most: the newest seen first; the filter asks the daemon for the rest. */
const REGISTRATIONS_SHOWN = 200;
const $ = (id) => document.getElementById(id);
let token = sessionStorage.getItem(TOKEN_KEY) || "";
let bans = [];
let timer = null;
/** The decisions page shown: null for the newest, else the `before` cursor of an older one. */
let decisionsBefore = null;
/** The cursor of the page after the one shown (the daemon's `next`), null when there is none. */
let decisionsNext = null;

class AuthError extends Error {}

async function api(method, path, body) {
  const headers = { authorization: `Bearer ${token}` };
  if (body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (res.status === 401) throw new AuthError("the token was refused");
  const data = (res.headers.get("content-type") || "").includes("json") ? await res.json() : null;
  if (!res.ok) throw new Error((data && data.error && data.error.message) || `HTTP ${res.status}`);
  return data;
}

/** An element with text content (never parsed as HTML) and optional class. */
function el(tag, text, className) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  if (className) e.className = className;
  return e;
}

function row(cells) {
  const tr = document.createElement("tr");
  for (const c of cells) {
    const td = c instanceof Node ? document.createElement("td") : el("td", c);
    if (c instanceof Node) td.append(c);
    tr.append(td);
  }
  return tr;
}

const plural = (n, one, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
const when = (iso) =>
  iso === null || iso === undefined ? "permanent" : iso.replace("T", " ").replace(/\.\d+Z$|Z$/, " UTC");

function showError(e) {
  if (e instanceof AuthError) return signOut(e.message);
  $("error").textContent = e instanceof Error ? e.message : String(e);
}

function renderStatus(s) {
  const byOrigin = (s.counts.activeBansByOrigin || []).map((o) => `${o.origin} ${o.count}`).join(", ");
  $("summary").textContent =
    `v${s.version}, up ${Math.floor(s.uptimeS / 60)} min; firewall ${s.backend.name} ${s.backend.ok ? "ok" : `NOT OK (${s.backend.detail})`}; ` +
    `${plural(s.counts.activeBans, "ban")} in force${byOrigin ? ` (${byOrigin})` : ""}, ${s.counts.spares} spared, ${plural(s.counts.allowlist, "allowlist entry", "allowlist entries")}` +
    (s.counts.registrations === undefined ? "" : `, ${plural(s.counts.registrations, "registration")}`);
  const jails = $("jails").tBodies[0];
  jails.replaceChildren(...s.jails.map((j) => row([j.name, j.filter, j.failures, j.bans, j.tracked])));
  const facts = [
    ...s.sources.map(
      (x) =>
        `source ${x.id}: ${x.lines} lines, ${x.errors} errors, last ${x.lastLineAt ? when(x.lastLineAt) : "never"}` +
        (x.link
          ? `; link ${x.link.up ? "up" : "DOWN"}${x.link.since ? ` since ${when(x.link.since)}` : ""}${!x.link.up && x.link.lastError ? ` (${x.link.lastError})` : ""}`
          : ""),
    ),
    ...s.lists.map(
      (l) =>
        `list ${l.name}: ${l.networks} networks` +
        (l.database
          ? ` from ${l.database.file} (${l.database.type || "mmdb"}${l.database.builtAt ? ` built ${l.database.builtAt.slice(0, 10)}` : ""})`
          : "") +
        (l.downloadError ? ` (last download failed: ${l.downloadError})` : ""),
    ),
    ...(s.fleet
      ? [
          `fleet: node ${s.fleet.node}, ${s.fleet.connected ? "connected" : "NOT connected"}${s.fleet.signed ? (s.fleet.signing === "node" ? ", signed by node keys" : ", signed") : ""}; ` +
            `${s.fleet.published} published, ${s.fleet.received} received` +
            `${s.fleet.refused ? `, ${s.fleet.refused} refused (last: ${s.fleet.lastRefused})` : ""}` +
            `${s.fleet.pending ? `, ${s.fleet.pending} waiting` : ""}` +
            `${s.fleet.lastError ? ` (last error: ${s.fleet.lastError})` : ""}`,
        ]
      : []),
    ...(s.registrationProviders || []).map(
      (p) =>
        `registrations from ${p.id}: ${p.up ? "up" : "DOWN"}${p.since ? ` since ${when(p.since)}` : ""}${!p.up && p.lastError ? ` (${p.lastError})` : ""}`,
    ),
    // A registration after many failed logins from its address: a guessed password? (Its user is SIP text.)
    ...((s.suspectRegistrations && s.suspectRegistrations.marked) || []).map(
      (m) =>
        `suspect registration: ${m.user} from ${m.address} (${m.source}) at ${when(m.at)} after ${m.failures} failed logins; not shielded from bans until ${when(m.until)}`,
    ),
    ...(s.notifications || []).map(
      (n) =>
        `notify by ${n.via}: ${n.sent} sent, ${n.failed} failed${n.lastError ? ` (last failure: ${n.lastError})` : ""}`,
    ),
    ...s.firewallNotes.map((n) => `firewall note: ${n}`),
  ];
  $("facts").replaceChildren(...facts.map((f) => el("li", f)));
}

/** Where the daemon's databases place an address: `CN AS4134` (a cell), or `country CN, AS4134`. */
function whereText(located, sentence) {
  if (!located) return "";
  const country = located.country && (sentence ? `country ${located.country}` : located.country);
  return [country, located.asn && `AS${located.asn}`].filter(Boolean).join(sentence ? ", " : " ");
}

function renderBans() {
  const q = $("filter").value.trim().toLowerCase();
  const where = (b) => whereText(b.located, false);
  const shown = bans.filter(
    (b) => !q || `${b.target} ${where(b)} ${b.origin} ${b.reason}`.toLowerCase().includes(q),
  );
  $("ban-count").textContent = `(${shown.length}${shown.length === bans.length ? "" : ` of ${bans.length}`})`;
  $("bans").tBodies[0].replaceChildren(
    ...shown.map((b) => {
      const unban = el("button", "Unban");
      unban.type = "button";
      unban.dataset.target = b.target;
      unban.addEventListener("click", () => unbanTarget(b.target));
      const tr = row([b.target, b.origin, when(b.at), when(b.expiresAt), b.reason, unban]);
      tr.children[4].className = "reason";
      // Where the daemon's databases place it (a country or AS database): beside the address, as text.
      if (where(b)) tr.children[0].append(el("span", ` ${where(b)}`, "where"));
      return tr;
    }),
  );
}

function renderAllows(list) {
  const manual = list.entries.filter((e) => e.origin === "manual").length;
  $("allow-count").textContent = `(${list.entries.length}, ${manual} by hand)`;
  $("allows").tBodies[0].replaceChildren(
    ...list.entries.map((e) => {
      let action = "";
      if (e.origin === "manual") {
        action = el("button", "Remove");
        action.type = "button";
        action.dataset.target = e.network;
        action.addEventListener("click", () => unallowTarget(e.network));
      }
      const until = e.origin === "manual" ? (e.expiresAt === null ? "when removed" : when(e.expiresAt)) : "";
      return row([e.network, e.entry === e.network ? "" : e.entry, e.detail, until, action]);
    }),
  );
  $("allow-problems").replaceChildren(
    ...list.problems.map((p) => el("li", `skipped ${p.entry} (${p.where}): ${p.message}`, "error")),
  );
}

function decisionPath() {
  const since = new Date(Date.now() - 86_400_000).toISOString();
  const params = new URLSearchParams({ since, limit: String(DECISIONS_SHOWN) });
  const action = $("decision-action").value;
  if (action) params.set("action", action);
  if (decisionsBefore !== null) params.set("before", decisionsBefore);
  return `/v1/decisions?${params}`;
}

/** Where a decision stands now. */
function decisionState(d) {
  if (d.action === "spare") return "spared";
  if (d.inForce) return d.expiresAt === null ? "in force, permanent" : `in force until ${when(d.expiresAt)}`;
  if (d.endedAt !== null) return `ended ${when(d.endedAt)} by ${d.endedBy}`;
  return "over";
}

function renderDecisions(list) {
  const n = list.decisions.length;
  const which = decisionsBefore === null ? "the newest shown" : "an older page";
  $("decision-count").textContent =
    decisionsBefore === null && !list.more ? `(${n})` : `(${n}${list.more ? "+" : ""}, ${which})`;
  decisionsNext = list.next;
  $("decisions-older").disabled = list.next === null;
  $("decisions-newest").disabled = decisionsBefore === null;
  $("decisions").tBodies[0].replaceChildren(
    ...list.decisions.map((d) => {
      const tr = row([when(d.at), d.action, d.target, d.origin, decisionState(d), d.reason]);
      tr.children[5].className = "reason";
      if (d.action === "spare") tr.className = "spare";
      return tr;
    }),
  );
}

function registrationPath() {
  const q = $("registration-filter").value.trim();
  const params = new URLSearchParams({ limit: String(REGISTRATIONS_SHOWN) });
  if (q) params.set("match", q.slice(0, 100));
  return `/v1/registrations?${params}`;
}

function renderRegistrations(list) {
  const n = list.registrations.length;
  $("registration-count").textContent =
    `(${n < list.total ? `${n} seen last of ${list.total}` : list.total})`;
  $("registrations").tBodies[0].replaceChildren(
    ...list.registrations.map((r) =>
      row([
        r.address,
        r.user,
        r.source,
        when(r.seenAt),
        when(r.expiresAt),
        r.contact || "",
        r.suspectUntil ? suspectCell(r.address, r.suspectUntil) : "yes",
      ]),
    ),
  );
  $("providers").replaceChildren(
    ...list.providers.map((p) =>
      el(
        "li",
        `provider ${p.id} ${p.up ? "up" : "DOWN"}: ${
          Object.entries(p.stats)
            .map(([k, v]) => `${k} ${v}`)
            .join(", ") || "no counters"
        }`,
      ),
    ),
  );
}

async function refresh() {
  try {
    const [status, list, allows, registrations, decisions] = await Promise.all([
      api("GET", "/v1/status"),
      api("GET", "/v1/bans"),
      api("GET", "/v1/allow"),
      api("GET", registrationPath()),
      api("GET", decisionPath()),
    ]);
    renderStatus(status);
    bans = list.bans;
    renderBans();
    renderAllows(allows);
    renderRegistrations(registrations);
    renderDecisions(decisions);
    $("error").textContent = "";
  } catch (e) {
    showError(e);
  }
}

async function unbanTarget(target) {
  if (!confirm(`Unban ${target}?`)) return;
  try {
    await api("DELETE", `/v1/bans/${encodeURIComponent(target)}`);
    await refresh();
  } catch (e) {
    showError(e);
  }
}

/** A suspect registration's address shields nothing until `until`; the admin who checked it may clear it. */
function suspectCell(address, until) {
  const cell = el("span", `no: suspect until ${when(until)} `);
  const clear = el("button", "Clear");
  clear.type = "button";
  clear.dataset.target = address;
  clear.addEventListener("click", () => clearSuspect(address));
  cell.append(clear);
  return cell;
}

async function clearSuspect(address) {
  if (
    !confirm(`Checked: ${address}'s registration is the customer's? Its address is shielded from bans again.`)
  )
    return;
  try {
    await api("DELETE", `/v1/registrations/suspects/${encodeURIComponent(address)}`);
    await refresh();
  } catch (e) {
    showError(e);
  }
}

async function unallowTarget(target) {
  if (!confirm(`Remove the allow entry on ${target}? Bans may follow again.`)) return;
  try {
    await api("DELETE", `/v1/allow/${encodeURIComponent(target)}`);
    $("allow-result").textContent = `${target} is no longer allowed by hand; bans may follow again`;
    await refresh();
  } catch (e) {
    showError(e);
  }
}

async function explain(ip) {
  const out = $("explain-result");
  try {
    const r = await api("GET", `/v1/explain/${encodeURIComponent(ip)}`);
    const where = whereText(r.located, true);
    const head = el(
      "p",
      `${r.address}: ${r.verdict}${where ? ` (${where})` : ""}`,
      r.verdict === "blocked" ? "blocked" : r.verdict === "allowed" ? "allowed" : "",
    );
    const list = el("ul");
    for (const b of r.because) {
      const li = el(
        "li",
        `${b.kind} ${b.origin}${b.target ? ` on ${b.target}` : ""}: ${b.detail}${b.expiresAt !== undefined ? ` (until ${when(b.expiresAt)})` : ""}`,
      );
      if (b.evidence && b.evidence.length > 0) {
        const lines = el("ul");
        for (const ev of b.evidence)
          lines.append(el("li", `${when(ev.time)} ${ev.source}: ${ev.line}`, "reason"));
        li.append(lines);
      }
      list.append(li);
    }
    out.replaceChildren(head, list);
  } catch (e) {
    out.replaceChildren(el("p", e instanceof Error ? e.message : String(e), "error"));
    if (e instanceof AuthError) signOut(e.message);
  }
}

function signOut(why) {
  token = "";
  sessionStorage.removeItem(TOKEN_KEY);
  if (timer !== null) clearInterval(timer);
  timer = null;
  $("app").hidden = true;
  $("signout").hidden = true;
  $("login").hidden = false;
  $("summary").textContent = "not signed in";
  $("login-error").textContent = why || "";
}

async function signIn() {
  try {
    await api("GET", "/v1/status");
  } catch (e) {
    return signOut(e instanceof AuthError ? "wrong token" : e.message);
  }
  sessionStorage.setItem(TOKEN_KEY, token);
  $("login").hidden = true;
  $("login-error").textContent = "";
  $("app").hidden = false;
  $("signout").hidden = false;
  await refresh();
  timer = setInterval(refresh, REFRESH_MS);
}

document.addEventListener("DOMContentLoaded", () => {
  $("login").addEventListener("submit", (ev) => {
    ev.preventDefault();
    token = $("token").value.trim();
    void signIn();
  });
  $("signout").addEventListener("click", () => signOut(""));
  $("filter").addEventListener("input", renderBans);
  $("explain").addEventListener("submit", (ev) => {
    ev.preventDefault();
    void explain($("explain-ip").value.trim());
  });
  $("ban").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const forValue = $("ban-for").value;
    const reason = $("ban-reason").value.trim();
    try {
      await api("POST", "/v1/bans", {
        target: $("ban-target").value.trim(),
        forMs: forValue === "permanent" ? null : Number(forValue),
        ...(reason ? { reason } : {}),
      });
      $("ban-target").value = "";
      $("ban-reason").value = "";
      await refresh();
    } catch (e) {
      showError(e);
    }
  });
  $("allow").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const forValue = $("allow-for").value;
    try {
      const r = await api("POST", "/v1/allow", {
        target: $("allow-target").value.trim(),
        forMs: forValue === "permanent" ? null : Number(forValue),
      });
      const lifted = r.unbanned.map((b) => b.target);
      $("allow-result").textContent =
        `${r.target} allowed until ${r.expiresAt === null ? "removed" : when(r.expiresAt)}` +
        (lifted.length > 0 ? `; lifted the bans on ${lifted.join(", ")}` : "");
      $("allow-target").value = "";
      await refresh();
    } catch (e) {
      showError(e);
    }
  });
  $("decision-action").addEventListener("change", () => {
    decisionsBefore = null;
    void refresh();
  });
  // Pages of decisions by the daemon's cursor: a page stays as it is while new decisions come in.
  $("decisions-older").addEventListener("click", () => {
    if (decisionsNext === null) return;
    decisionsBefore = decisionsNext;
    void refresh();
  });
  $("decisions-newest").addEventListener("click", () => {
    decisionsBefore = null;
    void refresh();
  });
  // The daemon filters (it holds every registration; the page shows the newest few); typing waits a moment.
  let typing = null;
  $("registration-filter").addEventListener("input", () => {
    clearTimeout(typing);
    typing = setTimeout(() => void refresh(), 300);
  });
  if (token) void signIn();
});
