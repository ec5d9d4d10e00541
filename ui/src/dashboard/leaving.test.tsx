import { cleanup, fireEvent, screen, waitFor, within } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { DepartureReport, RiskView, Watch } from "../bindings/server";
import { DepartureReportPage, Leaving, RiskPage } from "./leaving";
import { fakeServer, renderPage } from "./testing";

const watch = (over: Partial<Watch> = {}): Watch => ({
  id: 5,
  user_id: 4,
  email: "anna@acme.test",
  display_name: "Anna",
  last_day: "2026-12-18",
  reason: "resigned",
  lookback_days: 90,
  ends_on: "2027-01-17",
  state: "open",
  created_by: 1,
  created_at: 1_764_000_000_000,
  updated_at: 1_764_000_000_000,
  ended_at: null,
  ended_by: null,
  after_last_day_at: null,
  ...over,
});

const teamRoutes = {
  "GET /api/teams": { status: 200, body: [{ id: 1, org_id: 1, name: "Sales" }] },
  "GET /api/teams/1/members": {
    status: 200,
    body: [{ user_id: 4, display_name: "Anna", email: "anna@acme.test", is_lead: false }],
  },
};

beforeEach(() => {
  vi.spyOn(window, "confirm").mockReturnValue(true);
});
afterEach(() => {
  cleanup();
  vi.restoreAllMocks();
});

describe("people who are leaving", () => {
  it("marks a person of my teams as leaving with the day, reason and look-back", async () => {
    let watches: Watch[] = [];
    const { fetcher, seen } = fakeServer({
      ...teamRoutes,
      "GET /api/watches": () => ({ status: 200, body: watches }),
      "POST /api/people/4/watch": () => {
        watches = [watch()];
        return { status: 201, body: watches[0] };
      },
    });
    renderPage(<Leaving />, { fetcher });
    await screen.findByText("Nobody is marked as leaving.");
    const form = screen.getByTestId("mark-leaving");
    await within(form).findByRole("option", { name: "Anna" });
    fireEvent.change(within(form).getByLabelText("Person"), { target: { value: "4" } });
    fireEvent.change(within(form).getByLabelText("Last working day"), {
      target: { value: "2026-12-18" },
    });
    fireEvent.change(within(form).getByLabelText("Reason"), { target: { value: "resigned" } });
    fireEvent.click(within(form).getByRole("button", { name: "Mark as leaving" }));
    const row = await screen.findByTestId("watch");
    expect(row.textContent).toContain("2027-01-17");
    const post = seen.find((r) => r.method === "POST");
    expect(post?.body).toEqual({ last_day: "2026-12-18", reason: "resigned", lookback_days: 90 });
  });

  it("extends and ends a watch, and shows the server's refusal", async () => {
    const { fetcher, seen } = fakeServer({
      "GET /api/watches": { status: 200, body: [watch({ after_last_day_at: 1_766_000_000_000 })] },
      "PUT /api/watches/5": (body) => ({ status: 200, body: watch(body as Partial<Watch>) }),
      "POST /api/watches/5/end": {
        status: 409,
        body: { error: { code: "conflict", message: "the watch of anna@acme.test has ended" } },
      },
    });
    renderPage(<Leaving />, { fetcher });
    const row = await screen.findByTestId("watch");
    expect(row.querySelector(".severity.high"), "activity after the last day stands out").not.toBe(
      null,
    );
    fireEvent.click(within(row).getByRole("button", { name: "+30 days" }));
    await waitFor(() =>
      expect(seen.find((r) => r.method === "PUT")?.body).toEqual({ ends_on: "2027-02-16" }),
    );
    fireEvent.click(within(row).getByRole("button", { name: "End watch" }));
    expect((await screen.findByRole("alert")).textContent).toContain("has ended");
  });

  it("shows the report's chains and events", async () => {
    const report: DepartureReport = {
      watch: watch(),
      from: "2026-09-19",
      to: "2026-12-03",
      events: [
        {
          alert_id: 9,
          at: 1_764_700_000_000,
          received_at: 1_764_700_000_000,
          kind: "file_to_removable",
          severity: "high",
          file_name: "clients.zip",
          destination_class: "removable",
          size_bytes: 4096,
          count: 1,
          client_source: "Bitrix24",
          rows: 1240,
          lineage: ["CONTACT.csv", "clients.csv", "clients.zip"],
          destination: "KINGSTON",
          acknowledged: false,
        },
      ],
      truncated: false,
      chains: [
        {
          names: ["CONTACT.csv", "clients.csv", "clients.zip"],
          client_source: "Bitrix24",
          rows: 1240,
          alert_ids: [9],
          severity: "high",
          destinations: ["removable"],
        },
      ],
      kinds: [
        { kind: "file_to_removable", count: 1, files: 1, per_day: 0.01, baseline_per_day: 0 },
      ],
      baseline_days: 0,
    };
    const { fetcher } = fakeServer({ "GET /api/watches/5/report": { status: 200, body: report } });
    renderPage(<DepartureReportPage watch={5} />, { fetcher });
    const chains = await screen.findByTestId("departure-chains");
    expect(chains.textContent).toContain("Bitrix24 → CONTACT.csv → clients.csv → clients.zip");
    expect(chains.textContent).toContain("1,240 rows");
    const events = screen.getByTestId("departure-events");
    expect(events.textContent).toContain("KINGSTON");
    expect(screen.getByRole("link", { name: "Events CSV" }).getAttribute("href")).toBe(
      "/api/watches/5/report.csv",
    );
  });

  it("shows a person's unusual day with its explanation beside the usual", async () => {
    const risk: RiskView = {
      user_id: 4,
      from: "2026-11-03",
      to: "2026-12-03",
      kinds: [{ kind: "file_to_removable", today: 25, own_p95: 3, team_p95: 4, days: [2, 3, 25] }],
      unusual: [
        {
          id: 9,
          org_id: 1,
          user_id: 4,
          device_id: 1,
          at: 1_764_700_000_000,
          received_at: 1_764_700_000_000,
          kind: "unusual_day",
          severity: "high",
          event: { what: "25 files to removable media on 2026-12-03; usually at most 3 a day" },
          acknowledged_by: null,
          acknowledged_at: null,
          folded: false,
        },
      ],
      policy: {},
    };
    const { fetcher } = fakeServer({
      ...teamRoutes,
      "GET /api/people/4/risk": { status: 200, body: risk },
    });
    renderPage(<RiskPage person={4} />, { fetcher });
    const unusual = await screen.findByTestId("risk-unusual");
    expect(unusual.textContent).toContain("25 files to removable media on 2026-12-03");
    expect(screen.getByTestId("risk-kinds").textContent).toContain("file to removable");
    await screen.findByRole("heading", { name: "Exports beside the usual: Anna" });
  });
});
