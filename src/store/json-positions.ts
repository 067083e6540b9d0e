// Log positions kept as JSON text, so every store refuses non-JSON and hands back copies, as SQLite does.

import type { StoredPositions } from "./decision-store.js";

export function jsonPositions(
  read: (sourceId: string) => string | undefined,
  write: (sourceId: string, text: string) => void,
): StoredPositions {
  return {
    async load(sourceId) {
      const text = read(sourceId);
      return text === undefined ? undefined : (JSON.parse(text) as Record<string, unknown>);
    },
    async save(sourceId, position) {
      write(sourceId, JSON.stringify(position));
    },
  };
}
