import { cleanup, fireEvent, screen, waitFor, within } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { SessionInfo } from "../bindings/server";
import { Account } from "./account";
import { Api } from "./api";
import { ResetPassword, tokenFromHash } from "./reset";
import { fakeServer, renderPage } from "./testing";

const session = (id: string, agent: string, over: Partial<SessionInfo> = {}): SessionInfo => ({
  id,
  created_at: 1_741_000_000_000,
  last_seen_at: 1_741_000_600_000,
  expires_at: 1_741_043_200_000,
  address: "203.0.113.7",
  user_agent: agent,
  current: false,
  ...over,
});

beforeEach(() => {
  vi.spyOn(window, "confirm").mockReturnValue(true);
});
afterEach(() => {
  cleanup();
  vi.restoreAllMocks();
});

describe("my account", () => {
  it("lists where I am logged in and ends another session", async () => {
    let sessions = [session("aaa", "Firefox", { current: true }), session("bbb", "Phone")];
    const { fetcher, seen } = fakeServer({
      "GET /api/me/sessions": () => ({ status: 200, body: sessions }),
      "DELETE /api/me/sessions/bbb": () => {
        sessions = sessions.filter((s) => s.id !== "bbb");
        return { status: 204 };
      },
    });
    renderPage(<Account onLoggedOut={() => {}} />, { fetcher });
    const table = await screen.findByTestId("sessions");
    const rows = within(table).getAllByRole("row").slice(1);
    expect(rows.map((r) => r.textContent)).toEqual([
      expect.stringContaining("Firefox"),
      expect.stringContaining("Phone"),
    ]);
    expect(rows[0]?.textContent, "this browser is marked, not offered to end").toContain(
      "This browser",
    );
    expect(within(rows[0] as HTMLElement).queryByRole("button")).toBeNull();
    expect(rows[1]?.textContent).toContain("203.0.113.7");
    fireEvent.click(within(rows[1] as HTMLElement).getByRole("button", { name: "Log out there" }));
    await waitFor(() => expect(screen.queryByText("Phone")).toBeNull());
    expect(seen.map((r) => `${r.method} ${r.path}`)).toContain("DELETE /api/me/sessions/bbb");
  });

  it("logs out everywhere and hands over to the login page", async () => {
    const { fetcher, seen } = fakeServer({
      "GET /api/me/sessions": { status: 200, body: [session("aaa", "Firefox", { current: true })] },
      "POST /api/auth/logout-everywhere": { status: 204 },
    });
    let out = false;
    renderPage(
      <Account
        onLoggedOut={() => {
          out = true;
        }}
      />,
      { fetcher },
    );
    await screen.findByTestId("sessions");
    fireEvent.click(screen.getByRole("button", { name: "Log out everywhere" }));
    await waitFor(() => expect(out).toBe(true));
    const post = seen.find((r) => r.path === "/api/auth/logout-everywhere");
    expect(post?.method).toBe("POST");
  });

  it("changes the password, refusing two different new ones before asking the server", async () => {
    const { fetcher, seen } = fakeServer({
      "GET /api/me/sessions": { status: 200, body: [] },
      "POST /api/me/password": (body) =>
        (body as { current_password: string }).current_password === "right one!"
          ? { status: 204 }
          : {
              status: 403,
              body: { error: { code: "wrong_password", message: "the current password is wrong" } },
            },
    });
    renderPage(<Account onLoggedOut={() => {}} />, { fetcher });
    const fill = (current: string, next: string, again: string) => {
      fireEvent.change(screen.getByLabelText("Current password"), { target: { value: current } });
      fireEvent.change(screen.getByLabelText("New password"), { target: { value: next } });
      fireEvent.change(screen.getByLabelText("New password again"), { target: { value: again } });
      fireEvent.click(screen.getByRole("button", { name: "Change password" }));
    };
    fill("right one!", "a long new password", "a long new passwort");
    expect((await screen.findByRole("alert")).dataset.code).toBe("passwords_differ");
    expect(seen.some((r) => r.path === "/api/me/password")).toBe(false);

    fill("wrong", "a long new password", "a long new password");
    await waitFor(() =>
      expect(screen.getByRole("alert").textContent).toBe("the current password is wrong"),
    );
    fill("right one!", "a long new password", "a long new password");
    expect((await screen.findByRole("status")).textContent).toContain("Password changed");
    expect(seen.filter((r) => r.path === "/api/me/password").at(-1)?.body).toEqual({
      current_password: "right one!",
      new_password: "a long new password",
    });
  });
});

describe("reset link page", () => {
  it("reads the token from the fragment", () => {
    expect(tokenFromHash("#ab12")).toBe("ab12");
    expect(tokenFromHash("")).toBeNull();
    expect(tokenFromHash("#")).toBeNull();
  });

  it("sets the new password with the token, then goes to the login page", async () => {
    const { fetcher, seen } = fakeServer({ "POST /api/auth/password-reset": { status: 204 } });
    let done = false;
    renderPage(
      <ResetPassword
        api={new Api(fetcher)}
        token="ab12"
        onDone={() => {
          done = true;
        }}
      />,
      { fetcher },
    );
    fireEvent.change(screen.getByLabelText("New password"), { target: { value: "brand new pw!" } });
    fireEvent.change(screen.getByLabelText("New password again"), {
      target: { value: "brand new pw!" },
    });
    fireEvent.click(screen.getByRole("button", { name: "Set password" }));
    expect((await screen.findByRole("status")).textContent).toContain("Log in with it");
    expect(seen[0]?.body).toEqual({ token: "ab12", new_password: "brand new pw!" });
    fireEvent.click(screen.getByRole("button", { name: "To the login page" }));
    expect(done).toBe(true);
  });

  it("shows why a used or expired link is refused, in any language", async () => {
    const { fetcher } = fakeServer({
      "POST /api/auth/password-reset": {
        status: 400,
        body: { error: { code: "invalid_reset_token", message: "this reset link is unknown" } },
      },
    });
    renderPage(<ResetPassword api={new Api(fetcher)} token="ab12" onDone={() => {}} />, {
      fetcher,
      lang: "ru",
    });
    fireEvent.change(screen.getByLabelText("Новый пароль"), { target: { value: "brand new pw!" } });
    fireEvent.change(screen.getByLabelText("Новый пароль ещё раз"), {
      target: { value: "brand new pw!" },
    });
    fireEvent.click(screen.getByRole("button", { name: "Установить пароль" }));
    const alert = await screen.findByRole("alert");
    expect(alert.dataset.code).toBe("invalid_reset_token");
  });

  it("says so when the link holds no token, and asks the server nothing", () => {
    const { fetcher, seen } = fakeServer({});
    renderPage(<ResetPassword api={new Api(fetcher)} token={null} onDone={() => {}} />, {
      fetcher,
    });
    expect(screen.getByRole("alert").dataset.code).toBe("no_reset_token");
    expect(seen).toEqual([]);
  });
});
