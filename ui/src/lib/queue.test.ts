import { describe, expect, it } from "vitest";
import { SerialQueue } from "./queue";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("the scan queue", () => {
  it("runs tasks in the order pushed, a slow one before a quick one", async () => {
    const q = new SerialQueue();
    const seen: string[] = [];
    const task = (name: string, ms: number) => async () => {
      seen.push(`start ${name}`);
      await sleep(ms);
      seen.push(`end ${name}`);
    };
    const all = [q.push(task("a", 30)), q.push(task("b", 1)), q.push(task("c", 10))];
    expect(q.pending).toBe(3);
    await Promise.all(all);
    expect(seen).toEqual(["start a", "end a", "start b", "end b", "start c", "end c"]);
    expect(q.pending).toBe(0);
  });

  it("goes on after a task that fails", async () => {
    const q = new SerialQueue();
    const seen: string[] = [];
    await Promise.all([
      q.push(async () => {
        throw new Error("not a barcode");
      }),
      q.push(async () => {
        seen.push("next scan");
      }),
    ]);
    expect(seen).toEqual(["next scan"]);
  });
});
