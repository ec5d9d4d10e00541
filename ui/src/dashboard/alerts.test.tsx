import { cleanup, fireEvent, screen, waitFor } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { AlertPage, AlertRow, FoldedAlerts } from "../bindings/server";
import { Alerts } from "./alerts";
import { ADMIN, fakeServer, renderPage } from "./testing";

afterEach(() => {
  cleanup();
  vi.restoreAllMocks();
});

const alert = (id: number, user: number, file: string, severity = "high"): AlertRow => ({
  id,
  org_id: 1,
  user_id: user,
  device_id: user * 10,
  at: 1_741_000_000_000 + id,
  received_at: 1_741_000_000_000 + id,
  kind: "file_to_removable",
  severity,
  event: { file_name: file, size_bytes: 2048, destination_class: "removable", count: 1 },
  acknowledged_by: null,
  acknowledged_at: null,
  folded: false,
});

const page = (alerts: AlertRow[], next: string | null = null, folded: FoldedAlerts[] = []) => ({
  status: 200,
  body: {
    alerts,
    next_before: next,
    folded,
    alerts_per_device_hour: 20,
  } satisfies AlertPage,
});

/** The people the inbox names: Anna (4) and Bert (5) in one team. */
const PEOPLE = {
  "GET /api/teams": { status: 200, body: [{ id: 1, org_id: 1, name: "Sales" }] },
  "GET /api/teams/1/members": {
    status: 200,
    body: [
      { user_id: 4, display_name: "Anna", email: "anna@acme.test" },
      { user_id: 5, display_name: "Bert", email: "bert@acme.test" },
    ],
  },
};

/** The file of each listed alert: the first of its details. */
const files = () =>
  screen
    .getAllByTestId("alert")
    .map((li) => li.querySelector(".alert-body > .muted")?.textContent?.split(" · ")[0]);

