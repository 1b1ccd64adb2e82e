/**
 * Keyboard for the disclosure panels (Settings, Event log, MCP tools, a traceback, a log row):
 * Escape closes the innermost open `<details>` holding the focus and gives the focus back to its
 * `<summary>`, the control that opened it (WAI-ARIA's disclosure pattern; issue 15 point 10).
 * Without it, Escape in JupyterLab leaves the panel open and a keyboard user lost inside it.
 */
import { listen } from "./dom";

export function escapeClosesPanels(root: HTMLElement, disposers: (() => void)[]): void {
  listen(root, "keydown", (e: KeyboardEvent) => {
    if (e.key !== "Escape" || e.defaultPrevented) return;
    const from = e.target instanceof Element ? e.target : null;
    const panel = from?.closest("details[open]");
    if (!(panel instanceof HTMLDetailsElement) || !root.contains(panel)) return;
    const summary = panel.querySelector(":scope > summary");
    panel.open = false;
    if (summary instanceof HTMLElement) summary.focus();
    // Handled: JupyterLab must not also take this Escape (it would leave the cell's edit mode).
    e.preventDefault();
    e.stopPropagation();
  }, disposers);
}
