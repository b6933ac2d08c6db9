// Spoken prompts with the browser's own voice (Web Speech API): nothing is downloaded.

const WORDS = [
  "Zero", "One", "Two", "Three", "Four", "Five", "Six", "Seven", "Eight", "Nine", "Ten",
  "Eleven", "Twelve", "Thirteen", "Fourteen", "Fifteen", "Sixteen", "Seventeen", "Eighteen",
  "Nineteen", "Twenty",
];

export function numberWord(n) {
  return WORDS[n] || String(n);
}

export class Voice {
  constructor() {
    this.available = "speechSynthesis" in window;
    this.enabled = true;
  }

  // Say `text` now. Counting cuts off what is still being said (a count must not lag).
  say(text, { interrupt = false } = {}) {
    if (!this.available || !this.enabled || !text) return;
    const synth = window.speechSynthesis;
    if (interrupt) synth.cancel();
    const utterance = new SpeechSynthesisUtterance(text);
    utterance.rate = 0.9; // a little slow: easier to follow with aphasia
    utterance.lang = document.documentElement.lang || "en";
    synth.speak(utterance);
  }

  setEnabled(on) {
    this.enabled = on;
    if (!on && this.available) window.speechSynthesis.cancel();
  }
}
