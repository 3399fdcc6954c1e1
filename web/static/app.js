// The live page: the camera's frames go to the server over a WebSocket, one at a time (the next is sent when
// the answer to the last has come, so the rate follows what the server keeps up with and nothing queues); each
// answer is drawn over the video: landmarks, the crop box and the frame's guess, the stable letter, the text.
"use strict";

const MAX_SIDE = 960;  // frames are scaled to this longer side before sending (the server tracks at 960)
const JPEG_QUALITY = 0.8;
const CONNECTIONS = [[0,1],[1,2],[2,3],[3,4],[0,5],[5,6],[6,7],[7,8],[5,9],[9,10],[10,11],[11,12],[9,13],
  [13,14],[14,15],[15,16],[13,17],[17,18],[18,19],[19,20],[0,17]];

const video = document.getElementById("video");
const overlay = document.getElementById("overlay");
const letterBox = document.getElementById("letter");
const statusLine = document.getElementById("status");
const textBox = document.getElementById("text");
const suggestionsBox = document.getElementById("suggestions");
const undoButton = document.getElementById("undo");
const grab = document.createElement("canvas");
const layers = { landmarks: true, box: true, bars: true, stats: true };
let socket = null, last = null, sentAt = 0, fps = 0, lastAnswerAt = 0;

function setStatus(message) { statusLine.textContent = message; }

async function startCamera() {
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    setStatus("this browser gives no camera to pages (it needs https, or localhost)");
    return;
  }
  try {
    video.srcObject = await navigator.mediaDevices.getUserMedia(
      { video: { facingMode: "user", width: { ideal: 1280 }, height: { ideal: 720 } }, audio: false });
    await video.play();
    document.getElementById("start").hidden = true;
    connect();
  } catch (err) {
    setStatus("no camera: " + err.message + " (allow the camera, then press start camera)");
  }
}

function connect() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  socket = new WebSocket(`${scheme}://${location.host}/ws`);
  socket.binaryType = "arraybuffer";
  socket.onopen = () => { setStatus("connected"); sendFrame(); };
  socket.onclose = (e) => { setStatus(e.code === 1013 ? "the server is busy: try again later" : "disconnected"); };
  socket.onmessage = (e) => {
    const answer = JSON.parse(e.data);
    if (answer.error) {
      setStatus(answer.message || answer.error);
    } else {
      const now = performance.now();
      if (lastAnswerAt) fps = 0.9 * fps + 0.1 * (1000 / (now - lastAnswerAt));
      lastAnswerAt = now;
      answer.roundTripMs = now - sentAt;
      last = answer;
      show(answer);
    }
    requestAnimationFrame(sendFrame);
  };
}

function sendFrame() {
  if (!socket || socket.readyState !== WebSocket.OPEN || !video.videoWidth) {
    setTimeout(sendFrame, 50);
    return;
  }
  const scale = Math.min(1, MAX_SIDE / Math.max(video.videoWidth, video.videoHeight));
  grab.width = Math.round(video.videoWidth * scale);
  grab.height = Math.round(video.videoHeight * scale);
  grab.getContext("2d").drawImage(video, 0, 0, grab.width, grab.height);
  grab.toBlob((blob) => { sentAt = performance.now(); socket.send(blob); }, "image/jpeg", JPEG_QUALITY);
}

function show(answer) {
  letterBox.textContent = answer.letter || (answer.hand ? "-" : "");
  letterBox.className = answer.letter ? "" : "none";
  letterBox.dataset.letter = answer.letter || "";
  textBox.textContent = answer.text;
  const notes = [];
  if (answer.correction) notes.push(`read ${answer.correction.letters} (u: undo)`);
  if (answer.suggestions.length) notes.push("tab: " + answer.suggestions.join("   "));
  suggestionsBox.textContent = notes.join("   ");
  undoButton.disabled = !answer.correction;
  draw(answer);
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
  ctx.font = "16px system-ui, sans-serif";
  if (hand && layers.box) {
    const [x0, y0, x1, y1] = hand.box;
    const left = Math.min(px(x0), px(x1));
    ctx.strokeStyle = "#ffdc00"; ctx.lineWidth = 2;
    ctx.strokeRect(left, py(y0), Math.abs(px(x1) - px(x0)), py(y1) - py(y0));
    ctx.fillStyle = "#ffdc00";
    ctx.fillText(`${hand.guess} ${Math.round(100 * hand.guess_confidence)}%`, left, Math.max(py(y0) - 6, 14));
  }
  if (hand && layers.bars) {
    hand.probs.forEach(([name, p], i) => {
      const y = oy + 24 + i * 20;
      ctx.fillStyle = "#333"; ctx.fillRect(ox + 50, y - 14, 120, 14);
      ctx.fillStyle = i === 0 ? "#50dc50" : "#999"; ctx.fillRect(ox + 50, y - 14, 120 * p, 14);
      ctx.fillStyle = "#fff"; ctx.fillText(name, ox + 8, y - 1);
    });
  }
  if (layers.stats) {
    ctx.fillStyle = "#fff";
    const t = answer.timings_ms;
    ctx.fillText(`${fps.toFixed(1)} FPS  round trip ${answer.roundTripMs.toFixed(0)} ms  ` +
      `server ${(t.total || 0).toFixed(0)} ms  dropped ${answer.dropped}`, ox + 8, oy + h - 8);
  }
}

function edit(action) {
  if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ action }));
}

async function copyText() {
  try {
    await navigator.clipboard.writeText(textBox.textContent);
    setStatus("copied");
  } catch (err) {
    setStatus("no clipboard here: select the text to copy it");
  }
}

function toggle(name) {
  const box = document.querySelector(`[data-layer="${name}"]`);
  box.checked = !box.checked;
  layers[name] = box.checked;
}

document.getElementById("start").onclick = startCamera;
document.getElementById("delete").onclick = () => edit("delete");
document.getElementById("clear").onclick = () => edit("clear");
document.getElementById("accept").onclick = () => edit("accept");
undoButton.onclick = () => edit("undo");
document.getElementById("copy").onclick = copyText;
document.getElementById("mirror").onchange = (e) => video.classList.toggle("mirrored", e.target.checked);
video.classList.add("mirrored");
for (const box of document.querySelectorAll("[data-layer]")) {
  box.onchange = () => { layers[box.dataset.layer] = box.checked; if (last) draw(last); };
}
document.addEventListener("keydown", (e) => {
  const keys = { l: "landmarks", b: "box", p: "bars", s: "stats" };
  if (keys[e.key]) toggle(keys[e.key]);
  else if (e.key === "m") { const m = document.getElementById("mirror"); m.checked = !m.checked; m.onchange({ target: m }); }
  else if (e.key === "Backspace") edit("delete");
  else if (e.key === "x") edit("clear");
  else if (e.key === "y") copyText();
  else if (e.key === "Tab") { e.preventDefault(); edit("accept"); }
  else if (e.key === "u") edit("undo");
  else return;
  if (last) draw(last);
});
startCamera();
