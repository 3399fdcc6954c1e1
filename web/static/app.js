// The live page: the camera's frames go to the server over a WebSocket, one at a time (the next is sent when
// the answer to the last has come, so the rate follows what the server keeps up with and nothing queues); each
// answer is drawn over the video: landmarks, the crop box and the frame's guess, the stable letter, the text.
// The text is kept in the browser too, so a lost connection or a reload gives it back to the next session.
"use strict";

const MAX_SIDE = 960;  // frames are scaled to this longer side before sending (the server tracks at 960)
const JPEG_QUALITY = 0.8;
const RETRY_S = [1, 2, 5, 10, 30];  // waits before reconnecting, one after another
const KEPT = "asl-text";  // localStorage key of the text
const RESTORE_CHARS = 900;  // the end of the kept text that a new session is given (the server takes 1000)
const CONNECTIONS = [[0,1],[1,2],[2,3],[3,4],[0,5],[5,6],[6,7],[7,8],[5,9],[9,10],[10,11],[11,12],[9,13],
  [13,14],[14,15],[15,16],[13,17],[17,18],[18,19],[19,20],[0,17]];
const CAMERA_PROBLEMS = {
  NotAllowedError: "The camera is blocked for this page. Allow it (the camera icon in the address bar), then press “start camera”.",
  SecurityError: "The camera is blocked for this page. Allow it (the camera icon in the address bar), then press “start camera”.",
  NotFoundError: "No camera was found. Plug one in (or turn it on), then press “start camera”.",
  OverconstrainedError: "No camera was found. Plug one in (or turn it on), then press “start camera”.",
  NotReadableError: "The camera is in use by another program (a video call?). Close it, then press “start camera”.",
  AbortError: "The camera is in use by another program (a video call?). Close it, then press “start camera”.",
};

const video = document.getElementById("video");
const overlay = document.getElementById("overlay");
const letterBox = document.getElementById("letter");
const statusLine = document.getElementById("status");
const problemBox = document.getElementById("problem");
const textBox = document.getElementById("text");
const notesBox = document.getElementById("notes");
const suggestionsBox = document.getElementById("suggestions");
const undoButton = document.getElementById("undo");
const grab = document.createElement("canvas");
const layers = { landmarks: true, box: true, bars: true, stats: true };
let socket = null, last = null, sentAt = 0, fps = 0, lastAnswerAt = 0, retries = 0, state = "", noteTimer = 0;
let retryTimer = 0;

function setStatus(message) { state = message; statusLine.textContent = message; }
function flash(message) {  // a passing note ("copied"); the connection's state comes back after it
  statusLine.textContent = message;
  clearTimeout(noteTimer);
  noteTimer = setTimeout(() => { statusLine.textContent = state; }, 2000);
}
function showProblem(message, action) {
  problemBox.hidden = !message;
  problemBox.textContent = message || "";
  if (message && action) {
    const button = document.createElement("button");
    button.textContent = action.label;
    button.onclick = action.run;
    problemBox.append(button);
  }
}

async function startCamera() {
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    showProblem("This browser gives pages a camera only over https or on localhost: open the page that way.");
    setStatus("no camera");
    return;
  }
  try {
    video.srcObject = await navigator.mediaDevices.getUserMedia(
      { video: { facingMode: "user", width: { ideal: 1280 }, height: { ideal: 720 } }, audio: false });
    await video.play();
    document.getElementById("start").hidden = true;
    showProblem("");
    connect();
  } catch (err) {
    showProblem(CAMERA_PROBLEMS[err.name] || `The camera did not start (${err.message}). Press “start camera” to try again.`,
      { label: "start camera", run: startCamera });
    setStatus("no camera");
  }
}

