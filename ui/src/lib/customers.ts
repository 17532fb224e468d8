// Editing a customer: the form starts from what the seat can see, and only what the person
// changed is sent. A seat that sees contact details masked gets those fields empty, and an
// empty masked field means "leave it"; a revealed field emptied means "clear it".
import type { CustomerChanges, CustomerView } from "./bindings";

/** What the edit form holds: text fields as typed, the state as its select value. */
export type CustomerForm = {
  name: string;
  phone: string;
  gstin: string;
  email: string;
  address: string;
  state: string;
  consent: boolean;
};

/** The form as it opens for `c`: masked details are not put in front of the person to edit. */
export function formFor(c: CustomerView): CustomerForm {
  const shown = (v: string | null) => (c.pii_revealed ? (v ?? "") : "");
  return {
    name: c.name,
    phone: shown(c.phone),
    gstin: shown(c.gstin),
    email: shown(c.email),
    address: shown(c.address),
    state: c.state_code === null ? "" : String(c.state_code),
    consent: c.marketing_consent,
  };
}

/** The changes the form asks for against `c`; empty when nothing changed. */
export function changesFrom(c: CustomerView, form: CustomerForm): CustomerChanges {
  const start = formFor(c);
  const changes: CustomerChanges = {};
  if (form.name.trim() !== c.name) changes.name = form.name.trim();
  const text = ["phone", "gstin", "email", "address"] as const;
  for (const field of text) {
    const now = form[field].trim();
    if (now === start[field].trim()) continue;
    // A masked field left empty is left alone: the person never saw what is there.
    if (!c.pii_revealed && now === "") continue;
    changes[field] = field === "gstin" ? now.toUpperCase() : now;
  }
  if (form.state !== start.state && form.state !== "") changes.state_code = Number(form.state);
  if (form.consent !== c.marketing_consent) changes.marketing_consent = form.consent;
  return changes;
}

export function isEmpty(changes: CustomerChanges): boolean {
  return Object.keys(changes).length === 0;
}
