// First-run form rules, checked as the owner types. The engine checks them again: this only
// saves a round trip and puts the message next to the field.
import type { EnrollTerminal, NewShop } from "./api";

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

// ---- Joining a shop that already has a cloud: the owner issued a one-time code.

export interface JoinForm {
  serverUrl: string;
  caPem: string;
  code: string;
  terminalName: string;
}

export type JoinErrors = Partial<Record<keyof JoinForm, string>>;

export const emptyJoinForm = (): JoinForm => ({ serverUrl: "", caPem: "", code: "", terminalName: "Counter 2" });

/** Crockford base32, as the cloud issues codes; O reads as 0 and I or L as 1, as the engine reads them. */
const CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

export function normaliseCode(code: string): string {
  return code
    .replace(/[\s-]/g, "")
    .toUpperCase()
    .replace(/O/g, "0")
    .replace(/[IL]/g, "1");
}

export function validateJoin(f: JoinForm): JoinErrors {
  const e: JoinErrors = {};
  const url = f.serverUrl.trim();
  if (!/^https:\/\/[^\s/]+\/?$/i.test(url)) e.serverUrl = "The cloud's address, like https://cloud.example.in (https only, no path).";
  if (!f.caPem.includes("-----BEGIN CERTIFICATE-----")) e.caPem = "Choose or paste the cloud's CA certificate (PEM) the owner gave you.";
  const code = normaliseCode(f.code);
  if (code.length !== 10 || [...code].some((c) => !CODE_ALPHABET.includes(c)))
    e.code = "Ten letters and digits, like 7K2M0-QX1RS, as the owner's screen shows it.";
  if (!f.terminalName.trim()) e.terminalName = "Name this counter, e.g. Counter 2.";
  return e;
}

export function toEnrollTerminal(f: JoinForm): EnrollTerminal {
  const code = normaliseCode(f.code);
  return {
    server_url: f.serverUrl.trim().replace(/\/$/, ""),
    ca_pem: f.caPem.trim(),
    code: `${code.slice(0, 5)}-${code.slice(5)}`,
    terminal_name: f.terminalName.trim(),
  };
}