function connect() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  setStatus("connecting…");
  socket = new WebSocket(`${scheme}://${location.host}/ws`);
  socket.binaryType = "arraybuffer";
  socket.onopen = () => {
    showProblem("");
    setStatus("connected");
    const all = localStorage.getItem(KEPT) || "";  // only a text cut to its end loses its cut first word
    const kept = all.length > RESTORE_CHARS ? all.slice(-RESTORE_CHARS).replace(/^\S*\s+/, "") : all;
    if (kept.trim()) socket.send(JSON.stringify({ action: "restore", text: kept }));
    document.dispatchEvent(new CustomEvent("connected"));
    sendFrame();
  };
  socket.onclose = (e) => {
    const wait = RETRY_S[Math.min(retries++, RETRY_S.length - 1)];
    const why = e.code === 1013
      ? "The server is busy: every seat is taken."
      : e.code === 4408 ? "The server closed this session: nothing was sent for a minute."
      : e.code === 1012 ? "The server stopped (it may be restarting)." : "The connection to the server was lost.";
    showProblem(`${why} Trying again in ${wait} s; your text is kept.`, { label: "try now", run: reconnect });
    setStatus("disconnected");
    letterBox.textContent = "";  // nothing is being read now: no stale letter or hand over the video
    overlay.getContext("2d").clearRect(0, 0, overlay.width, overlay.height);
    last = null;
    clearTimeout(retryTimer);
    retryTimer = setTimeout(connect, wait * 1000);
  };
  socket.onmessage = (e) => {
    const answer = JSON.parse(e.data);
    if (answer.error) {
      if (answer.error !== "busy") flash(answer.error);
    } else {
      retries = 0;  // served: a busy server, which accepts and then closes, is retried ever more slowly
      const now = performance.now();
      if (lastAnswerAt) {
        const rate = 1000 / (now - lastAnswerAt);
        fps = fps ? 0.9 * fps + 0.1 * rate : rate;  // the first interval, not an average climbing from 0
      }
      lastAnswerAt = now;
      answer.roundTripMs = now - sentAt;
      last = answer;
      show(answer);
      document.dispatchEvent(new CustomEvent("answer", { detail: answer }));  // practice follows the commits
    }
    if (!answer.error || answer.error !== "busy") requestAnimationFrame(sendFrame);
  };
}

function reconnect() {
  clearTimeout(retryTimer);
  connect();
}

function sendFrame() {
  if (!socket || socket.readyState !== WebSocket.OPEN) return;  // a new connection starts sending by itself
  if (!video.videoWidth) { setTimeout(sendFrame, 50); return; }
  const scale = Math.min(1, MAX_SIDE / Math.max(video.videoWidth, video.videoHeight));
  grab.width = Math.round(video.videoWidth * scale);
  grab.height = Math.round(video.videoHeight * scale);
  grab.getContext("2d").drawImage(video, 0, 0, grab.width, grab.height);
  grab.toBlob((blob) => {
    if (socket.readyState !== WebSocket.OPEN) return;
    sentAt = performance.now();
    socket.send(blob);
  }, "image/jpeg", JPEG_QUALITY);
}

function show(answer) {
  letterBox.textContent = answer.letter || "";  // a hand showing no letter shows nothing, not a grey mark
  letterBox.className = answer.letter ? "" : "none";
  letterBox.dataset.letter = answer.letter || "";
  const spelling = answer.spelling || "";  // the word being spelled: its reading may still change
  const settled = spelling ? answer.text.slice(0, answer.text.length - spelling.length) : answer.text;
  const current = document.createElement("span");
  current.className = "provisional";
  current.textContent = spelling;
  textBox.replaceChildren(settled, current);
  localStorage.setItem(KEPT, answer.text);
  notesBox.textContent = answer.correction ? `read ${answer.correction.letters}: “undo correction” puts it back` : "";
  showSuggestions(answer.suggestions, answer.suggestions_for);
  undoButton.disabled = !answer.correction;
  announce(answer);
  draw(answer);
}

// What a screen reader says: each letter once as it is committed, then each word as it is finished; never the
// whole text again.
function announce(answer) {
  const said = [...answer.commits.map((c) => c.letter).filter(Boolean), ...answer.words.map((w) => w.word)];
  if (said.length) document.getElementById("announce").textContent = said.join(" ");
}

