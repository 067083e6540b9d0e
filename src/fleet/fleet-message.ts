// What nodes of a fleet tell each other through the Redis stream: a ban one of them decided (its jail or
// its admin), an admin's unban, an admin's allow entry and its removal. Each entry is a flat list of fields; what comes in is checked as
// hostile input (anyone who can write to the stream writes these), before it gets near the kernel.

import { FLEET_NODE } from "../config/daemon-schema.js";
import { parseCidr, WIDEST_BAN_PREFIX } from "../domain/address.js";

export type FleetMessage =
  | {
      readonly op: "ban";
      readonly node: string;
      /** Canonical IP or CIDR. */
      readonly target: string;
      /** When the ban was decided, and when it ends (null: permanent), in ms on the node's clock. */
      readonly at: number;
      readonly expiresAt: number | null;
      /** One line: the node's reason, without control characters. */
      readonly reason: string;
    }
  | { readonly op: "unban"; readonly node: string; readonly target: string; readonly at: number }
  | {
      readonly op: "allow";
      readonly node: string;
      readonly target: string;
      /** When the admin allowed it, and when the entry ends (null: until removed). */
      readonly at: number;
      readonly expiresAt: number | null;
    }
  | { readonly op: "unallow"; readonly node: string; readonly target: string; readonly at: number };

const OPS = new Set(["ban", "unban", "allow", "unallow"]);

const VERSION = "1";
/** Longest reason kept from another node. */
export const MAX_FLEET_REASON = 300;
/** Fields an entry may hold (ours hold 7 pairs): more is not one of ours. */
const MAX_FIELDS = 32;

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** A reason as one printable line of at most MAX_FLEET_REASON characters. */
export function fleetReason(reason: string): string {
  const line = reason.replace(CONTROL, " ");
  return line.length > MAX_FLEET_REASON ? `${line.slice(0, MAX_FLEET_REASON - 1)}…` : line;
}

/** The stream entry's fields, in order, for XADD. */
export function encodeFleetMessage(m: FleetMessage): string[] {
  const head = ["v", VERSION, "node", m.node, "op", m.op, "target", m.target, "at", String(m.at)];
  if (m.op === "unban" || m.op === "unallow") return head;
  const expires = ["expires", m.expiresAt === null ? "" : String(m.expiresAt)];
  if (m.op === "allow") return [...head, ...expires];
  return [...head, ...expires, "reason", fleetReason(m.reason)];
}

const TIME = /^\d{1,15}$/;

/** An entry's fields as read back (XRANGE/XREAD), checked: the message, or why it is refused. */
export function decodeFleetMessage(fields: unknown): FleetMessage | { readonly refused: string } {
  if (!Array.isArray(fields) || fields.length % 2 !== 0 || fields.length > MAX_FIELDS)
    return { refused: "not a list of field-value pairs" };
  const f = new Map<string, string>();
  for (let i = 0; i < fields.length; i += 2) {
    const [k, v] = [fields[i] as unknown, fields[i + 1] as unknown];
    if (typeof k !== "string" || typeof v !== "string") return { refused: "a field that is not text" };
    if (f.has(k)) return { refused: `field ${k} given twice` };
    f.set(k, v);
  }
  if (f.get("v") !== VERSION) return { refused: `unknown version ${JSON.stringify(f.get("v") ?? null)}` };
  const node = f.get("node") ?? "";
  if (!FLEET_NODE.test(node)) return { refused: "no valid node name" };
  const op = f.get("op") ?? "";
  if (!OPS.has(op)) return { refused: `unknown op ${JSON.stringify(f.get("op") ?? null)}` };
  const text = f.get("target") ?? "";
  const cidr = parseCidr(text, false);
  if (cidr === null) return { refused: `not an IP address or network: ${JSON.stringify(text.slice(0, 60))}` };
  if (cidr.prefix < WIDEST_BAN_PREFIX[cidr.family])
    return { refused: `${cidr.text} is wider than /${WIDEST_BAN_PREFIX[cidr.family]}` };
  const atText = f.get("at") ?? "";
  if (!TIME.test(atText)) return { refused: "no valid time" };
  const at = Number(atText);
  if (op === "unban" || op === "unallow") return { op, node, target: cidr.text, at };
  const expires = f.get("expires");
  if (expires === undefined || (expires !== "" && !TIME.test(expires))) return { refused: "no valid end" };
  const expiresAt = expires === "" ? null : Number(expires);
  if (expiresAt !== null && expiresAt <= at) return { refused: "it ends before it starts" };
  if (op === "allow") return { op, node, target: cidr.text, at, expiresAt };
  const reason = f.get("reason");
  if (reason === undefined) return { refused: "no reason" };
  return { op: "ban", node, target: cidr.text, at, expiresAt, reason: fleetReason(reason) };
}
