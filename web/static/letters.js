// The learner's side of the page: the letter chart (every letter the model knows, drawn from a typical hand),
// practice (a word at a time, each letter marked as it is committed, a hint naming what to change after a miss,
// and scores per word and per letter kept in this browser) and calibration (a letter shown, a countdown, shots
// taken by the server from this page's frames, a personal model made from them). Follows the live answers
// app.js dispatches.
"use strict";

const FINGER_COLOURS = ["#ff5a5a", "#ff9f40", "#ffdc00", "#50dc50", "#4aa8ff"];  // thumb to little finger
const STATS = "asl-practice";  // localStorage key of the scores

let chart = null;  // /api/letters: letters, handshapes, shapes, differences, bones, fingers
const run = { words: [], word: 0, pos: 0, marks: [], last: null, before: null, hint: "", scores: [] };

async function loadChart() {
  if (chart) return chart;
  chart = await (await fetch("/api/letters")).json();
  return chart;
}

function mirrored() { return document.getElementById("mirror").checked; }

// A moving letter's path in the drawing's own coordinates (x, y as the landmarks), drawn by the fingertip it
// starts from (J: little finger, Z: index) at half the hand's height. Both start on the signer's left, the side
// of the index knuckle of a right hand shown to the camera, so they read right in either mirror setting: Z's
// strokes go left to right as the signer sees them; J drops, then hooks toward that side (toward the thumb).
function movingPath(points, letter) {
  const ys = points.map((p) => p[1]), s = 0.5 * (Math.max(...ys) - Math.min(...ys));
  const tip = points[letter === "J" ? 20 : 8];
  const left = Math.sign(points[5][0] - points[17][0]) || 1;  // +1: the signer's left is toward larger x
  const [x, y] = tip;
  return letter === "Z"
    ? [[x + left * s / 2, y], [x - left * s / 2, y], [x + left * s / 2, y + 0.6 * s], [x - left * s / 2, y + 0.6 * s]]
    : [[x, y], [x, y + 0.7 * s], [x + left * 0.35 * s, y + s], [x + left * 0.7 * s, y + 0.75 * s]];
}

function drawShape(canvas, letter) {
  const ctx = canvas.getContext("2d");
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  const points = chart && chart.shapes[letter];
  if (!points) return;
  const path = letter === "J" || letter === "Z" ? movingPath(points, letter) : [];
  const all = [...points, ...path];  // the picture holds the path too, not squeezed against the edge
  const xs = all.map((p) => p[0]), ys = all.map((p) => p[1]);
  const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const pad = 12, scale = Math.min((canvas.width - 2 * pad) / (x1 - x0 || 1), (canvas.height - 2 * pad) / (y1 - y0 || 1));
  const ox = (canvas.width - (x1 - x0) * scale) / 2, oy = (canvas.height - (y1 - y0) * scale) / 2;
  const flip = mirrored();
  const px = (p) => { const x = ox + (p[0] - x0) * scale; return flip ? canvas.width - x : x; };
  const py = (p) => oy + (p[1] - y0) * scale;
  const fingerOf = (i) => chart.fingers.findIndex((f) => f.includes(i));
  const fingerOfBone = ([a, b]) => fingerOf(b) >= 0 && fingerOf(a) === fingerOf(b) || a === 0 && fingerOf(b) === 0 ? fingerOf(b) : -1;
  // Far bones first, so the nearer fingers (z toward the camera is negative) are drawn over them; the thumb last,
  // outlined, dashed where it lies behind the fingers: in the fist letters (A E M N S T) where the thumb is is
  // what tells them apart, and drawn in depth order it was lost in the tangle of folded fingers.
  const depth = ([a, b]) => points[a][2] + points[b][2];
  const bones = [...chart.bones].filter((bone) => fingerOfBone(bone) !== 0).sort((a, b) => depth(b) - depth(a));
  ctx.lineCap = "round";
  for (const bone of bones) {
    const finger = fingerOfBone(bone);
    ctx.strokeStyle = finger >= 0 ? FINGER_COLOURS[finger] : "#777";
    ctx.lineWidth = finger >= 0 ? 5 : 3;
    ctx.beginPath(); ctx.moveTo(px(points[bone[0]]), py(points[bone[0]])); ctx.lineTo(px(points[bone[1]]), py(points[bone[1]]));
    ctx.stroke();
  }
  const thumb = chart.bones.filter((bone) => fingerOfBone(bone) === 0);
  const tips = chart.fingers.slice(1).map((f) => points[f[f.length - 1]][2]);
  const behind = points[chart.fingers[0].at(-1)][2] > Math.min(...tips);  // farther than the nearest fingertip
  for (const [width, colour] of [[9, "#111"], [5, FINGER_COLOURS[0]]]) {
    ctx.strokeStyle = colour; ctx.lineWidth = width; ctx.setLineDash(behind && colour !== "#111" ? [6, 4] : []);
    for (const [a, b] of thumb) {
      ctx.beginPath(); ctx.moveTo(px(points[a]), py(points[a])); ctx.lineTo(px(points[b]), py(points[b])); ctx.stroke();
    }
  }
  ctx.setLineDash([]);
  ctx.fillStyle = "#eee";
  for (const p of points) { ctx.beginPath(); ctx.arc(px(p), py(p), 2.5, 0, 2 * Math.PI); ctx.fill(); }
  const tip = points[chart.fingers[0].at(-1)];  // the thumb's tip, ringed
  ctx.strokeStyle = "#fff"; ctx.lineWidth = 2;
  ctx.beginPath(); ctx.arc(px(tip), py(tip), 7, 0, 2 * Math.PI); ctx.stroke();
  if (path.length) {  // dashed, from a dot where the fingertip starts to an arrowhead where it ends
    ctx.strokeStyle = "#fff"; ctx.fillStyle = "#fff"; ctx.lineWidth = 2; ctx.setLineDash([5, 4]);
    ctx.beginPath();
    path.forEach((p, i) => (i ? ctx.lineTo : ctx.moveTo).call(ctx, px(p), py(p)));
    ctx.stroke(); ctx.setLineDash([]);
    ctx.beginPath(); ctx.arc(px(path[0]), py(path[0]), 4, 0, 2 * Math.PI); ctx.fill();
    const [a, b] = path.slice(-2), angle = Math.atan2(py(b) - py(a), px(b) - px(a));
    ctx.beginPath(); ctx.moveTo(px(b), py(b));
    for (const turn of [2.6, -2.6]) ctx.lineTo(px(b) + 9 * Math.cos(angle + turn), py(b) + 9 * Math.sin(angle + turn));
    ctx.closePath(); ctx.fill();
  }
}

