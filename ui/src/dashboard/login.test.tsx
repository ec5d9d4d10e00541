import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import { Api } from "./api";
import { App } from "./app";
import { Login } from "./login";
import { fakeServer, renderPage } from "./testing";

afterEach(cleanup);

describe("login page", () => {
  it("shows the server's message when the login is refused, in any language", async () => {
    const { fetcher } = fakeServer({
      "POST /api/auth/login": {
        status: 429,
        body: {
          error: { code: "too_many_attempts", message: "too many failed logins; wait 15 minutes" },
        },
      },
    });
    renderPage(
      <Login
        api={new Api(fetcher)}
        onLoggedIn={() => {
          throw new Error("must not log in");
        }}
      />,
      { fetcher, lang: "ru" },
    );
    fireEvent.change(screen.getByLabelText("Эл. почта"), { target: { value: "a@b.test" } });
    fireEvent.change(screen.getByLabelText("Пароль"), { target: { value: "x" } });
    fireEvent.click(screen.getByRole("button", { name: "Войти" }));
    const alert = await screen.findByRole("alert");
    expect(alert.textContent).toBe("too many failed logins; wait 15 minutes");
    expect(alert.dataset.code).toBe("too_many_attempts");
    expect(screen.getByRole("button", { name: "Войти" })).not.toHaveProperty("disabled", true);
  });

  it("logs in and hands over who is logged in", async () => {
    const { fetcher, seen } = fakeServer({
      "POST /api/auth/login": { status: 200, body: { user: { id: 1 }, csrf_token: "c" } },
      "GET /api/me": {
        status: 200,
        body: { user: { id: 1, display_name: "Lena" }, led_teams: [3] },
      },
    });
    let who: unknown = null;
    renderPage(
      <Login
        api={new Api(fetcher)}
        onLoggedIn={(me) => {
          who = me;
        }}
      />,
      { fetcher },
    );
    fireEvent.change(screen.getByLabelText("E-mail"), { target: { value: "lena@acme.test" } });
    fireEvent.change(screen.getByLabelText("Password"), { target: { value: "pw" } });
    fireEvent.click(screen.getByRole("button", { name: "Log in" }));
    await waitFor(() => expect(who).toMatchObject({ led_teams: [3] }));
    expect(seen.map((r) => `${r.method} ${r.path}`)).toEqual([
      "POST /api/auth/login",
      "GET /api/me",
    ]);
    expect(seen[0]?.body).toEqual({ email: "lena@acme.test", password: "pw" });
  });
});

describe("the whole app", () => {
  it("opens on the login page when nobody is logged in", async () => {
    const { fetcher } = fakeServer({
      "GET /api/me": {
        status: 401,
        body: { error: { code: "not_logged_in", message: "log in first" } },
      },
    });
    render(<App fetcher={fetcher} />);
    expect(await screen.findByRole("heading", { name: "Team dashboard" })).toBeTruthy();
    expect(screen.getByRole("button", { name: "Log in" })).toBeTruthy();
  });
});