function showSuggestions(words, forWord) {
  const key = forWord ? forWord + ":" + words.join(" ") : "";
  if (suggestionsBox.dataset.key === key) return;  // unchanged: keep the buttons (a tap may be under way)
  suggestionsBox.dataset.key = key;
  suggestionsBox.replaceChildren();
  if (!forWord) return;
  const label = document.createElement("span");
  label.textContent = `for ${forWord}:`;
  suggestionsBox.append(label);
  words.forEach((word, i) => {
    const button = document.createElement("button");
    button.textContent = word;
    if (i === 0) button.append(Object.assign(document.createElement("kbd"), { textContent: "tab" }));
    button.onclick = () => edit("accept", { word });
    suggestionsBox.append(button);
  });
}

function draw(answer) {
  const rect = video.getBoundingClientRect();
  overlay.width = rect.width; overlay.height = rect.height;
  const ctx = overlay.getContext("2d");
  ctx.clearRect(0, 0, overlay.width, overlay.height);
  // where the video's picture lies inside its element (object-fit: contain)
  const scale = Math.min(rect.width / video.videoWidth, rect.height / video.videoHeight);
  const w = video.videoWidth * scale, h = video.videoHeight * scale;
  const ox = (rect.width - w) / 2, oy = (rect.height - h) / 2;
  const narrow = w < 560;  // a phone: smaller text and bars, so the hand stays in view
  const mirrored = video.classList.contains("mirrored");
  const px = (x) => ox + (mirrored ? 1 - x : x) * w, py = (y) => oy + y * h;
  const hand = answer.hand;
  if (hand && layers.landmarks) {
    ctx.strokeStyle = "#50dc50"; ctx.lineWidth = 2;
    for (const [a, b] of CONNECTIONS) {
      ctx.beginPath();
      ctx.moveTo(px(hand.landmarks[a][0]), py(hand.landmarks[a][1]));
      ctx.lineTo(px(hand.landmarks[b][0]), py(hand.landmarks[b][1]));
      ctx.stroke();
    }
    ctx.fillStyle = "#fff";
    for (const [x, y] of hand.landmarks) { ctx.beginPath(); ctx.arc(px(x), py(y), 3, 0, 2 * Math.PI); ctx.fill(); }
  }
  const size = narrow ? 12 : 16;
  ctx.font = `${size}px system-ui, sans-serif`;
  ctx.lineJoin = "round";
  if (hand && layers.box) {
    const [x0, y0, x1, y1] = handBox(hand.landmarks, w / h);
    const left = Math.min(px(x0), px(x1));
    ctx.strokeStyle = "#ffdc00"; ctx.lineWidth = 2;
    ctx.strokeRect(left, py(y0), Math.abs(px(x1) - px(x0)), py(y1) - py(y0));
    outlined(ctx, `${hand.guess} ${Math.round(100 * hand.guess_confidence)}%`, left, Math.max(py(y0) - 6, size), "#ffdc00");
  }
  if (hand && layers.bars) {
    const barWidth = Math.min(120, 0.18 * w), rows = narrow ? 3 : hand.probs.length;
    hand.probs.slice(0, rows).forEach(([name, p], i) => {
      const y = oy + size + 8 + i * (size + 4);
      ctx.fillStyle = "rgba(51,51,51,0.8)"; ctx.fillRect(ox + 3.2 * size, y - size + 2, barWidth, size - 2);
      ctx.fillStyle = i === 0 ? "#50dc50" : "#999"; ctx.fillRect(ox + 3.2 * size, y - size + 2, barWidth * p, size - 2);
      outlined(ctx, name, ox + 6, y - 1, "#fff");
    });
  }
  if (layers.stats) {
    const t = answer.timings_ms;
    const text = narrow
      ? `${fps.toFixed(0)} FPS  ${answer.roundTripMs.toFixed(0)} ms`
      : `${fps.toFixed(1)} FPS  round trip ${answer.roundTripMs.toFixed(0)} ms  ` +
        `server ${(t.total || 0).toFixed(0)} ms  dropped ${answer.dropped}`;
    outlined(ctx, text, ox + 6, oy + h - 6, "#fff");
  }
}

