// Test helper: writes server output in tiny pieces with pauses, so clients really see messages split across reads.
import type { Socket } from "node:net";

/**
 * Returns a writer for `socket` that queues text and sends it `chunkSize` bytes at a time, each piece in its
 * own tick (Nagle off), preserving order. With no chunkSize the text goes out whole.
 */
export function createChunkedWriter(socket: Socket, chunkSize?: number): (text: string) => void {
  socket.setNoDelay(true);
  let queue: Promise<void> = Promise.resolve();
  return (text) => {
    if (!chunkSize) {
      queue = queue.then(() => {
        if (!socket.destroyed) socket.write(text);
      });
      return;
    }
    const bytes = Buffer.from(text);
    queue = queue.then(async () => {
      for (let i = 0; i < bytes.length; i += chunkSize) {
        if (socket.destroyed) return;
        socket.write(bytes.subarray(i, i + chunkSize));
        await new Promise((r) => setTimeout(r, 1));
      }
    });
  };
}