async function showChart() {
  await loadChart();
  const grid = document.getElementById("chart-grid");
  grid.replaceChildren();
  for (const letter of chart.letters) {
    const card = document.createElement("div");
    card.className = "card";
    const canvas = Object.assign(document.createElement("canvas"), { width: 150, height: 170 });
    drawShape(canvas, letter);
    const name = Object.assign(document.createElement("b"), { textContent: letter });
    card.append(canvas, name, chart.handshapes[letter]);
    grid.append(card);
  }
}

// --- practice --------------------------------------------------------------------------------------------------

function loadStats() {
  try { return JSON.parse(localStorage.getItem(STATS)) || { letters: {}, words: 0 }; }
  catch (err) { return { letters: {}, words: 0 }; }
}

function record(letter, firstTime) {
  const stats = loadStats();
  const s = stats.letters[letter] || { tries: 0, first: 0 };
  s.tries += 1; s.first += firstTime ? 1 : 0;
  stats.letters[letter] = s;
  localStorage.setItem(STATS, JSON.stringify(stats));
}

function recordWord() {
  const stats = loadStats();
  stats.words += 1;
  localStorage.setItem(STATS, JSON.stringify(stats));
}

function showStats() {
  const stats = loadStats(), box = document.getElementById("letter-stats");
  box.replaceChildren();
  const letters = Object.keys(stats.letters).sort();
  if (!letters.length) return;
  box.append(`your letters (right first time), ${stats.words} word(s) done:`);
  for (const letter of letters) {
    const s = stats.letters[letter];
    box.append(Object.assign(document.createElement("span"), { textContent: `${letter} ${s.first}/${s.tries}` }));
  }
}

async function startPractice() {
  await loadChart();
  const level = document.getElementById("level").value;
  let words;
  if (level === "mine") {
    words = document.getElementById("my-words").value.toUpperCase().split(/[^A-Z]+/).filter(Boolean);
    const unknown = [...new Set(words.join(""))].filter((c) => !chart.letters.includes(c));
    if (!words.length || unknown.length) {
      document.getElementById("practice-hint").textContent = words.length
        ? `this model does not know ${unknown.join(" ")}: choose other words`
        : "type a word or two first";
      document.getElementById("practice-run").hidden = false;
      return;
    }
  } else {
    words = (await (await fetch(`/api/practice?level=${level}&n=5`)).json()).words;
  }
  Object.assign(run, { words, word: 0, pos: 0, finished: null, marks: words.map((w) => Array(w.length).fill("pending")),
    last: null, before: null, hint: "", scores: [] });
  document.getElementById("practice-run").hidden = false;
  showPractice();
}

