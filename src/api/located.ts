// Where the configured .mmdb databases place an address, in words: `country DE, AS3320`.

import type { Located } from "./contract.js";

/** `DE AS3320`: a table cell's worth. */
export function locatedCell(l: Located): string {
  return [...(l.country ? [l.country] : []), ...(l.asn ? [`AS${l.asn}`] : [])].join(" ");
}

/** `country DE, AS3320`, `AS14061`, or "" when nothing is known. */
export function locatedText(l: Located): string {
  return [...(l.country ? [`country ${l.country}`] : []), ...(l.asn ? [`AS${l.asn}`] : [])].join(", ");
}
