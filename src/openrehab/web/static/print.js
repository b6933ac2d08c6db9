// The "Print the sheet" button of the first-login sheet (inline handlers are blocked by CSP).
for (const button of document.querySelectorAll("[data-print]")) {
  button.addEventListener("click", () => window.print());
}