function expected() { return run.word < run.words.length ? run.words[run.word][run.pos] : null; }

function snapshot() { return JSON.parse(JSON.stringify({ ...run, before: null })); }

function onCommit(commit) {
  if (expected() === null || !commit.letter) return;
  if (commit.replaces && run.before) Object.assign(run, run.before);  // a J takes back the I it began as
  else if (commit.letter === run.last && !commit.repeat) return;  // found again, not signed twice
  run.before = snapshot();
  count(commit.letter);
}

function count(letter) {
  run.finished = null;  // the learner is on the next word: show it at once
  const want = expected(), marks = run.marks[run.word];
  run.last = letter;
  if (letter !== want) {
    noteUnsure(want, letter);
    marks[run.pos] = "missed";
    run.hint = chart.differences[want + letter] || `it looked like ${letter}: ${chart.handshapes[letter]}`;
    return;
  }
  record(want, marks[run.pos] === "pending");
  if (marks[run.pos] === "pending") marks[run.pos] = "right";
  run.hint = "";
  advance();
}

const FINISHED_S = 1.5;  // a finished word stays on screen, marked, this long before the next one

function advance() {
  run.pos += 1;
  if (run.pos === run.words[run.word].length) {
    run.finished = { word: run.word, until: performance.now() + FINISHED_S * 1000 };
    const marks = run.marks[run.word];
    run.scores.push(`${run.words[run.word]} ${marks.filter((m) => m === "right").length}/${marks.length}`);
    recordWord();
    run.word += 1; run.pos = 0; run.last = null; run.before = null;
  }
}

function skip() {
  if (expected() === null) return;
  run.marks[run.word][run.pos] = "missed";
  record(expected(), false);
  run.hint = "";
  advance();
  showPractice();
}

function showPractice() {
  const wordBox = document.getElementById("target-word");
  wordBox.replaceChildren();
  const done = expected() === null;
  const lingering = run.finished && performance.now() < run.finished.until;  // the word just finished
  if (lingering) setTimeout(showPractice, run.finished.until - performance.now() + 20);
  const index = lingering ? run.finished.word : done ? run.words.length - 1 : run.word;
  const word = run.words[index] || "", marks = run.marks[index] || [];
  [...word].forEach((c, i) => {
    const span = Object.assign(document.createElement("span"), { textContent: c });
    span.className = !done && !lingering && i === run.pos ? "next" : marks[i];
    if (span.className === "right" || span.className === "missed") {  // said in words, not by colour alone
      span.append(Object.assign(document.createElement("span"), { className: "sr-only", textContent: ` ${marks[i]}` }));
      span.title = marks[i];
    }
    wordBox.append(span);
  });
  const letter = expected();
  document.getElementById("target-shape").hidden = done;
  document.getElementById("practice-skip").hidden = done;
  document.getElementById("target-letter").textContent = letter || "done";
  document.getElementById("target-text").textContent = letter ? chart.handshapes[letter] :
    "Every word is done: start again for more.";
  document.getElementById("practice-hint").textContent = run.hint;
  drawShape(document.getElementById("target-shape"), letter);
  const right = run.marks.flat().filter((m) => m === "right").length, total = run.marks.flat().length;
  document.getElementById("practice-score").textContent = (run.scores.length ? run.scores.join(", ") + "; " : "") +
    `${right} of ${total} letters right first time`;
  showStats();
}

// --- calibration -----------------------------------------------------------------------------------------------

const SHOTS = 5, COUNTDOWN_S = 3, NO_HAND_S = 12;
const KEPT_CALIBRATION = "asl-calibration";  // localStorage: {model, letters, download} of this browser's calibration
const UNSURE = "asl-unsure";  // localStorage: per letter, how often it was read unsure or as another letter
const cal = { letters: [], index: 0, phase: "idle", timer: 0, skipped: [] };

function loadUnsure() {
  try { return JSON.parse(localStorage.getItem(UNSURE)) || {}; } catch (err) { return {}; }
}

function noteUnsure(letter, readAs) {  // readAs: the letter it was taken for, or null when only unsure
  const unsure = loadUnsure(), u = unsure[letter] || { n: 0, as: {} };
  u.n += 1;
  if (readAs && readAs !== letter) u.as[readAs] = (u.as[readAs] || 0) + 1;
  unsure[letter] = u;
  localStorage.setItem(UNSURE, JSON.stringify(unsure));
}

