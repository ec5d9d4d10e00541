import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import "@shared/theme.css";

function App() {
  return <main>Worktrace dashboard</main>;
}

const root = document.getElementById("root");
if (root)
  createRoot(root).render(
    <StrictMode>
      <App />
    </StrictMode>,
  );
