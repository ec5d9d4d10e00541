import { cleanup, fireEvent, screen, waitFor, within } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { AuditRow, Device, MeResponse, TeamWithMembers, User } from "../bindings/server";
import { Admin } from "./admin";
import { fakeServer, renderPage } from "./testing";

const person = (id: number, name: string, over: Partial<User> = {}): User => ({
  id,
  org_id: 1,
  email: `${name.toLowerCase()}@acme.test`,
  display_name: name,
  role: "employee",
  deactivated_at: null,
  ...over,
});

beforeEach(() => {
  vi.spyOn(window, "confirm").mockReturnValue(true);
});
afterEach(() => {
  cleanup();
  vi.restoreAllMocks();
});

describe("admin pages", () => {
  it("tell a lead they are not allowed, and ask the server nothing", () => {
    const { fetcher, seen } = fakeServer({});
    const lead: MeResponse = {
      user: person(2, "Lena", { role: "lead" }),
      led_teams: [3],
    };
    renderPage(<Admin section="users" />, { fetcher, me: lead });
    expect(screen.getByTestId("not-found").textContent).toContain("Not allowed");
    expect(seen).toEqual([]);
  });

  it("make a one-time reset link for a person and show it once", async () => {
    const { fetcher, seen } = fakeServer({
      "GET /api/admin/users": {
        status: 200,
        body: [person(1, "Ada", { role: "admin" }), person(4, "Emil")],
      },
      "POST /api/admin/users/4/password-reset": {
        status: 201,
        body: { token: "t0k", path: "/reset-password#t0k", expires_at: 1_741_086_400_000 },
      },
    });
    renderPage(<Admin section="users" />, { fetcher });
    const row = (await screen.findByRole("cell", { name: "emil@acme.test" })).closest("tr");
    fireEvent.click(within(row as HTMLElement).getByRole("button", { name: "Reset link" }));
    const shown = await screen.findByTestId("reset-link");
    expect(shown.textContent).toContain("Emil");
    expect(shown.textContent).toContain(`${window.location.origin}/reset-password#t0k`);
    expect(seen.find((r) => r.method === "POST")?.path).toBe("/api/admin/users/4/password-reset");
  });

  it("create a person and list them once the server has them", async () => {
    let users = [person(1, "Ada", { role: "admin" })];
    const { fetcher, seen } = fakeServer({
      "GET /api/admin/users": () => ({ status: 200, body: users }),
      "POST /api/admin/users": (body) => {
        const b = body as User;
        users = [...users, person(5, b.display_name, { email: b.email, role: b.role })];
        return { status: 201, body: users[1] };
      },
    });
    renderPage(<Admin section="users" />, { fetcher });
    await screen.findByRole("cell", { name: "ada@acme.test" });
    fireEvent.change(screen.getByLabelText("Name"), { target: { value: "Boris" } });
    fireEvent.change(screen.getByLabelText("E-mail"), { target: { value: "boris@acme.test" } });
    fireEvent.change(screen.getByLabelText("Role"), { target: { value: "lead" } });
    fireEvent.click(screen.getByRole("button", { name: "Create" }));
    const row = (await screen.findByRole("cell", { name: "boris@acme.test" })).closest("tr");
    expect(row?.textContent).toContain("Team lead");
    const post = seen.find((r) => r.method === "POST");
    expect(post?.body, "no password field when none was typed").toEqual({
      email: "boris@acme.test",
      display_name: "Boris",
      role: "lead",
    });
    expect(screen.getByText("Saved")).toBeTruthy();
  });

  it("show the server's message and code when a change is refused", async () => {
    const { fetcher } = fakeServer({
      "GET /api/admin/users": { status: 200, body: [person(1, "Ada", { role: "admin" })] },
      "POST /api/admin/users": {
        status: 409,
        body: { error: { code: "conflict", message: "a person with e-mail ada@acme.test exists" } },
      },
    });
    renderPage(<Admin section="users" />, { fetcher });
    fireEvent.change(await screen.findByLabelText("Name"), { target: { value: "Ada" } });
    fireEvent.change(screen.getByLabelText("E-mail"), { target: { value: "ada@acme.test" } });
    fireEvent.click(screen.getByRole("button", { name: "Create" }));
    const alert = await screen.findByRole("alert");
    expect(alert.textContent).toBe("a person with e-mail ada@acme.test exists");
    expect(alert.dataset.code).toBe("conflict");
    expect(screen.queryByText("Saved")).toBeNull();
  });

  it("deactivate someone else (never the admin themself) after asking", async () => {
    let users = [person(1, "Ada", { role: "admin" }), person(2, "Boris")];
    const { fetcher, seen } = fakeServer({
      "GET /api/admin/users": () => ({ status: 200, body: users }),
      "POST /api/admin/users/2/deactivate": () => {
        users = [users[0] as User, person(2, "Boris", { deactivated_at: 1 })];
        return { status: 200, body: users[1] };
      },
    });
    renderPage(<Admin section="users" />, { fetcher });
    const buttons = await screen.findAllByRole("button", { name: "Deactivate" });
    expect(buttons, "only Boris can be deactivated").toHaveLength(1);
    fireEvent.click(buttons[0] as HTMLElement);
    await screen.findByText("Deactivated");
    expect(window.confirm).toHaveBeenCalledWith(expect.stringContaining("Boris"));
    expect(seen.some((r) => r.path === "/api/admin/users/2/deactivate")).toBe(true);
    expect(screen.queryByRole("button", { name: "Deactivate" })).toBeNull();
  });

  it("revoke only devices still enrolled, and warn about a broken record chain", async () => {
    const device = (id: number, over: Partial<Device>): Device => ({
      id,
      org_id: 1,
      user_id: 2,
      description: `PC ${id}`,
      created_at: 0,
      revoked_at: null,
      last_seen_at: null,
      chain_flag: null,
      ...over,
    });
    const { fetcher } = fakeServer({
      "GET /api/admin/devices": {
        status: 200,
        body: [
          device(1, { revoked_at: 5 }),
          device(2, {
            chain_flag: "alert_missing",
            chain_detail: "the alert of export record 8 never arrived",
            policy_flag_at: 7,
          }),
        ],
      },
      "GET /api/admin/users": { status: 200, body: [person(2, "Boris")] },
    });
    renderPage(<Admin section="devices" />, { fetcher });
    const revoked = (await screen.findByRole("cell", { name: "PC 1" })).closest("tr");
    const flagged = screen.getByRole("cell", { name: "PC 2" }).closest("tr");
    if (!revoked || !flagged) throw new Error("a row per device");
    expect(within(revoked).getByText("Revoked")).toBeTruthy();
    expect(within(revoked).queryByRole("button")).toBeNull();
    expect(within(flagged).getByText("Record chain: alert_missing")).toBeTruthy();
    expect(within(flagged).getByText("the alert of export record 8 never arrived")).toBeTruthy();
    expect(within(flagged).getByText("Policy differs")).toBeTruthy();
    expect(within(flagged).getByText("Boris")).toBeTruthy();
    expect(within(flagged).getByText("never")).toBeTruthy();
  });

  it("show a new enrollment token once, for the chosen active person", async () => {
    const { fetcher, seen } = fakeServer({
      "GET /api/admin/users": {
        status: 200,
        body: [person(2, "Boris"), person(3, "Gone", { deactivated_at: 9 })],
      },
      "POST /api/admin/enrollment-tokens": {
        status: 201,
        body: { token: "tok-0123456789abcdefghij", expires_at: 1_740_000_000_000 },
      },
    });
    renderPage(<Admin section="tokens" />, { fetcher });
    const who = await screen.findByRole("combobox", { name: "Person" });
    expect(within(who).queryByText(/Gone/), "deactivated people get no token").toBeNull();
    fireEvent.change(who, { target: { value: "2" } });
    fireEvent.click(screen.getByRole("button", { name: "Create token" }));
    const token = await screen.findByTestId("token");
    expect(token.querySelector("code")?.textContent).toBe("tok-0123456789abcdefghij");
    expect(seen.at(-1)?.body).toEqual({ user_id: 2, valid_hours: 72 });
  });

  it("check the policy's JSON before sending, and show the server's verdict", async () => {
    const teams: TeamWithMembers[] = [
      { id: 4, name: "Support", members: [], policy_override: { allow_pause: false } },
    ];
    const { fetcher, seen } = fakeServer({
      "GET /api/admin/policy": { status: 200, body: { idle_threshold_secs: 300 } },
      "GET /api/admin/memberships": { status: 200, body: teams },
      "PUT /api/admin/teams/4/policy": {
        status: 422,
        body: { error: { code: "invalid", message: "the policy is invalid: allow_pause" } },
      },
    });
    renderPage(<Admin section="policy" />, { fetcher });
    const editor = (await screen.findByRole("textbox", { name: "Policy" })) as HTMLTextAreaElement;
    await waitFor(() => expect(JSON.parse(editor.value)).toEqual({ idle_threshold_secs: 300 }));
    fireEvent.change(editor, { target: { value: "[1]" } });
    fireEvent.click(screen.getByRole("button", { name: "Save" }));
    expect((await screen.findByRole("alert")).textContent).toContain("must be a JSON object");
    expect(
      seen.filter((r) => r.method === "PUT"),
      "nothing sent",
    ).toEqual([]);

    fireEvent.change(screen.getByRole("combobox", { name: "Which policy" }), {
      target: { value: "4" },
    });
    await waitFor(() => expect(JSON.parse(editor.value)).toEqual({ allow_pause: false }));
    fireEvent.change(editor, { target: { value: '{"allow_pause": "no"}' } });
    fireEvent.click(screen.getByRole("button", { name: "Save" }));
    await waitFor(() =>
      expect(screen.getByRole("alert").textContent).toBe("the policy is invalid: allow_pause"),
    );
    expect(seen.find((r) => r.method === "PUT")?.body).toEqual({ allow_pause: "no" });
  });

  it("list the audit log newest first", async () => {
    const row = (id: number, action: string) => ({
      id,
      at: 1_740_000_000_000 + id * 60_000,
      actor_user_id: 1,
      actor_email: "ada@acme.test",
      actor: "ada@acme.test",
      subject_user_id: null,
      subject_email: null,
      action,
      detail: "",
    });
    const { fetcher, seen } = fakeServer({
      "GET /api/admin/audit?limit=100000": {
        status: 200,
        body: [row(1, "create_user"), row(2, "export_report")],
      },
    });
    renderPage(<Admin section="audit" />, { fetcher });
    await screen.findByText("export_report");
    const actions = screen.getAllByRole("code").map((c) => c.textContent);
    expect(actions).toEqual(["export_report", "create_user"]);
    expect(seen).toHaveLength(1);
    expect(screen.queryByTestId("audit-diff"), "reads have no change to show").toBeNull();
  });

  it("show an admin change's changed keys and the thing before and after", async () => {
    const change: AuditRow = {
      id: 7,
      at: 1_740_000_000_000,
      actor_user_id: null,
      actor_email: null,
      actor: "server CLI",
      subject_user_id: null,
      subject_email: null,
      action: "set_org_policy",
      detail: "changed the organisation's policy: upload.paths",
      target_kind: "org_policy",
      target_id: 1,
      target_name: "organisation's policy",
      before: {},
      after: { upload: { paths: true } },
      diff: { "upload.paths": [false, true], idle_threshold_secs: [180, 120] },
    };
    const { fetcher } = fakeServer({
      "GET /api/admin/audit?limit=100000": { status: 200, body: [change] },
    });
    renderPage(<Admin section="audit" />, { fetcher });
    const diff = await screen.findByTestId("audit-diff");
    const lines = within(diff)
      .getAllByRole("listitem")
      .map((li) => li.textContent);
    expect(lines, "each changed key with its old and new value, in key order").toEqual([
      "idle_threshold_secs: 180 → 120",
      "upload.paths: false → true",
    ]);
    const row = diff.closest("tr") as HTMLElement;
    expect(row.textContent).toContain("server CLI");
    expect(row.textContent).toContain("organisation's policy");
    expect(JSON.parse(screen.getByTestId("audit-before").textContent ?? "")).toEqual({});
    expect(JSON.parse(screen.getByTestId("audit-after").textContent ?? "")).toEqual({
      upload: { paths: true },
    });
  });

  it("read the audit log again after an admin change", async () => {
    let revoked: number | null = null;
    const device: Device = {
      id: 9,
      org_id: 1,
      user_id: 4,
      description: "emil-pc",
      created_at: 1,
      revoked_at: null,
      last_seen_at: null,
      chain_seq: null,
      chain_hash: null,
      chain_flag: null,
      chain_flag_at: null,
    };
    const { fetcher, seen } = fakeServer({
      "GET /api/admin/devices": () => ({
        status: 200,
        body: [{ ...device, revoked_at: revoked }],
      }),
      "GET /api/admin/users": { status: 200, body: [person(4, "Emil")] },
      "POST /api/admin/devices/9/revoke": () => {
        revoked = 2;
        return { status: 204, body: null };
      },
      "GET /api/admin/audit?limit=100000": () => ({
        status: 200,
        body:
          revoked === null
            ? []
            : [
                {
                  id: 1,
                  at: 2,
                  actor_user_id: 1,
                  actor_email: "ada@acme.test",
                  actor: "ada@acme.test",
                  action: "revoke_device",
                  detail: "revoked device 9",
                  target_kind: "device",
                  target_name: "emil-pc",
                  before: { revoked_at: null },
                  after: { revoked_at: 2 },
                  diff: { revoked_at: [null, 2] },
                } satisfies AuditRow,
              ],
      }),
    });
    renderPage(
      <>
        <Admin section="devices" />
        <Admin section="audit" />
      </>,
      { fetcher },
    );
    await screen.findByText("Nothing in the audit log yet");
    fireEvent.click(await screen.findByRole("button", { name: "Revoke" }));
    const diff = await screen.findByTestId("audit-diff");
    expect(diff.textContent, "the revocation shows without reloading the page").toContain(
      "revoked_at: — → 2",
    );
    expect(seen.filter((r) => r.path === "/api/admin/audit?limit=100000")).toHaveLength(2);
  });
});
