import { describe, expect, it } from "vitest";
import type { Permission, SessionInfo } from "./api";
import { screenForKey, screensFor } from "./nav";

const seat = (permissions: Permission[], restriction: SessionInfo["restriction"] = null) => ({ permissions, restriction });

describe("screensFor", () => {
  it("shows counter staff the till, invoices, customers and settings, never seats, audit or day close", () => {
    const ids = screensFor(seat(["bill", "discount", "hold_resume", "view_customers"])).map((s) => s.id);
    expect(ids).toEqual(["till", "invoices", "customers", "settings"]);
  });

  it("shows the owner every screen", () => {
    const ids = screensFor(
      seat(["bill", "view_customers", "edit_catalogue", "manage_seats", "revoke_seats", "view_audit", "reports", "edit_settings"]),
    ).map((s) => s.id);
    expect(ids).toEqual(["till", "invoices", "customers", "catalogue", "seats", "audit", "day", "settings"]);
  });

  it("opens seats for any one of the seat permissions, audit only with view_audit", () => {
    expect(screensFor(seat(["revoke_seats"])).map((s) => s.id)).toContain("seats");
    expect(screensFor(seat(["grant_support"])).map((s) => s.id)).toContain("seats");
    expect(screensFor(seat(["export_audit"])).map((s) => s.id)).not.toContain("audit");
  });

  it("hides everything but the till while the seat is restricted", () => {
    const ids = screensFor(seat(["manage_seats", "view_audit"], "set_up_second_factor")).map((s) => s.id);
    expect(ids).toEqual(["till"]);
  });
});

it("shows a stock keeper the catalogue but no customers", () => {
  const ids = screensFor(seat(["edit_catalogue"])).map((s) => s.id);
  expect(ids).toEqual(["till", "invoices", "catalogue", "settings"]);
});

describe("screenForKey", () => {
  it("maps a digit to a visible screen only", () => {
    const staff = screensFor(seat(["bill"]));
    expect(screenForKey(staff, "1")).toBe("till");
    expect(screenForKey(staff, "6")).toBeNull();
    const owner = screensFor(seat(["view_audit"]));
    expect(screenForKey(owner, "6")).toBe("audit");
  });
});
