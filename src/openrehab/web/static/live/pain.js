// Pain in a live session (docs/live-protocol.md "Pain during a live session"): the 0-10 question
// during a set ("It hurts") or before the session when there was pain last time, the answer's
// advice in plain words (care.safety: rule S1 stops the set, S5 the day), and a minute to undo
// a mis-tap. The page's main module decides what stopping means (hooks below).

import { detailText } from "../shared/detail.js";

const $ = (id) => document.getElementById(id);

function post(url, body) {
  return fetch(url, {
    method: "POST",
    credentials: "same-origin",
    headers: { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  }).then(async (response) => {
    const answer = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(detailText(answer) || `HTTP ${response.status}`);
    return answer;
  });
}

function items(list, texts) {
  list.replaceChildren(
    ...texts.map((text) => {
      const li = document.createElement("li");
      li.textContent = text;
      return li;
    }),
  );
}

export class Pain {
  // this.context: "setup" (before the session), "live" (a set open), "ended" (the set was
  // stopped for pain), "over" (the session ended). hooks: sessionId(); hold() pauses counting; resume() back to the set; stopSet(); stopToday();
  // judgedAgain(sets): an answer given again after an undo took back these sets' pain judgement;
  // hasNext() -> a next exercise in this session; goOn() rest, then the next exercise;
  // carryOn() what follows the set as usual; start() the set-up screen; show(name, focus).
  constructor({ pain, voice, hooks }) {
    this.words = pain;
    this.voice = voice;
    this.hooks = hooks;
    this.context = "live";
    this.report = null; // {id, nrs}
    this.undoTimer = null;
    this.busy = false;
    for (const button of document.querySelectorAll("#pain-scale .pain-n")) {
      button.addEventListener("click", () => this.answer(Number(button.dataset.nrs)));
    }
    $("pain-open").addEventListener("click", () => this.open());
    $("pain-back").addEventListener("click", () => this.back());
    $("pain-undo").addEventListener("click", () => this.undo());
    $("pain-resume").addEventListener("click", () => this.proceed());
    $("pain-next").addEventListener("click", () => this.hooks.goOn());
    $("pain-stop").addEventListener("click", () => this.stopToday());
  }

  // The question: during a set (pauses counting), or at the set-up (`setup`: before the start).
  open(setup = false) {
    this.context = setup ? "setup" : "live";
    if (this.context === "live") this.hooks.hold();
    this.ask();
  }

  ask() {
    this.clearUndo();
    $("pain-why").hidden = this.context !== "setup";
    $("pain-back").hidden = this.context !== "live";
    $("pain-ask-controls").hidden = this.context !== "live";
    $("pain-error").hidden = true;
    $("screen-pain").append($("pain-answer"));
    $("pain-answer").hidden = true;
    $("pain-ask").hidden = false;
    this.hooks.show("pain", $("pain-h"));
    this.voice.say(this.words.question, { interrupt: true });
  }

  back() {
    this.hooks.show("live");
  }

  async answer(nrs) {
    if (this.busy) return;
    this.busy = true;
    const sessionId = this.context === "setup" ? null : this.hooks.sessionId();
    const body = sessionId ? { nrs, session_id: sessionId } : { nrs };
    try {
      const result = await post(this.words.api, body);
      this.hooks.judgedAgain(result.sets_judged_again || []);
      this.report = { id: result.id, nrs };
      this.advise(result.advice);
      this.offerUndo(result);
    } catch (error) {
      $("pain-error").textContent = `That did not work (${error.message}). Please tap again.`;
      $("pain-error").hidden = false;
    } finally {
      this.busy = false;
    }
  }

  // Show and say what to do now, and act on it.
  advise(advice) {
    const setup = this.context === "setup";
    const moderateAtStart = setup && advice.stop_set && !advice.stop_today;
    $("pain-headline").textContent = moderateAtStart ? "Take it easy today." : advice.headline;
    $("pain-gentle").hidden = !moderateAtStart;
    items($("pain-steps"), moderateAtStart ? [] : advice.steps);
    $("pain-steps").hidden = moderateAtStart;
    items($("pain-urgent-list"), advice.urgent_signs);
    $("pain-urgent").hidden = advice.urgent_signs.length === 0;
    $("pain-ask").hidden = true;
    $("pain-answer").hidden = false;
    const offer = { resume: false, next: false, stop: false, today: false };
    if (setup) {
      offer.resume = !advice.stop_today;
      offer.stop = moderateAtStart;
      offer.today = advice.stop_today;
      $("pain-resume").textContent = moderateAtStart ? "Go on gently" : "Go on";
    } else if (this.context === "over") {
      offer.today = true;
    } else if (advice.stop_today) {
      offer.today = true;
    } else if (advice.stop_set) {
      offer.stop = true;
      offer.next = this.hooks.hasNext();
      if (this.context === "live") this.hooks.stopSet();
      this.context = "ended";
    } else {
      offer.resume = true;
      $("pain-resume").textContent = "Go on";
    }
    $("pain-resume").hidden = !offer.resume;
    $("pain-next").hidden = !offer.next;
    $("pain-stop").hidden = !offer.stop;
    $("pain-today").hidden = !offer.today;
    this.hooks.show("pain", $("pain-headline"));
    this.voice.say(moderateAtStart ? "Take it easy today." : advice.headline, { interrupt: true });
    if (!setup && advice.stop_today && this.context !== "over") this.stopToday();
  }

  // Stop for today: the session ends and its summary shows this advice on top.
  stopToday() {
    if (this.context === "setup") {
      window.location.assign($("pain-today").getAttribute("href"));
      return;
    }
    this.context = "over";
    $("pain-actions").hidden = true;
    this.hooks.stopToday();
  }

  // Called when the summary is shown.
  toSummary() {
    if (this.context !== "over" || $("pain-answer").hidden) return;
    $("sum-pain").append($("pain-answer"));
    $("sum-pain").hidden = false;
    $("summary-h").textContent = "Rest now";
  }

  proceed() {
    this.clearUndo();
    if (this.context === "setup") this.hooks.start();
    else if (this.context === "ended") this.hooks.carryOn();
    else this.hooks.resume();
  }

  offerUndo(result) {
    const button = $("pain-undo");
    const windowMs = Date.parse(result.undo_until) - Date.parse(result.reported_at);
    button.textContent = `Undo: I tapped ${this.report.nrs} by mistake`;
    button.hidden = false;
    window.clearTimeout(this.undoTimer);
    this.undoTimer = window.setTimeout(() => this.clearUndo(), Math.max(0, windowMs - 2000));
  }

  clearUndo() {
    window.clearTimeout(this.undoTimer);
    this.undoTimer = null;
    $("pain-undo").hidden = true;
    $("pain-undo-note").textContent = "";
  }

  async undo() {
    if (!this.report || this.busy) return;
    this.busy = true;
    try {
      await post(`${this.words.api}/${this.report.id}/undo`);
      this.report = null;
      $("pain-actions").hidden = false;
      $("sum-pain").hidden = true;
      this.ask();
    } catch (error) {
      this.clearUndo();
      $("pain-undo-note").textContent = `It could not be undone: ${error.message}`;
    } finally {
      this.busy = false;
    }
  }
}