// The letters to offer first: the three this person's practice and spelling found hardest, each with the letter
// it was most often taken for (its own hands of that letter keep the calibrated one from taking them).
function suggestedLetters() {
  const unsure = loadUnsure(), known = chart ? chart.letters : "";
  const worst = Object.keys(unsure).filter((c) => known.includes(c) && !"JZ".includes(c))
    .sort((a, b) => unsure[b].n - unsure[a].n).slice(0, 3);
  const partners = worst.map((c) => Object.entries(unsure[c].as).sort((a, b) => b[1] - a[1])[0])
    .filter((p) => p && known.includes(p[0]) && !"JZ".includes(p[0])).map((p) => p[0]);
  return { letters: [...new Set([...worst, ...partners])].join(""), worst, unsure };
}

function showSuggestion() {
  const box = document.getElementById("calibrate-suggest");
  const { letters, worst, unsure } = suggestedLetters();
  box.hidden = !letters;
  if (!letters) return;
  const why = worst.map((c) => {
    const as = Object.entries(unsure[c].as).sort((a, b) => b[1] - a[1])[0];
    return as ? `${c} read as ${as[0]}` : `${c} read unsure`;
  }).join(", ");
  document.getElementById("calibrate-suggest-text").textContent =
    `Suggested from your practice and spelling: ${letters.split("").join(" ")} (${why}).`;
}

function useSuggestion() {
  document.getElementById("calibrate-letters").value = suggestedLetters().letters;
}

async function startCalibration() {
  await loadChart();
  const typed = document.getElementById("calibrate-letters").value.toUpperCase().replace(/[^A-Z]/g, "");
  const still = [...chart.letters].filter((c) => !"JZ".includes(c));  // J and Z move: calibrate.py learns them
  Object.assign(cal, { letters: [...new Set(typed || still)].filter((c) => still.includes(c)), index: 0, skipped: [] });
  document.getElementById("calibrate-result").textContent = cal.letters.length ? "" : "no letter this model knows";
  if (!cal.letters.length) return;
  edit("calibrate_begin");  // from now until done or stop, the hands shown type nothing
  document.getElementById("calibrate-run").hidden = false;
  document.getElementById("calibrate-stop").hidden = false;
  nextCalibrationLetter();
}

function nextCalibrationLetter() {
  clearInterval(cal.timer);
  if (cal.index >= cal.letters.length) { finishCalibration(); return; }
  const letter = cal.letters[cal.index], count = document.getElementById("calibrate-count");
  document.getElementById("calibrate-letter").textContent = letter;
  document.getElementById("calibrate-text").textContent = chart.handshapes[letter];
  document.getElementById("calibrate-warning").textContent = "";
  drawShape(document.getElementById("calibrate-shape"), letter);
  let left = COUNTDOWN_S;
  cal.phase = "ready";
  count.textContent = `get ready: ${left}`;
  cal.timer = setInterval(() => {
    left -= 1;
    if (left > 0) { count.textContent = `get ready: ${left}`; return; }
    clearInterval(cal.timer);
    cal.phase = "shooting";
    count.textContent = `hold ${letter} still…`;
    edit("calibrate", { letter, shots: SHOTS });
    cal.timer = setTimeout(() => {  // no hand seen: go on without this letter
      cal.skipped.push(letter);
      cal.index += 1;
      nextCalibrationLetter();
    }, NO_HAND_S * 1000);
  }, 1000);
}

function finishCalibration() {
  cal.phase = "tuning";
  document.getElementById("calibrate-run").hidden = true;
  document.getElementById("calibrate-result").textContent = "making your model on the server…";
  edit("calibrate_done");
}

function stopCalibration(tellServer = true) {
  clearInterval(cal.timer); clearTimeout(cal.timer);
  if (tellServer && cal.phase !== "idle") edit("calibrate_stop");
  cal.phase = "idle";
  document.getElementById("calibrate-run").hidden = true;
  document.getElementById("calibrate-stop").hidden = true;
}

function loadKeptCalibration() {
  try { return JSON.parse(localStorage.getItem(KEPT_CALIBRATION)); } catch (err) { return null; }
}

