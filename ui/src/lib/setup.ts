// First-run form rules, checked as the owner types. The engine checks them again: this only
// saves a round trip and puts the message next to the field.
import type { NewShop } from "./api";

export interface SetupForm {
  shopName: string;
  gstin: string;
  /** A GST state code as the picker gives it ("27"), or "" for none. */
  stateCode: string;
  ownerName: string;
  passphrase: string;
  passphraseAgain: string;
  terminalName: string;
  seriesCode: string;
}

export type FieldErrors = Partial<Record<keyof SetupForm, string>>;

export const emptySetupForm = (): SetupForm => ({
  shopName: "",
  gstin: "",
  stateCode: "",
  ownerName: "",
  passphrase: "",
  passphraseAgain: "",
  terminalName: "Counter 1",
  seriesCode: "T1",
});

const GSTIN_SHAPE = /^[0-9]{2}[A-Z]{5}[0-9]{4}[A-Z][1-9A-Z][Z1-9ABD-J][0-9A-Z]$/;

export function validateSetup(f: SetupForm): FieldErrors {
  const e: FieldErrors = {};
  if (!f.shopName.trim()) e.shopName = "Enter the shop's name as printed on bills.";
  const g = f.gstin.trim().toUpperCase();
  if (g && !GSTIN_SHAPE.test(g)) e.gstin = "A GSTIN has 15 characters, like 27AAPFU0939F1ZV.";
  else if (g && f.stateCode && Number(g.slice(0, 2)) !== Number(f.stateCode))
    e.stateCode = `This GSTIN is registered in state ${g.slice(0, 2)}; pick that state or leave it empty.`;
  if (!f.ownerName.trim()) e.ownerName = "Enter the owner's name.";
  if ([...f.passphrase].length < 8) e.passphrase = "Use at least 8 characters.";
  else if (f.passphrase !== f.passphraseAgain) e.passphraseAgain = "The two passphrases differ.";
  if (!f.terminalName.trim()) e.terminalName = "Name this counter, e.g. Counter 1.";
  if (!/^[A-Za-z][A-Za-z0-9]{0,3}$/.test(f.seriesCode.trim()))
    e.seriesCode = "1-4 letters or digits, starting with a letter (e.g. T1).";
  return e;
}

export function toNewShop(f: SetupForm): NewShop {
  const gstin = f.gstin.trim().toUpperCase();
  return {
    shop_name: f.shopName.trim(),
    gstin: gstin || null,
    state_code: f.stateCode === "" ? null : Number(f.stateCode),
    owner_name: f.ownerName.trim(),
    owner_passphrase: f.passphrase,
    terminal_name: f.terminalName.trim(),
    series_code: f.seriesCode.trim().toUpperCase(),
  };
}
