// A one-line progress bar on stderr for long offline runs, redrawn at most five times a second.

export interface ProgressBar {
  update(done: number): void;
  done(): void;
}

export function createProgressBar(
  write: (text: string) => void,
  total: number,
  now = () => Date.now(),
): ProgressBar {
  let last = 0;
  const draw = (done: number): void => {
    const frac = total > 0 ? Math.min(1, done / total) : 1;
    const width = 30;
    const filled = Math.round(frac * width);
    write(`\r[${"#".repeat(filled)}${" ".repeat(width - filled)}] ${(frac * 100).toFixed(0).padStart(3)}%`);
  };
  return {
    update(done) {
      const t = now();
      if (t - last < 200) return;
      last = t;
      draw(done);
    },
    done() {
      draw(total);
      write("\n");
    },
  };
}