describe("alerts inbox", () => {
  it("lets an admin allow the stick an alert names, in one step", async () => {
    vi.spyOn(window, "prompt").mockReturnValue("IT backup disk");
    const stick: AlertRow = {
      ...alert(7, 4, "clients.csv"),
      kind: "removable_mounted",
      event: { details: { vendor: "Kingston", label: "BACKUP" } },
    };
    const { fetcher, seen } = fakeServer({
      ...PEOPLE,
      "GET /api/alerts?limit=50": page([stick, alert(6, 4, "notes.txt")]),
      "POST /api/admin/allowed-media": { status: 200, body: {} },
    });
    renderPage(<Alerts />, { fetcher, me: ADMIN });
    const buttons = await screen.findAllByRole("button", { name: "Allow this device" });
    expect(buttons.length, "on both: a stick plugged in and a copy to it").toBe(2);
    fireEvent.click(buttons[0] as HTMLElement);
    await screen.findByText(/The medium is allowed/);
    expect(seen.find((r) => r.method === "POST")?.body).toEqual({
      alert_id: 7,
      name: "IT backup disk",
    });
  });

  it("tells where a file came from and what it went through", async () => {
    const copy: AlertRow = {
      ...alert(5, 4, "clients.zip"),
      event: {
        file_name: "clients.zip",
        details: {
          client_source: "Bitrix24",
          rows: 1240,
          lineage: ["CONTACT.csv", "clients.csv", "clients.zip"],
        },
      },
    };
    const { fetcher } = fakeServer({ ...PEOPLE, "GET /api/alerts?limit=50": page([copy]) });
    renderPage(<Alerts />, { fetcher });
    const item = await screen.findByTestId("alert");
    expect(item.textContent).toContain("from Bitrix24");
    expect(item.textContent).toContain("CONTACT.csv → clients.csv → clients.zip");
    expect(item.textContent).toContain("1,240 rows");
  });

  it("offers allowing a stick to admins only", async () => {
    const { fetcher } = fakeServer({
      ...PEOPLE,
      "GET /api/alerts?limit=50": page([{ ...alert(7, 4, "x"), kind: "removable_mounted" }]),
    });
    renderPage(<Alerts />, {
      fetcher,
      me: { user: { ...ADMIN.user, role: "lead" }, led_teams: [1] },
    });
    await screen.findAllByTestId("alert");
    expect(screen.queryByRole("button", { name: "Allow this device" })).toBeNull();
  });

  it("shows older alerts a page at a time, where the last page ended", async () => {
    const { fetcher, seen } = fakeServer({
      ...PEOPLE,
      "GET /api/alerts?limit=50": page(
        [alert(9, 4, "newest.xlsx"), alert(8, 5, "next.xlsx")],
        "1741000000008_8",
      ),
      "GET /api/alerts?limit=50&before=1741000000008_8": page([alert(3, 4, "oldest.xlsx")]),
    });
    renderPage(<Alerts />, { fetcher });
    await screen.findByText(/newest\.xlsx/);
    expect(files()).toEqual(["newest.xlsx", "next.xlsx"]);
    fireEvent.click(screen.getByRole("button", { name: "Show older alerts" }));
    await screen.findByText(/oldest\.xlsx/);
    expect(files(), "the second page follows the first").toEqual([
      "newest.xlsx",
      "next.xlsx",
      "oldest.xlsx",
    ]);
    expect(
      screen.queryByRole("button", { name: "Show older alerts" }),
      "no button after the last page",
    ).toBeNull();
    expect(seen.filter((r) => r.path.startsWith("/api/alerts")).map((r) => r.path)).toEqual([
      "/api/alerts?limit=50",
      "/api/alerts?limit=50&before=1741000000008_8",
    ]);
  });

  it("filters by person and severity on the server", async () => {
    const { fetcher, seen } = fakeServer({
      ...PEOPLE,
      "GET /api/alerts?limit=50": page([alert(9, 4, "anna.xlsx"), alert(8, 5, "bert.xlsx", "low")]),
      "GET /api/alerts?user_id=5&limit=50": page([alert(8, 5, "bert.xlsx", "low")]),
      "GET /api/alerts?user_id=5&severity=high&limit=50": page([]),
    });
    renderPage(<Alerts />, { fetcher });
    await screen.findByText(/anna\.xlsx/);
    // The person list comes from the teams the viewer sees.
    await screen.findByRole("option", { name: "Bert" });
    fireEvent.change(screen.getByLabelText("Person"), { target: { value: "5" } });
    await waitFor(() => expect(files()).toEqual(["bert.xlsx"]));
    fireEvent.change(screen.getByLabelText("Severity"), { target: { value: "high" } });
    await screen.findByText("No open alerts");
    expect(seen.map((r) => r.path)).toContain("/api/alerts?user_id=5&severity=high&limit=50");
  });

  it("counts a busy PC's extra alerts on one line and lists them on request", async () => {
    const folded: FoldedAlerts = {
      device_id: 40,
      user_id: 4,
      count: 35,
      latest_received_at: 1_741_000_000_100,
    };
    const { fetcher } = fakeServer({
      ...PEOPLE,
      "GET /api/alerts?limit=50": page([alert(9, 5, "bert.xlsx")], null, [folded]),
      "GET /api/alerts?include_folded=true&user_id=4&limit=50": page([
        alert(50, 4, "flood50.xlsx"),
        alert(49, 4, "flood49.xlsx"),
      ]),
    });
    renderPage(<Alerts />, { fetcher });
    const line = await screen.findByTestId("folded");
    await waitFor(() => expect(line.textContent).toContain("35 more alerts from Anna's PC"));
    expect(files(), "the other person's alert is listed").toEqual(["bert.xlsx"]);
    fireEvent.click(screen.getByRole("button", { name: "Show them" }));
    await screen.findByText(/flood50\.xlsx/);
    expect(files()).toEqual(["flood50.xlsx", "flood49.xlsx"]);
    expect(screen.queryByTestId("folded")).toBeNull();
  });
});
