import { describe, expect, it } from "vitest";
import { emptyJoinForm, emptySetupForm, toEnrollTerminal, toNewShop, validateJoin, validateSetup } from "./setup";

const filled = () => ({
  ...emptySetupForm(),
  shopName: " Sharma Mobiles ",
  ownerName: "Ravi",
  passphrase: "correct horse",
  passphraseAgain: "correct horse",
});

describe("first-run form", () => {
  it("accepts a complete form and trims what it sends", () => {
    const f = { ...filled(), gstin: " 27aapfu0939f1zv ", seriesCode: "a1" };
    expect(validateSetup(f)).toEqual({});
    expect(toNewShop(f)).toMatchObject({ shop_name: "Sharma Mobiles", gstin: "27AAPFU0939F1ZV", series_code: "A1" });
  });

  it("names each missing or malformed field", () => {
    const e = validateSetup({ ...emptySetupForm(), gstin: "12345", seriesCode: "0A" });
    expect(Object.keys(e).sort()).toEqual(["gstin", "ownerName", "passphrase", "seriesCode", "shopName"]);
  });

  it("requires the passphrase twice, the same", () => {
    expect(validateSetup({ ...filled(), passphraseAgain: "correct horsE" }).passphraseAgain).toMatch(/differ/);
    expect(validateSetup({ ...filled(), passphrase: "short", passphraseAgain: "short" }).passphrase).toMatch(/8/);
  });

  it("sends no GSTIN when none is typed", () => {
    expect(toNewShop(filled()).gstin).toBeNull();
  });

  it("sends the picked state, and refuses one the GSTIN contradicts", () => {
    expect(toNewShop({ ...filled(), stateCode: "29" }).state_code).toBe(29);
    expect(toNewShop(filled()).state_code).toBeNull();
    const clash = { ...filled(), gstin: "27AAPFU0939F1ZV", stateCode: "29" };
    expect(validateSetup(clash).stateCode).toMatch(/state 27/);
    expect(validateSetup({ ...clash, stateCode: "27" })).toEqual({});
  });
});

describe("joining a shop's cloud", () => {
  const pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
  const join = () => ({ ...emptyJoinForm(), serverUrl: " https://cloud.example.in/ ", caPem: pem, code: "7k2mo qxirs" });

  it("reads a code however it was typed and sends it in the shown form", () => {
    expect(validateJoin(join())).toEqual({});
    expect(toEnrollTerminal(join())).toEqual({
      server_url: "https://cloud.example.in",
      ca_pem: pem.trim(),
      code: "7K2M0-QX1RS",
      terminal_name: "Counter 2",
    });
  });

  it("names each field that cannot be right", () => {
    const e = validateJoin({ serverUrl: "http://cloud.example.in", caPem: "", code: "7K2M0-QX1R", terminalName: " " });
    expect(Object.keys(e).sort()).toEqual(["caPem", "code", "serverUrl", "terminalName"]);
    expect(validateJoin({ ...join(), code: "7K2M0-QX1RU" }).code).toMatch(/Ten letters/);
    expect(validateJoin({ ...join(), serverUrl: "https://cloud.example.in/api" }).serverUrl).toMatch(/no path/);
  });
});
