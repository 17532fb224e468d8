// Which screens a seat sees, from the permissions the engine returned for its session. Cosmetic
// like every visibility rule on the page: the engine refuses what the seat may not do.
import type { Permission, SessionInfo } from "./api";
import { can } from "./session";

export type ScreenId = "till" | "invoices" | "customers" | "catalogue" | "seats" | "audit" | "day" | "settings";

export interface Screen {
  id: ScreenId;
  label: string;
  /** Alt + this digit opens the screen. */
  key: string;
}

const SCREENS: { screen: Screen; needs: Permission[] | "any" }[] = [
  { screen: { id: "till", label: "Till", key: "1" }, needs: "any" },
  { screen: { id: "invoices", label: "Invoices", key: "2" }, needs: "any" },
  { screen: { id: "customers", label: "Customers", key: "3" }, needs: ["view_customers"] },
  { screen: { id: "catalogue", label: "Catalogue", key: "4" }, needs: ["edit_catalogue"] },
  { screen: { id: "seats", label: "Seats & roles", key: "5" }, needs: ["manage_seats", "revoke_seats", "grant_support"] },
  { screen: { id: "audit", label: "Audit", key: "6" }, needs: ["view_audit"] },
  { screen: { id: "day", label: "Day close", key: "7" }, needs: ["reports"] },
  { screen: { id: "settings", label: "Settings", key: "8" }, needs: "any" },
];

/** The screens this session may open, in menu order. A seat that still has to set up its
 *  second factor, or works on a disabled terminal, sees only the till's notice. */
export function screensFor(session: Pick<SessionInfo, "permissions" | "restriction">): Screen[] {
  if (session.restriction !== null) return SCREENS.slice(0, 1).map((s) => s.screen);
  return SCREENS.filter(({ needs }) => needs === "any" || needs.some((p) => can(session, p))).map((s) => s.screen);
}

/** The screen Alt+`key` opens for this session, if any. */
export function screenForKey(screens: readonly Screen[], key: string): ScreenId | null {
  return screens.find((s) => s.key === key)?.id ?? null;
}
