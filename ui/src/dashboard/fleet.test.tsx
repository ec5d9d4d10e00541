import { cleanup, screen, within } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import type { DeviceVersion, User } from "../bindings/server";
import { Admin } from "./admin";
import { byVersion } from "./fleet";
import { fakeServer, renderPage } from "./testing";

afterEach(cleanup);

const pc = (device_id: number, over: Partial<DeviceVersion>): DeviceVersion => ({
  device_id,
  user_id: 2,
  description: `PC ${device_id}`,
  version: null,
  platform: null,
  package: null,
  checked_at: null,
  target: null,
  problem: null,
  problem_at: null,
  ...over,
});

const boris: User = {
  id: 2,
  org_id: 1,
  email: "boris@acme.test",
  display_name: "Boris",
  role: "employee",
  deactivated_at: null,
};

describe("agent updates", () => {
  it("count PCs per version, most first, those that never checked apart", () => {
    const counts = byVersion([
      pc(1, { version: "0.1.0" }),
      pc(2, { version: "0.2.0" }),
      pc(3, { version: "0.2.0" }),
      pc(4, {}),
    ]);
    expect(counts).toEqual([
      ["0.2.0", 2],
      ["0.1.0", 1],
      [null, 1],
    ]);
  });

  it("show who is behind, why an update failed, and the releases", async () => {
    const { fetcher } = fakeServer({
      "GET /api/admin/fleet": {
        status: 200,
        body: {
          releases: [
            {
              id: 4,
              platform: "windows-x86_64",
              package: "msi",
              version: "0.3.0",
              channel: "stable",
              size: 13_200_000,
              added_at: 0,
            },
          ],
          devices: [
            pc(1, { version: "0.3.0", checked_at: 5 }),
            pc(2, {
              version: "0.2.0",
              checked_at: 5,
              target: "0.3.0",
              problem: "0.3.0: the file does not match its signature",
              problem_at: 6,
            }),
          ],
        },
      },
      "GET /api/admin/users": { status: 200, body: [boris] },
    });
    renderPage(<Admin section="updates" />, { fetcher });
    const current = (await screen.findByRole("cell", { name: "PC 1" })).closest("tr");
    const behind = screen.getByRole("cell", { name: "PC 2" }).closest("tr");
    if (!current || !behind) throw new Error("a row per PC");
    expect(within(current).getByText("up to date")).toBeTruthy();
    expect(within(behind).getByText("behind: 0.3.0 is due")).toBeTruthy();
    expect(
      within(behind).getByText("Last update failed: 0.3.0: the file does not match its signature"),
    ).toBeTruthy();
    const releases = screen.getByTestId("releases");
    expect(within(releases).getByText("windows-x86_64 (msi)")).toBeTruthy();
    expect(within(releases).getByText("stable")).toBeTruthy();
  });

  it("say how to add releases when there are none", async () => {
    const { fetcher } = fakeServer({
      "GET /api/admin/fleet": { status: 200, body: { releases: [], devices: [] } },
      "GET /api/admin/users": { status: 200, body: [] },
    });
    renderPage(<Admin section="updates" />, { fetcher });
    expect(await screen.findByText("No releases on this server")).toBeTruthy();
    expect(screen.getByText(/worktrace-server admin release add FILE/)).toBeTruthy();
  });
});
