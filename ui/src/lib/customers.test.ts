import { describe, expect, it } from "vitest";
import type { CustomerView } from "./bindings";
import { changesFrom, formFor, isEmpty } from "./customers";

const revealed: CustomerView = {
  id: "c1",
  name: "Ravi Sharma",
  phone: "+919876543210",
  gstin: null,
  email: "ravi@example.in",
  address: "12 MG Road",
  state_code: 27,
  marketing_consent: false,
  pii_revealed: true,
};
const masked: CustomerView = { ...revealed, phone: "••••••3210", email: "r•••@example.in", address: "•••", pii_revealed: false };

describe("editing a customer", () => {
  it("sends nothing when nothing changed", () => {
    expect(isEmpty(changesFrom(revealed, formFor(revealed)))).toBe(true);
    expect(isEmpty(changesFrom(masked, formFor(masked)))).toBe(true);
  });

  it("sends only the fields changed, trimmed, the GSTIN upper-cased", () => {
    const form = { ...formFor(revealed), name: " Ravi Kumar ", gstin: "27aapfu0939f1zv", consent: true };
    expect(changesFrom(revealed, form)).toEqual({ name: "Ravi Kumar", gstin: "27AAPFU0939F1ZV", marketing_consent: true });
  });

  it("clears a revealed field emptied, but leaves a masked field left empty", () => {
    expect(changesFrom(revealed, { ...formFor(revealed), address: "" })).toEqual({ address: "" });
    expect(changesFrom(masked, { ...formFor(masked), address: "" })).toEqual({});
  });

  it("never shows masked details in the form, and takes a masked field typed in full", () => {
    const form = formFor(masked);
    expect([form.phone, form.email, form.address]).toEqual(["", "", ""]);
    expect(changesFrom(masked, { ...form, phone: "98765 00000" })).toEqual({ phone: "98765 00000" });
  });

  it("changes the state only to a state", () => {
    expect(changesFrom(revealed, { ...formFor(revealed), state: "29" })).toEqual({ state_code: 29 });
    expect(changesFrom(revealed, { ...formFor(revealed), state: "" })).toEqual({});
  });
});
