// Entry of the team-lead dashboard served by worktrace-server: mounts the app.

import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import "../shared/theme.css";
import "./dashboard.css";
import { App } from "./app";

const root = document.getElementById("root");
if (root)
  createRoot(root).render(
    <StrictMode>
      <App />
    </StrictMode>,
  );