// The box drawn around the hand: a square about its landmarks, from the same frame as they are. The crop box the
// model read (hand.box) is steadied over frames, so drawn over a moving hand it trailed behind it.
function handBox(landmarks, aspect) {
  const xs = landmarks.map((p) => p[0]), ys = landmarks.map((p) => p[1]);
  const cx = (Math.min(...xs) + Math.max(...xs)) / 2, cy = (Math.min(...ys) + Math.max(...ys)) / 2;
  const side = 1.2 * Math.max((Math.max(...xs) - Math.min(...xs)) * aspect, Math.max(...ys) - Math.min(...ys));
  return [cx - side / 2 / aspect, cy - side / 2, cx + side / 2 / aspect, cy + side / 2];  // fractions of the frame
}

function outlined(ctx, text, x, y, colour) {  // readable on a light wall as on a dark one
  ctx.strokeStyle = "rgba(0,0,0,0.85)"; ctx.lineWidth = 4; ctx.strokeText(text, x, y);
  ctx.fillStyle = colour; ctx.fillText(text, x, y);
}

function edit(action, extra = {}) {
  if (action === "clear") localStorage.removeItem(KEPT);
  if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ action, ...extra }));
}

async function copyText() {
  try {
    await navigator.clipboard.writeText(textBox.textContent);
    flash("copied");
  } catch (err) {
    flash("no clipboard here: select the text to copy it");
  }
}

function toggle(name) {
  const box = document.querySelector(`[data-layer="${name}"]`);
  box.checked = !box.checked;
  layers[name] = box.checked;
}

async function showWhatItKnows() {
  try {
    const health = await (await fetch("/health")).json();
    const still = health.letters.split("").filter((c) => !"JZ".includes(c));
    const moving = health.letters.split("").filter((c) => "JZ".includes(c));
    document.getElementById("knows").textContent = `This model knows ${still.join(" ")}` +
      (moving.length ? ` (and ${moving.join(", ")} by movement).` : ".") +
      (still.length < 24 ? " Other letters come out as one of these." : "");
  } catch (err) { /* the connection's state says what is wrong */ }
}

document.getElementById("start").onclick = startCamera;
document.getElementById("delete").onclick = () => edit("delete");
document.getElementById("clear").onclick = () => edit("clear");
undoButton.onclick = () => edit("undo");
document.getElementById("copy").onclick = copyText;
document.getElementById("mirror").onchange = (e) => video.classList.toggle("mirrored", e.target.checked);
video.classList.add("mirrored");
for (const box of document.querySelectorAll("[data-layer]")) {
  box.onchange = () => { layers[box.dataset.layer] = box.checked; if (last) draw(last); };
}
document.addEventListener("keydown", (e) => {
  if (e.target.closest("input, textarea, select") || e.ctrlKey || e.metaKey || e.altKey) return;
  const keys = { l: "landmarks", b: "box", p: "bars", s: "stats" };
  if (keys[e.key]) toggle(keys[e.key]);
  else if (e.key === "m") { const m = document.getElementById("mirror"); m.checked = !m.checked; m.onchange({ target: m }); }
  else if (e.key === "Backspace") edit("delete");
  else if (e.key === "x") edit("clear");
  else if (e.key === "y") copyText();
  else if (e.key === "u") edit("undo");
  else if (e.key === "Tab" && !e.shiftKey && suggestionsBox.dataset.key && e.target === document.body) {
    e.preventDefault(); edit("accept");
  }
  else return;  // from a button (a suggestion among them) Tab and Shift+Tab move the focus as usual
  if (last) draw(last);
});
textBox.textContent = localStorage.getItem(KEPT) || "";
showWhatItKnows();
startCamera();
