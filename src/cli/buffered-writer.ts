// Collects small writes into large ones: one write per line would dominate a million-line report.

export interface BufferedWriter {
  write(text: string): void;
  flush(): void;
}

export function createBufferedWriter(sink: (text: string) => void, limit = 1 << 16): BufferedWriter {
  // Appended to one string (V8 keeps it as a rope until it is written, then flattens it once).
  let pending = "";
  const flush = (): void => {
    if (pending.length === 0) return;
    sink(pending);
    pending = "";
  };
  return {
    write(text) {
      pending += text;
      if (pending.length >= limit) flush();
    },
    flush,
  };
}
