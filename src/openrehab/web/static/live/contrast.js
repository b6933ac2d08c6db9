// Loaded (not as a module) before the page is drawn, so a patient who chose high contrast never
// sees the normal colours flash first. A separate file because the content security policy
// allows no inline scripts.
try {
  if (localStorage.getItem("openrehab.live.contrast") === "1") {
    document.documentElement.classList.add("high-contrast");
  }
} catch (e) {}
