// The session summary: repetitions, time, best range, what improved since last time, news.

const $ = (id) => document.getElementById(id);
const SHOWN = new Set([
  "level_up", "level_down", "level_hold", "unlock", "limb_level_up", "overall_level_up",
  "rest_prompt", "pain", "therapist_level",
]);

export function shownEvents(events) {
  return (events || []).filter((e) => SHOWN.has(e.kind) && e.message);
}

export function rangeWords(rom, result) {
  if (rom === null || rom === undefined) return null;
  if (result.unit === "deg") return `${Math.round(rom)}°`;
  return result.needed ? `${Math.round((rom / result.needed) * 100)}% of the goal` : null;
}

function minutes(ms) {
  const s = Math.max(0, Math.round(ms / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

// results: [{name, side, unit, needed, reps, best, sets, last, events}]
// demo: the reps were a simulated person's, counted but never stored (docs/live-protocol.md).
export function renderSummary(results, elapsedMs, demo = false) {
  const done = results.filter((r) => r.sets > 0);
  const reps = done.reduce((sum, r) => sum + r.reps, 0);
  $("sum-reps").textContent = String(reps);
  $("sum-reps-word").textContent = reps === 1 ? "repetition" : "repetitions";
  $("sum-time").textContent = minutes(elapsedMs);
  const withRange = done.filter((r) => r.best !== null && r.unit === "deg");
  const best = withRange.length ? Math.max(...withRange.map((r) => r.best)) : null;
  $("sum-best").textContent = best === null ? "–" : `${Math.round(best)}°`;
  $("sum-best").parentElement.hidden = best === null;
  $("sum-items").replaceChildren(...done.map(itemLine));
  const events = done.flatMap((r) => shownEvents(r.events));
  $("sum-events-h").hidden = events.length === 0;
  $("sum-events").replaceChildren(...events.map(eventLine));
  $("sum-saved").hidden = reps === 0;
  $("sum-saved").textContent = demo
    ? "This was a demo: nothing was saved to your record."
    : "Everything is saved.";
  if (reps === 0) $("summary-h").textContent = "See you next time";
  return { reps, events };
}

function itemLine(r) {
  const li = document.createElement("li");
  const name = document.createElement("strong");
  name.textContent = r.side !== "both" ? `${r.name} (${r.side})` : r.name;
  const parts = [`${r.reps} ${r.reps === 1 ? "repetition" : "repetitions"} in ${r.sets} ${r.sets === 1 ? "set" : "sets"}`];
  const range = rangeWords(r.best, r);
  if (range) parts.push(`best range ${range}`);
  const better = improvement(r);
  li.append(name, document.createTextNode(`: ${parts.join(", ")}.`));
  if (better) {
    const span = document.createElement("span");
    span.className = "better";
    span.textContent = ` ${better}`;
    li.append(span);
  }
  return li;
}

// What is better than last time (nothing is said when it is not: no discouraging words).
export function improvement(r) {
  const last = r.last;
  if (!last) return "First time: well done.";
  if (r.best !== null && last.best_rom !== null && last.rom_unit === (r.unit === "deg" ? "deg" : last.rom_unit)) {
    const gain = r.best - last.best_rom;
    if (r.unit === "deg" && gain >= 1) return `That is ${Math.round(gain)}° more than last time.`;
    if (r.unit !== "deg" && r.needed && gain / r.needed >= 0.01) {
      return `That is ${Math.round((gain / r.needed) * 100)}% further than last time.`;
    }
  }
  const perSet = r.reps / Math.max(1, r.sets);
  if (last.reps && perSet > last.reps) return `${Math.round(perSet - last.reps)} more per set than last time.`;
  return null;
}

function eventLine(e) {
  const li = document.createElement("li");
  li.className = `event-${e.kind}`;
  li.textContent = e.message;
  return li;
}
