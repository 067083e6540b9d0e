// Collects small writes into large ones: one write per line would dominate a million-line report.

export interface BufferedWriter {
  write(text: string): void;
  flush(): void;
}

export function createBufferedWriter(sink: (text: string) => void, limit = 1 << 16): BufferedWriter {
  let parts: string[] = [];
  let size = 0;
  const flush = (): void => {
    if (parts.length === 0) return;
    sink(parts.join(""));
    parts = [];
    size = 0;
  };
  return {
    write(text) {
      parts.push(text);
      size += text.length;
      if (size >= limit) flush();
    },
    flush,
  };
}
