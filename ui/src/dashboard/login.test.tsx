import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import { Api } from "./api";
import { Login } from "./login";
import { translate } from "./strings";

afterEach(cleanup);

function answer(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json" },
  });
}

describe("login page", () => {
  it("shows the server's message when the login is refused, in any language", async () => {
    const api = new Api(async () =>
      answer(429, {
        error: { code: "too_many_attempts", message: "too many failed logins; wait 15 minutes" },
      }),
    );
    render(
      <Login
        api={api}
        lang="ru"
        t={(k) => translate("ru", k)}
        onLang={() => {}}
        onLoggedIn={() => {
          throw new Error("must not log in");
        }}
      />,
    );
    fireEvent.change(screen.getByLabelText("Эл. почта"), { target: { value: "a@b.test" } });
    fireEvent.change(screen.getByLabelText("Пароль"), { target: { value: "x" } });
    fireEvent.click(screen.getByRole("button", { name: "Войти" }));
    const alert = await screen.findByRole("alert");
    expect(alert.textContent).toBe("too many failed logins; wait 15 minutes");
    expect(screen.getByRole("button", { name: "Войти" })).not.toHaveProperty("disabled", true);
  });

  it("logs in and hands over who is logged in", async () => {
    const calls: string[] = [];
    const api = new Api(async (url) => {
      calls.push(url);
      if (url === "/api/auth/login") return answer(200, { user: { id: 1 }, csrf_token: "c" });
      return answer(200, { user: { id: 1, display_name: "Lena" }, led_teams: [3] });
    });
    let who: unknown = null;
    render(
      <Login
        api={api}
        lang="en"
        t={(k) => translate("en", k)}
        onLang={() => {}}
        onLoggedIn={(me) => {
          who = me;
        }}
      />,
    );
    fireEvent.change(screen.getByLabelText("E-mail"), { target: { value: "lena@acme.test" } });
    fireEvent.change(screen.getByLabelText("Password"), { target: { value: "pw" } });
    fireEvent.click(screen.getByRole("button", { name: "Log in" }));
    await waitFor(() => expect(who).toMatchObject({ led_teams: [3] }));
    expect(calls).toEqual(["/api/auth/login", "/api/me"]);
  });
});
