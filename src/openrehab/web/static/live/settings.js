// Remembered switches (sound, voice, high contrast), kept in this browser only.

const PREFIX = "openrehab.live.";

export function load(name, fallback) {
  try {
    const value = window.localStorage.getItem(PREFIX + name);
    return value === null ? fallback : value === "1";
  } catch {
    return fallback; // storage blocked (private mode): use the default
  }
}

export function save(name, on) {
  try {
    window.localStorage.setItem(PREFIX + name, on ? "1" : "0");
  } catch {
    /* not remembered, still works for this page */
  }
}

// A toggle button with aria-pressed, remembered under `name`; calls onChange(on) now and later.
export function toggle(button, name, fallback, onChange) {
  let on = load(name, fallback);
  const apply = () => {
    button.setAttribute("aria-pressed", String(on));
    onChange(on);
  };
  button.addEventListener("click", () => {
    on = !on;
    save(name, on);
    apply();
  });
  apply();
  return () => on;
}

export function applyContrast(on) {
  document.documentElement.classList.toggle("high-contrast", on);
}
