import { cleanup, fireEvent, screen, waitFor, within } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { FleetToken } from "../bindings/server";
import { FleetTokensAdmin, tokenState } from "./fleet_tokens";
import { fakeServer, renderPage } from "./testing";

beforeEach(() => {
  vi.spyOn(window, "confirm").mockReturnValue(true);
});
afterEach(() => {
  cleanup();
  vi.restoreAllMocks();
});

const token = (id: number, over: Partial<FleetToken>): FleetToken => ({
  id,
  label: `Token ${id}`,
  created_at: 0,
  expires_at: 2_000_000_000_000,
  max_uses: 10,
  uses: 0,
  revoked_at: null,
  ...over,
});

describe("fleet tokens", () => {
  it("tell what a token can still do", () => {
    const now = 1_000;
    expect(tokenState(token(1, {}), now)).toBe("valid");
    expect(tokenState(token(1, { revoked_at: 5, expires_at: 1 }), now)).toBe("revoked");
    expect(tokenState(token(1, { expires_at: 1_000 }), now)).toBe("expired");
    expect(tokenState(token(1, { uses: 10 }), now)).toBe("usedUp");
  });

  it("create one shown once, list their uses and revoke one", async () => {
    const { fetcher, seen } = fakeServer({
      "GET /api/admin/fleet-tokens": {
        status: 200,
        body: [
          token(1, { label: "Office PCs", uses: 3 }),
          token(2, { label: "Old", revoked_at: 5 }),
        ],
      },
      "POST /api/admin/fleet-tokens": {
        status: 201,
        body: { token: "fleet-0123456789abcdef", expires_at: 1_740_000_000_000 },
      },
      "POST /api/admin/fleet-tokens/1/revoke": { status: 204, body: null },
    });
    renderPage(<FleetTokensAdmin />, { fetcher });
    const office = (await screen.findByRole("cell", { name: "Office PCs" })).closest("tr");
    const old = screen.getByRole("cell", { name: "Old" }).closest("tr");
    if (!office || !old) throw new Error("a row per token");
    expect(within(office).getByText("3 of 10")).toBeTruthy();
    expect(within(office).getByText("Valid")).toBeTruthy();
    expect(within(old).getByText("Revoked")).toBeTruthy();
    expect(within(old).queryByRole("button"), "a revoked token has no button").toBeNull();

    fireEvent.change(screen.getByRole("textbox", { name: "What it is for" }), {
      target: { value: "Branch office" },
    });
    fireEvent.click(screen.getByRole("button", { name: "Create fleet token" }));
    expect((await screen.findByTestId("fleet-token")).textContent).toContain(
      "fleet-0123456789abcdef",
    );
    const sent = seen.find((r) => r.path === "/api/admin/fleet-tokens" && r.method === "POST");
    expect(sent?.body).toEqual({ label: "Branch office", valid_hours: 168, max_uses: 1000 });

    fireEvent.click(within(office).getByRole("button", { name: "Revoke" }));
    await waitFor(() =>
      expect(seen.some((r) => r.path === "/api/admin/fleet-tokens/1/revoke")).toBe(true),
    );
    expect(window.confirm).toHaveBeenCalledWith(expect.stringContaining("Office PCs"));
  });
});
