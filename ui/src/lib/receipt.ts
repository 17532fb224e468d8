// The receipt printer's paper, as the counter chose it: how many characters a printed line
// holds. Kept on this counter (a setting of its printer, not of the shop).

export const PAPER = {
  storageKey: "galla.receipt.columns",
  sizes: [
    { columns: 32, label: "58 mm (32 characters)" },
    { columns: 42, label: "80 mm (42 characters)" },
    { columns: 48, label: "80 mm, small font (48 characters)" },
  ],
  standard: 42,
} as const;

/** The width remembered, if it is one of the sizes; else 80 mm paper, the commonest. */
export function paperColumns(stored: string | null): number {
  const n = Number(stored);
  return PAPER.sizes.some((p) => p.columns === n) ? n : PAPER.standard;
}

export function rememberPaper(storage: Pick<Storage, "setItem">, columns: number): void {
  storage.setItem(PAPER.storageKey, String(columns));
}
