// Pulls the host out of SIP URIs and `host:port` text as PBX APIs print them; validation is the registry's job.

/**
 * Host part of a SIP URI: `sip:alice@203.0.113.5:5060;transport=tcp`, `sip:203.0.113.5:5060`,
 * `"Alice" <sips:alice@[2001:db8::1]:5061>`, `sofia/internal/sip:1000@192.0.2.7:5060`. Returns the host text
 * (IPv6 without brackets) or null when there is no `sip:`/`sips:` URI. The result may still be a hostname;
 * callers pass it to `parseIp`, which refuses anything but an address.
 */
export function sipUriHost(text: string): string | null {
  const m = /\bsips?:/i.exec(text);
  if (!m) return null;
  let rest = text.slice(m.index + m[0].length);
  const end = rest.search(/[;?>\s,]/);
  if (end >= 0) rest = rest.slice(0, end);
  const at = rest.lastIndexOf("@");
  if (at >= 0) rest = rest.slice(at + 1);
  return hostOfHostPort(rest);
}

/** Host of `203.0.113.5:5060`, `[2001:db8::1]:5060`, `2001:db8::1` (bare IPv6, no port) or `host`. */
export function hostOfHostPort(text: string): string | null {
  const s = text.trim();
  if (s === "") return null;
  if (s.startsWith("[")) {
    const close = s.indexOf("]");
    return close > 1 ? s.slice(1, close) : null;
  }
  const colons = s.split(":").length - 1;
  // More than one colon without brackets can only be a bare IPv6 address.
  if (colons > 1) return s;
  return colons === 1 ? s.slice(0, s.indexOf(":")) : s;
}