function showCalibrated(kept) {
  const letters = kept ? Object.keys(kept.letters).sort() : [];
  document.getElementById("calibrated").textContent = letters.length
    ? `Your model: ${letters.join(" ")} calibrated (kept in this browser).`
    : "The shared model is in use: no letter calibrated.";
  document.getElementById("calibrate-reset").hidden = !letters.length;
  const link = document.getElementById("calibrate-download");
  link.hidden = !(kept && kept.download);
  if (kept && kept.download) link.href = kept.download;
}

function resetCalibration() {
  stopCalibration();
  edit("calibration_reset");
  localStorage.removeItem(KEPT_CALIBRATION);
  showCalibrated(null);
  document.getElementById("calibrate-result").textContent = "Back to the shared model.";
}

function onCalibration(note) {
  const result = document.getElementById("calibrate-result");
  if (note.calibration) {
    localStorage.setItem(KEPT_CALIBRATION, JSON.stringify(note.calibration));
    showCalibrated(note.calibration);
  }
  if (note.failed) { stopCalibration(false); result.textContent = `calibration failed: ${note.failed}`; return; }
  if (note.done) {
    stopCalibration(false);
    const r = note.report;
    const change = r ? ` On ${r.shots} of your shots, each judged by a model made without it, the model before ` +
      `read ${r.right_before} right and yours reads ${r.right_after}.` : "";
    result.textContent = `Calibrated ${note.letters.split("").join(" ")} from ${note.shots} shots in ` +
      `${note.seconds} s${cal.skipped.length ? ` (no hand seen for ${cal.skipped.join(" ")})` : ""}.${change}`;
    return;
  }
  if (note.restored || note.reset) return;
  if (cal.phase !== "shooting" || note.letter !== cal.letters[cal.index]) return;
  document.getElementById("calibrate-warning").textContent = note.no_hand
    ? "No hand seen: hold your hand inside the picture, lit from the front." : "";
  if (note.no_hand) return;
  document.getElementById("calibrate-count").textContent = `hold ${note.letter} still: shot ${note.shots} of ${note.of}`;
  if (note.shots >= note.of) {
    clearTimeout(cal.timer);
    cal.index += 1;
    nextCalibrationLetter();
  }
}

function onSpelling(answer) {  // what spelling says of this person's letters, for the suggestions
  for (const commit of answer.commits) {
    const top = Object.entries(commit.top || {}).sort((a, b) => b[1] - a[1]);
    if (commit.letter && top.length > 1 && top[0][1] < 0.6) noteUnsure(commit.letter, null);
  }
  for (const w of answer.words) {  // letters the dictionary put right: the letter meant, read as another
    if (!w.corrected || w.word.length !== w.letters.length) continue;
    [...w.word].forEach((c, i) => { if (w.letters[i] !== c) noteUnsure(c, w.letters[i]); });
  }
}

function setMode(mode) {
  for (const button of document.querySelectorAll("#modes button")) button.setAttribute("aria-pressed", String(button.dataset.mode === mode));
  document.getElementById("practice").hidden = mode !== "practice";
  document.getElementById("chart").hidden = mode !== "chart";
  document.getElementById("calibrate").hidden = mode !== "calibrate";
  if (mode === "chart") showChart();
  if (mode === "practice") showStats();
  if (mode === "calibrate") { loadChart().then(showSuggestion); showCalibrated(loadKeptCalibration()); }
}

document.addEventListener("connected", () => {  // a new session: give it back this browser's calibration
  const kept = loadKeptCalibration();
  if (kept) edit("calibration_restore", { model: kept.model, letters: kept.letters });
});
document.addEventListener("answer", (e) => {
  if (e.detail.calibration) onCalibration(e.detail.calibration);
  if (cal.phase === "idle") onSpelling(e.detail);
  if (document.getElementById("practice").hidden || !run.words.length) return;
  const commits = e.detail.commits;
  commits.forEach(onCommit);
  if (commits.length) showPractice();
});
for (const button of document.querySelectorAll("#modes button")) button.onclick = () => setMode(button.dataset.mode);
document.getElementById("level").onchange = (e) => { document.getElementById("my-words").hidden = e.target.value !== "mine"; };
document.getElementById("practice-start").onclick = startPractice;
document.getElementById("practice-skip").onclick = skip;
document.getElementById("calibrate-start").onclick = startCalibration;
document.getElementById("calibrate-stop").onclick = () => stopCalibration();
document.getElementById("calibrate-reset").onclick = resetCalibration;
document.getElementById("calibrate-suggest-use").onclick = useSuggestion;
document.getElementById("mirror").addEventListener("change", () => {
  if (!document.getElementById("chart").hidden) showChart();
  if (run.words.length) drawShape(document.getElementById("target-shape"), expected());
});
