// posture dashboard: small, dependency-free page scripts (charts use the vendored Chart.js).
"use strict";

const PAGES = [["/", "now", "Now"], ["/exercise", "exercise", "Exercise"],
  ["/trends", "trends", "Trends"], ["/history", "history", "History"],
  ["/settings", "settings", "Settings"], ["/report", "report", "Report"]];
const BONES = [[11, 12], [11, 13], [13, 15],
  [12, 14], [14, 16], [11, 23], [12, 24], [23, 24], [23, 25], [25, 27], [24, 26], [26, 28]];
// The metrics shown on the Now page (MAIN_METRICS, MORE_METRICS); labels, units and meanings
// come from /api/registry.
let REGISTRY = null;

async function registry() {
  REGISTRY ||= await api("/api/registry");
  return REGISTRY;
}

const $ = (id) => document.getElementById(id);

function el(tag, text, cls) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (cls) node.className = cls;
  return node;
}

// options.report = false: a refused request is the caller's to show (at a form field, say);
// only a failed connection goes to the page's error banner then.
async function api(path, options = {}) {
  const {report = true, ...rest} = options;
  const init = {headers: {"content-type": "application/json"}, ...rest};
  if (init.body && typeof init.body !== "string") init.body = JSON.stringify(init.body);
  let response;
  try {
    response = await fetch(path, init);
  } catch (error) {
    showError(error, path);
    throw error;
  }
  const data = response.headers.get("content-type")?.includes("json")
    ? await response.json() : await response.text();
  if (!response.ok) {
    const detail = data && data.detail ? data.detail : response.statusText;
    const error = new Error(typeof detail === "string" ? detail : JSON.stringify(detail));
    error.status = response.status;
    error.field = data && data.field ? data.field : "";
    if (report) showError(error, path); else clearError(path);
    throw error;
  }
  clearError(path);
  return data;
}

// The warning signs that mean stop and see a clinician (from the server, one source).
function showCare(care) {
  if (!care || !$("care")) return;
  $("care-title").textContent = care.title;
  $("care-intro").textContent = care.intro;
  $("care-signs").replaceChildren(...care.signs.map((sign) => el("li", sign)));
  $("care-note").textContent = care.note;
}

function renderNav(page) {
  const nav = el("nav");
  nav.append(el("strong", "posture"));
  for (const [href, name, label] of PAGES) {
    const link = el("a", label, name === page ? "active" : "");
    link.href = href;
    nav.append(link);
  }
  const conn = el("span", "", "conn");
  conn.id = "conn";
  nav.append(conn);
  $("nav").append(nav);
}

function fmtTime(ms) {
  return new Date(ms).toLocaleString([], {dateStyle: "short", timeStyle: "short"});
}

// --- live stream ---------------------------------------------------------------------------
// The header says "live" only while samples arrive from a monitor that is monitoring;
// onDown runs when the monitor cannot be reached (it stopped, or the network is gone).
function setConn(text, on) {
  $("conn").textContent = text; $("conn").className = on ? "conn on" : "conn";
}

function connectLive(onMessage, onDown) {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  let retry = 500;
  const open = () => {
    const ws = new WebSocket(`${scheme}://${location.host}/api/live`);
    ws.onopen = () => { setConn("connected", false); retry = 500; };
    ws.onmessage = (m) => {
      const data = JSON.parse(m.data);
      // Alerts also arrive as browser notifications on every page, once allowed.
      if (data.kind === "alert") data.browser = browserNotify(data.title, data.message);
      if (data.kind === "sample" && data.monitoring) {
        setConn(data.monitoring.active ? "live" : "not monitoring", data.monitoring.active);
      }
      onMessage(data);
      // Changes that end the stream of samples: the status says what holds now.
      if (["camera_state_changed", "exercise_session_ended", "calibration_finished"].includes(data.kind)) {
        api("/api/status").then((s) => {
          setConn(s.monitoring.active ? "live" : "not monitoring", s.monitoring.active);
          onMessage({kind: "sample", ...s});
        }).catch(() => {});
      }
    };
    ws.onclose = () => {
      setConn("not monitoring: reconnecting…", false);
      if (onDown) onDown();
      setTimeout(open, retry); retry = Math.min(retry * 2, 10000);
    };
  };
  open();
}

// The body fills the canvas whatever the frame's aspect ratio: landmarks are placed in the
// frame's own pixels, then the body's bounding box (with a margin) is scaled uniformly and
// centred, so nothing is cut off and nothing is stretched. overlay = true draws in the
// frame's own coordinates instead, over the camera preview.
function drawSkeleton(canvas, landmarks, frame, overlay = false) {
  const ctx = canvas.getContext("2d");
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  if (!landmarks) {
    if (!overlay) { ctx.fillStyle = "#555"; ctx.fillText("nobody in view", 10, 20); }
    return;
  }
  const [fw, fh] = frame && frame[0] > 0 && frame[1] > 0 ? frame : [canvas.width, canvas.height];
  const pts = landmarks.map(([x, y]) => [x * fw, y * fh]);
  const body = pts.slice(0, 29);
  // The head as a head: a circle around the ears and nose (in frame pixels), inside the fit.
  const ears = [(pts[7][0] + pts[8][0]) / 2, (pts[7][1] + pts[8][1]) / 2], nose = pts[0];
  const head = [(ears[0] * 2 + nose[0]) / 3, (ears[1] * 2 + nose[1]) / 3];
  const radius = Math.max(1.3 * Math.hypot(nose[0] - ears[0], nose[1] - ears[1]),
    0.6 * Math.hypot(pts[7][0] - pts[8][0], pts[7][1] - pts[8][1]), 1);
  const xs = [...body.map((p) => p[0]), head[0] - radius, head[0] + radius];
  const ys = [...body.map((p) => p[1]), head[1] - radius, head[1] + radius];
  const x0 = Math.min(...xs), x1 = Math.max(...xs), y0 = Math.min(...ys), y1 = Math.max(...ys);
  let scale, ox, oy;
  if (overlay) {
    scale = canvas.width / fw; ox = 0; oy = 0;
  } else {
    const margin = 0.08 * Math.max(x1 - x0, y1 - y0, 1);
    scale = Math.min(canvas.width / (x1 - x0 + 2 * margin), canvas.height / (y1 - y0 + 2 * margin));
    ox = (canvas.width - (x1 - x0) * scale) / 2 - x0 * scale;
    oy = (canvas.height - (y1 - y0) * scale) / 2 - y0 * scale;
  }
  const at = (i) => [pts[i][0] * scale + ox, pts[i][1] * scale + oy];
  const mid = (a, b) => [(at(a)[0] + at(b)[0]) / 2, (at(a)[1] + at(b)[1]) / 2];
  ctx.strokeStyle = overlay ? "#7CFC9A" : "#2e7d4f"; ctx.lineWidth = 3; ctx.beginPath();
  for (const [a, b] of BONES) {
    ctx.moveTo(...at(a));
    ctx.lineTo(...at(b));
  }
  // The head, a neck from it to the shoulders' middle, and the nose marking where the face
  // points.
  const centre = [head[0] * scale + ox, head[1] * scale + oy], r = Math.max(4, radius * scale);
  const neck = mid(11, 12);
  ctx.moveTo(centre[0] + r, centre[1]); ctx.arc(...centre, r, 0, 2 * Math.PI);
  const toNeck = Math.hypot(neck[0] - centre[0], neck[1] - centre[1]) || 1;
  ctx.moveTo(centre[0] + (neck[0] - centre[0]) * r / toNeck, centre[1] + (neck[1] - centre[1]) * r / toNeck);
  ctx.lineTo(...neck);
  ctx.stroke();
  ctx.fillStyle = overlay ? "#FFE066" : "#1d3557";
  for (let i = 11; i < body.length; i++) {
    const [x, y] = at(i);
    ctx.beginPath(); ctx.arc(x, y, 3, 0, 2 * Math.PI); ctx.fill();
  }
  ctx.beginPath(); ctx.arc(...at(0), 3.5, 0, 2 * Math.PI); ctx.fill();
  canvas.dataset.drawn = String(Number(canvas.dataset.drawn || 0) + 1);
  canvas.dataset.head = r.toFixed(1);
  // For tests and assistive tools: where the body landed, as a share of the canvas.
  const [bx0, by0] = [x0 * scale + ox, y0 * scale + oy], [bx1, by1] = [x1 * scale + ox, y1 * scale + oy];
  canvas.dataset.bounds = [bx0 / canvas.width, by0 / canvas.height, bx1 / canvas.width, by1 / canvas.height]
    .map((v) => v.toFixed(3)).join(",");
}

// A failed API call is shown, never swallowed: a refusal stays until the same call
// succeeds (an unrelated poll that succeeds does not hide it); a failed connection goes as
// soon as any call gets through.
function showError(error, path) {
  const box = $("api-error");
  if (!box) return;
  box.dataset.path = error.status ? path.split("?")[0] : "";
  box.textContent = error.status ? `posture refused the request: ${error.message}`
    : `Could not reach posture: ${error.message || error}`;
}

function clearError(path) {
  const box = $("api-error");
  if (!box || !box.textContent) return;
  if (!box.dataset.path || box.dataset.path === path.split("?")[0]) box.textContent = "";
}

function addEvent(list, text) {
  list.prepend(el("li", `${new Date().toLocaleTimeString()}  ${text}`));
  while (list.children.length > 12) list.lastChild.remove();
}

// --- Now -------------------------------------------------------------------------------------
// How each sagittal angle was obtained (the `quality` flags of /api/status).
const QUALITY = {measured: "measured on the image", estimated: "estimated in 3-D (front view)",
                 low: "estimated, low confidence"};
const POSTURE = {upright: "upright", forward_slouch: "forward slouch", slumped: "slumped",
                 reclined: "reclined", leaning: "leaning to one side"};

const MAIN_METRICS = ["neck_deg", "thoracic_deg", "hip_deg"];
const MORE_METRICS = ["head_drop", "head_pitch", "shoulder_tilt_deg"];

// A value as a person reads it: angles to whole degrees, ratios to two decimals.
function fmtMetric(value, info, key) {
  if (value === null || value === undefined) return "–";
  const degrees = info ? info.unit === "deg" : key.endsWith("_deg");
  return degrees ? `${Math.round(value)}°` : Number(value).toFixed(2);
}

function reasonWords(name, view) {
  const info = REGISTRY ? REGISTRY.reasons.find((r) => r.name === name) : null;
  if (!info) return name.replaceAll("_", " ");
  return info.front && (view === "front" || view === "oblique") ? info.front : info.text;
}

function metricRows(body, keys, s, metrics) {
  body.replaceChildren();
  for (const key of keys) {
    const info = metrics.get(key);
    const value = s.metrics ? s.metrics[key] : null;
    const row = el("tr"); const th = el("th", info ? info.label : key);
    if (info) th.title = info.description;
    const quality = s.quality ? s.quality[key] : undefined;
    const cell = el("td", fmtMetric(value, info, key));
    if (info && info.unit !== "deg" && value !== null && value !== undefined) cell.append(el("span", ` ${info.unit}`, "unit"));
    if (value !== null && value !== undefined && quality && quality !== "measured") {
      cell.append(el("span", quality === "low" ? " (est., low confidence)" : " (est.)"));
      cell.classList.add("estimated");
      cell.title = QUALITY[quality];
    }
    row.dataset.metric = key;
    row.append(th, cell);
    body.append(row);
  }
}

function showStatus(s) {
  const monitoring = s.monitoring || {active: true, reason: ""};
  if (!monitoring.active) {
    $("state").textContent = "not monitoring";
    $("banner").className = "banner off";
    $("reasons").textContent = monitoring.reason;
  } else {
    $("state").textContent = s.state === "slouched" && s.posture ? `${s.state} · ${POSTURE[s.posture] || s.posture}` : s.state;
    $("banner").className = `banner ${s.state}`;
    let why = (s.reasons || []).map((r) => reasonWords(r, s.view)).join("; ");
    if (s.state === "reclined") why = "leaning back with support, head over the trunk: not a slouch";
    else if (s.state === "unknown" && s.person && s.view !== "side" && !s.calibrated) {
      why = "from the front, posture is judged against your own upright: sit upright and press Calibrate";
    }
    $("reasons").textContent = why;
  }
  $("banner").dataset.monitoring = monitoring.active ? "1" : "";
  const metrics = REGISTRY ? new Map(REGISTRY.metrics.map((m) => [m.name, m])) : new Map();
  metricRows($("metrics"), MAIN_METRICS, s, metrics);
  metricRows($("metrics-more"), MORE_METRICS, s, metrics);
  $("more-metrics").classList.toggle("hidden", s.view === "side");
  const judged = s.judged_from;
  $("view").textContent = (s.view || "–") + (judged ? `, judged ${judged.against === "baseline" ? "against your baseline" : "on absolute angles"}` : "");
  $("camera").textContent = s.camera ? s.camera.state + (s.camera.detail ? ` (${s.camera.detail})` : "") : "–";
  $("sitting").textContent = `${Math.floor((s.sitting_s || 0) / 60)} min`;
  showCalibration(s);
  $("pause").textContent = s.paused ? "Resume" : "Pause";
  $("pause").dataset.paused = s.paused ? "1" : "";
  showPlacement(s.placement, s.calibration);
}

// The calibration in words; one that looked slouched waits for Keep or a new calibration.
function showCalibration(s) {
  const c = s.calibration;
  $("calibrated").textContent = s.calibrating ? "calibrating…"
    : c && c.pending ? "waiting for your answer" : (s.calibrated ? `calibrated (${c ? c.view : ""} view)` : "not calibrated");
  $("calibration-words").textContent = c && !c.pending ? c.words : "";
  $("calibration-warning").classList.toggle("hidden", !(c && c.pending));
  $("calibration-warning-text").textContent = c && c.pending ? c.warning : "";
}

// What the camera can judge from the view it sees now; the calibration's view beside it.
let shownPlacement = "";
function showPlacement(advice, calibration) {
  const key = JSON.stringify([advice || null, calibration ? [calibration.view, calibration.pending] : null]);
  if (key === shownPlacement) return;
  shownPlacement = key;
  $("placement").classList.toggle("hidden", !advice);
  if (!advice) return;
  $("placement-view").textContent = advice.view;
  $("placement-calibration").textContent = calibration && !calibration.pending ? `${calibration.view} view` : "not calibrated";
  const fill = (id, items, prefix) => $(id).replaceChildren(...items.map((t) => el("li", prefix + t)));
  fill("placement-can", advice.can_judge, "✓ ");
  fill("placement-cannot", advice.cannot_judge, "✗ ");
  fill("placement-tips", advice.tips, "Tip: ");
}

// --- today at a glance, the strip chart -----------------------------------------------------
async function loadToday() {
  const t = await api("/api/today");
  const items = [["Upright", `${t.minutes.upright} min`], ["Slouched", `${t.minutes.slouched} min`],
    ["Reclined", `${t.minutes.reclined} min`], ["Away", `${t.minutes.away} min`],
    ["Longest slouch", `${t.longest_slouch_min} min`], ["Breaks", `${t.breaks.taken} of ${t.breaks.due} due`],
    ["Exercise reps", t.program ? `${t.program.done} of ${t.program.reps} (${t.program.title})` : `${t.reps}`]];
  $("today").replaceChildren(...items.map(([k, v]) => {
    const box = el("div"); box.append(el("dt", k), el("dd", v)); return box;
  }));
  $("today").dataset.loaded = "1";
  $("today-summary").textContent = `Today so far: upright ${t.minutes.upright} min, slouched ${t.minutes.slouched} min; `
    + `${t.breaks.taken} breaks taken of ${t.breaks.due} due.`;
}

const STRIP_MS = 10 * 60_000;
const strip = {points: [], limits: {}};
const STRIP_SERIES = [["neck_deg", "neck", "#1d3557"], ["thoracic_deg", "trunk", "#2a7f62"]];

function addStripSample(m) {
  if (!m.metrics || m.t_ms === null || m.t_ms === undefined) return;
  const now = Date.now();
  strip.points.push({t: now, neck_deg: m.metrics.neck_deg, thoracic_deg: m.metrics.thoracic_deg});
  while (strip.points.length && now - strip.points[0].t > STRIP_MS) strip.points.shift();
  strip.limits = m.limits || {};
}

// Neck and trunk angle over the last ten minutes, with a time axis (minutes ago), an angle
// axis, a legend, and each slouch limit as a labelled dashed line with a shaded band above
// it (where a slouch builds up); the same in words for screen readers.
function drawStrip() {
  const canvas = $("strip"); if (!canvas) return;
  const ctx = canvas.getContext("2d"), w = canvas.width, h = canvas.height, now = Date.now();
  const left = 44, right = 12, top = 24, bottom = 26, lo = -20, hi = 60;
  ctx.clearRect(0, 0, w, h);
  ctx.font = "12px sans-serif";
  const y = (v) => top + (hi - Math.max(lo, Math.min(hi, v))) / (hi - lo) * (h - top - bottom);
  const x = (t) => left + (1 - (now - t) / STRIP_MS) * (w - left - right);
  // Axes: angle ticks every 20 degrees, time ticks every 2 minutes.
  ctx.strokeStyle = "#c9d1d9"; ctx.fillStyle = "#444"; ctx.lineWidth = 1;
  ctx.textAlign = "right"; ctx.textBaseline = "middle";
  for (let v = lo; v <= hi; v += 20) {
    ctx.beginPath(); ctx.moveTo(left, y(v)); ctx.lineTo(w - right, y(v)); ctx.stroke();
    ctx.fillText(`${v}°`, left - 6, y(v));
  }
  ctx.textAlign = "center"; ctx.textBaseline = "top";
  for (let m = 10; m >= 0; m -= 2) {
    ctx.fillText(m ? `${m} min ago` : "now", x(now - m * 60_000), h - bottom + 6);
  }
  for (const [key, name, color] of STRIP_SERIES) {
    const limit = strip.limits[key];
    if (limit === undefined) continue;
    ctx.fillStyle = color + "1a"; ctx.fillRect(left, y(hi), w - left - right, y(limit) - y(hi));
    ctx.strokeStyle = color; ctx.setLineDash([4, 4]); ctx.beginPath();
    ctx.moveTo(left, y(limit)); ctx.lineTo(w - right, y(limit)); ctx.stroke(); ctx.setLineDash([]);
    ctx.fillStyle = color; ctx.textAlign = "left"; ctx.textBaseline = "bottom";
    ctx.fillText(`${name} limit ${Math.round(limit)}°`, left + 4, y(limit) - 2);
  }
  // Legend, top right.
  let lx = w - right;
  ctx.textAlign = "right"; ctx.textBaseline = "middle";
  for (const [, name, color] of [...STRIP_SERIES].reverse()) {
    ctx.fillStyle = "#222"; ctx.fillText(`${name} angle`, lx, 10);
    lx -= ctx.measureText(`${name} angle`).width + 6;
    ctx.fillStyle = color; ctx.fillRect(lx - 18, 8, 18, 4);
    lx -= 30;
  }
  for (const [key, , color] of STRIP_SERIES) {
    ctx.strokeStyle = color; ctx.lineWidth = 2; ctx.beginPath();
    let pen = false;
    for (const p of strip.points) {
      const v = p[key];
      if (v === null || v === undefined) { pen = false; continue; }
      if (pen) ctx.lineTo(x(p.t), y(v)); else ctx.moveTo(x(p.t), y(v));
      pen = true;
    }
    ctx.stroke();
  }
  canvas.dataset.points = String(strip.points.length);
  canvas.dataset.limits = JSON.stringify(strip.limits);
  canvas.dataset.legend = STRIP_SERIES.map(([, name]) => `${name} angle`).join(",");
  const parts = [];
  for (const [key, name] of STRIP_SERIES) {
    const values = strip.points.map((p) => p[key]).filter((v) => v !== null && v !== undefined);
    if (!values.length) continue;
    const limit = strip.limits[key];
    parts.push(`${name} ${Math.round(Math.min(...values))}–${Math.round(Math.max(...values))}°, now ${Math.round(values[values.length - 1])}°`
      + (limit !== undefined ? ` (a slouch builds above ${Math.round(limit)}°)` : ""));
  }
  $("strip-summary").textContent = parts.length ? `Last 10 minutes: ${parts.join("; ")}.`
    + (Object.keys(strip.limits).length ? "" : " Limits apply in a side view; from the front, posture is judged against your calibration.")
    : "No angles measured in the last 10 minutes.";
}

// --- browser notifications: asked for once, with the reason, never on page load ----------
function browserNotify(title, body) {
  if ("Notification" in window && Notification.permission === "granted") {
    new Notification(title, {body, tag: "posture"});
    return true;
  }
  return false;
}

function showNotifyState() {
  if (!$("notify-state")) return;
  if (!("Notification" in window)) { $("notify-state").textContent = "This browser cannot show notifications; alerts arrive on the desktop."; return; }
  const p = Notification.permission;
  $("notify-ask").classList.toggle("hidden", p !== "default");
  $("notify-state").textContent = p === "granted" ? "Browser notifications on while this page is open."
    : p === "denied" ? "Browser notifications are blocked; alerts arrive as desktop notifications." : "";
  $("notify-state").dataset.permission = p;
}

// While a page shows browser notifications it tells the server so (desktop ones pause).
function keepBrowserNotifications() {
  const tell = () => {
    if ("Notification" in window && Notification.permission === "granted") {
      api("/api/notifications/browser", {method: "POST", body: {active: true}}).catch(() => {});
    }
  };
  tell();
  setInterval(tell, 30_000);
}

async function askNotifications() {
  if (!("Notification" in window)) return "unsupported";
  const result = await Notification.requestPermission();
  showNotifyState();
  if (result === "granted") api("/api/notifications/browser", {method: "POST", body: {active: true}}).catch(() => {});
  return result;
}

// --- first-run setup -----------------------------------------------------------------------
function showSetup(s) {
  if ($("setup").classList.contains("hidden")) return;
  const cam = s.camera || {};
  $("setup-camera-state").textContent = cam.state === "streaming" ? `working (${cam.detail || "camera"})` : (cam.state || "checking…");
  $("setup-camera").classList.toggle("done", cam.state === "streaming");
  const advice = s.placement;
  $("setup-view-text").textContent = advice
    ? `${advice.view} view. It can judge: ${advice.can_judge.join(", ")}. ${advice.tips.join(" ")}`
    : s.view ? `${s.view} view detected${s.view === "side" ? ": neck and trunk angles are measured directly" : ": posture is judged against your calibration"}.` : "waiting for a person…";
  $("setup-view").classList.toggle("done", Boolean(s.view));
}

function initSetup(events) {
  const wanted = new URLSearchParams(location.search).has("setup") || !localStorage.getItem("posture.setupDone");
  $("setup").classList.toggle("hidden", !wanted);
  $("setup-preview").onclick = async () => {
    $("preview-toggle").checked = true;
    await api("/api/preview", {method: "POST", body: {enabled: true}});
    $("preview-wrap").classList.remove("hidden");
  };
  $("setup-calibrate-button").onclick = async () => {
    await api("/api/calibrate", {method: "POST", body: {seconds: 5}});
    $("setup-calibrate-result").textContent = "sit still… calibrating for 5 s";
  };
  $("setup-notify-button").onclick = async () => {
    if ("Notification" in window && Notification.permission === "default") await askNotifications();
    await api("/api/notifications/test", {method: "POST"});
    $("setup-notify-result").textContent = "sent: it appears in the terminal, and as a "
      + (("Notification" in window && Notification.permission === "granted") ? "browser" : "desktop") + " notification";
    $("setup-notify").classList.add("done");
  };
  $("setup-done").onclick = () => {
    localStorage.setItem("posture.setupDone", "1");
    $("setup").classList.add("hidden");
    addEvent(events, "setup done");
    $("calibrate").focus();
  };
}

async function initNow() {
  await registry().catch(() => null);  // names and units before the first sample is shown
  const canvas = $("skeleton"), events = $("events");
  initSetup(events);
  registry().then(() => api("/api/status")).then((s) => { showStatus(s); showSetup(s); });
  loadToday().catch(() => {});
  setInterval(() => loadToday().catch(() => {}), 60_000);
  // The strip starts from the stored samples of the last 10 minutes, then runs live.
  api("/api/recent?minutes=10").then((r) => {
    const live = strip.points;
    strip.points = r.samples.map((p) => ({t: p.t_ms, neck_deg: p.neck_deg, thoracic_deg: p.thoracic_deg}))
      .filter((p) => !live.length || p.t < live[0].t).concat(live);
  }).catch(() => {});
  drawStrip();
  setInterval(drawStrip, 1000);
  showNotifyState();
  $("notify-allow").onclick = askNotifications;
  // The skeleton over the preview is drawn when a new picture arrives, so the two match.
  const overlay = $("overlay");
  let latest = null;
  $("preview").onload = () => {
    if (!latest || !latest.frame || !(latest.frame[0] > 0)) return;
    const height = Math.round(overlay.width * latest.frame[1] / latest.frame[0]);
    if (overlay.height !== height) overlay.height = height;
    drawSkeleton(overlay, latest.landmarks, latest.frame, true);
  };
  connectLive((m) => {
    if (m.kind === "sample") {
      showStatus(m); showSetup(m); addStripSample(m);
      if ("landmarks" in m) { drawSkeleton(canvas, m.landmarks, m.frame); latest = m; }
    }
    else if (m.kind === "posture_changed") addEvent(events, `posture ${m.state}`);
    else if (m.kind === "alert") {
      addEvent(events, `${m.title}: ${m.message}` + (m.browser ? " (browser notification)" : ""));
    }
    else if (m.kind === "camera_state_changed") addEvent(events, `camera ${m.state}${m.detail ? `: ${m.detail}` : ""}`);
    else if (m.kind === "calibration_finished") {
      const check = m.check || {};
      const text = m.ok ? `calibrated (${m.detail}). ${check.words || ""}`
        : check.looks_slouched ? `calibration not used yet: ${check.warning}` : `calibration failed: ${m.detail}`;
      addEvent(events, text);
      $("setup-calibrate-result").textContent = m.ok ? `done: ${check.words || m.detail}`
        : check.looks_slouched ? check.warning : `did not work: ${m.detail}; sit still, in view, and try again`;
      $("setup-calibrate").classList.toggle("done", m.ok);
    }
  }, () => {
    // The monitor cannot be reached: nothing is being watched, whatever was shown last.
    $("state").textContent = "not monitoring";
    $("banner").className = "banner off";
    $("banner").dataset.monitoring = "";
    $("reasons").textContent = "posture is not running (the monitor stopped), or cannot be reached";
    $("camera").textContent = "–";
  });
  $("calibration-redo").onclick = async () => { await api("/api/calibrate", {method: "POST", body: {seconds: 5}}); $("calibrated").textContent = "calibrating…"; };
  $("calibration-keep").onclick = async () => { await api("/api/calibrate/keep", {method: "POST"}); addEvent(events, "calibration kept"); };
  $("calibrate").onclick = async () => { await api("/api/calibrate", {method: "POST", body: {seconds: 5}}); $("calibrated").textContent = "calibrating…"; };
  $("snooze").onclick = async () => { await api("/api/snooze", {method: "POST"}); addEvent(events, "alerts snoozed"); };
  $("pause").onclick = async () => api("/api/pause", {method: "POST", body: {paused: !$("pause").dataset.paused}});
  $("preview-toggle").onchange = async (e) => {
    await api("/api/preview", {method: "POST", body: {enabled: e.target.checked}});
    $("preview-wrap").classList.toggle("hidden", !e.target.checked);
  };
  setInterval(() => {
    if ($("preview-toggle").checked) $("preview").src = `/api/preview.jpg?t=${Date.now()}`;
  }, 1000);
}

// --- Exercise ----------------------------------------------------------------------------
function speak(text) {
  if ($("speak").checked && "speechSynthesis" in window) {
    speechSynthesis.cancel();
    speechSynthesis.speak(new SpeechSynthesisUtterance(text));
  }
}

// What an exercise or routine shows: one status model (`activity` in /api/status and every
// live sample), so a reload or a command-line start shows the same as a start from here.
const PHASES = {settling: "sit still: finding your rest position", rest: "at rest: go when ready",
  moving: "moving", hold: "hold", release: "release: back to rest", set_rest: "rest between sets",
  done: "done"};

function faultWords(faults) {
  return faults.map((f) => f.label || f.fault.replaceAll("_", " ")).join(", ");
}

function repWords(rep) {
  if (!rep) return "";
  const held = rep.hold_s ? `, held ${rep.hold_s.toFixed(1)} s` : "";
  const like = rep.similarity == null ? "" : `, ${Math.round(rep.similarity)}% like the demonstration`;
  return rep.valid ? `Last rep: good (reached ${rep.depth_pct}% of your usual range${held}${like})`
    : `Last rep: partial (${faultWords(rep.faults)}; reached ${rep.depth_pct}% of your usual range${held}${like})`;
}

function summaryWords(s) {
  const minutes = Math.floor(s.duration_s / 60), seconds = String(s.duration_s % 60).padStart(2, "0");
  const head = `${s.title}: ${s.reps} good ${s.reps === 1 ? "rep" : "reps"}`
    + (s.prescribed ? ` of ${s.prescribed} prescribed` : "")
    + `, ${s.partial_reps} partial, in ${minutes}:${seconds} min.`;
  const items = [];
  if (s.faults.length) items.push(`Partial because: ${s.faults.map((f) => `${f.label} (${f.count})`).join(", ")}`);
  if (s.holds_s.length) items.push(`Holds: ${s.holds_s.map((h) => `${h} s`).join(", ")}`);
  return {head, items, tip: `Tip: ${s.tip}`};
}

function showSummary(s) {
  $("summary").classList.toggle("hidden", !s);
  if (!s) return;
  const words = summaryWords(s);
  $("summary-head").textContent = words.head;
  $("summary-items").replaceChildren(...words.items.map((t) => el("li", t)));
  $("summary-tip").textContent = words.tip;
}

function showActivity(a, monitoring) {
  const running = a && a.kind !== "idle";
  const since = running ? new Date(a.started_ms).toLocaleTimeString([], {hour: "2-digit", minute: "2-digit"}) : "";
  $("running").textContent = running ? `Running: ${a.title}, since ${since}` : "Nothing running";
  $("running").dataset.kind = a ? a.kind : "idle";
  const off = monitoring && !monitoring.active;
  $("start").disabled = Boolean(off);
  $("start-note").textContent = off ? `Start is off: not monitoring (${monitoring.reason}).` : "";
  if (!running) {
    $("phase").textContent = "–"; $("hold").textContent = "–"; $("program").textContent = "";
    $("hold-bar").style.width = "0";
    showSummary(a ? a.summary : null);
    return;
  }
  showSummary(null);
  const choice = $("choice"), value = `${a.kind === "routine" ? "program" : "exercise"}:${a.name}`;
  if (choice.value !== value) {
    if (![...choice.options].some((o) => o.value === value)) {
      // Started from a file on the command line: not in the list until now.
      const option = el("option", `${a.kind === "routine" ? "Routine" : "Exercise"}: ${a.title} (running)`);
      option.value = value; option.dataset.cue = a.step_cue || a.exercise.cue; choice.append(option);
    }
    choice.value = value; choice.onchange();
  }
  $("reps").textContent = a.reps;
  $("reps-target").textContent = a.target ? ` of ${a.target}` : "";
  $("partial").textContent = a.partial_reps;
  let phase = PHASES[a.phase] || a.phase;
  if (a.phase === "set_rest" && a.rest_left_s !== null) phase = `rest ${a.rest_left_s} s`;
  const hold = a.hold;
  if (hold && a.phase === "hold") {
    const left = Math.max(0, hold.target_s - hold.held_s);
    phase = left > 0 ? `hold: ${Math.ceil(left)} s left` : "hold done: release";
  }
  $("phase").textContent = phase;
  $("phase").dataset.phase = a.phase;
  $("hold").textContent = hold ? `${hold.held_s.toFixed(1)} of ${hold.target_s} s` : "no hold";
  $("hold-bar").style.width = hold ? `${Math.min(100, 100 * hold.held_s / Math.max(hold.target_s, 0.1))}%` : "0";
  $("program").textContent = a.kind === "routine"
    ? `${a.exercise.title} · step ${a.step} of ${a.steps} · set ${a.set} of ${a.sets} · ${a.total_reps} of ${a.total_target} reps in all` : "";
  const moment = {rest: "Ready for the next rep", moving: "Keep going", hold: "Hold it there",
    release: "Back to rest"};
  $("cue").textContent = a.cue.text || moment[a.phase] || "–";
  $("cue").dataset.kind = a.cue.kind;
  $("last-rep").textContent = repWords(a.last_rep);
  $("step-cue").textContent = a.kind === "routine" && a.cue.kind !== "step" ? `This step: ${a.step_cue}` : "";
}

// The exercise choice: built-in and learned exercises, routines, the user's own programs.
function fillChoices(data, selected) {
  const choice = $("choice");
  choice.replaceChildren();
  for (const ex of data.exercises) {
    const option = el("option", `${ex.title} (${ex.view}${ex.learned ? ", learned" : ""})`);
    option.value = `exercise:${ex.name}`;
    option.dataset.cue = ex.cue; choice.append(option);
  }
  const routines = new Map(data.routines.map((r) => [r.name, r]));
  for (const routine of data.routines) {
    const option = el("option", `Routine: ${routine.title}`); option.value = `program:${routine.name}`;
    choice.append(option);
  }
  for (const name of data.programs) {
    if (routines.has(name)) continue;  // a saved program of the same name is the one started
    const option = el("option", `My program: ${name.replaceAll("_", " ")}`); option.value = `program:${name}`;
    choice.append(option);
  }
  // The default: the user's own program, else the chin tuck.
  choice.value = selected || (data.programs.length ? `program:${data.programs[0]}` : "exercise:chin_tuck");
  choice.onchange = () => {
    $("exercise-cue").textContent = choice.selectedOptions[0].dataset.cue || "";
    const routine = routines.get(choice.value.split(":")[1]);
    $("routine-steps").replaceChildren(...(routine ? routine.steps : []).map((step) => el("li",
      `${step.title}: ${step.sets} × ${step.reps}${step.hold_s ? `, hold ${step.hold_s} s` : ""} · ${step.cue}`)));
  };
  choice.onchange();
}

// Teaching: the countdown's cue (spoken when it changes), then what was learned to review.
let teachPhase = null;
function showTeach(teach) {
  const phase = teach ? teach.phase : null;
  let cue = teach ? teach.cue : "";
  if (teach && teach.phase === "move" && teach.left_s !== null) cue += ` · ${Math.ceil(teach.left_s)} s left`;
  $("teach-cue").textContent = cue;
  $("teach-cue").dataset.kind = phase === "failed" ? "fault" : phase === "done" ? "good" : "";
  $("teach-cue").dataset.phase = phase || "";
  if (phase !== teachPhase && teach) speak(teach.cue);
  teachPhase = phase;
  const learned = teach && teach.learned;
  $("teach-result").classList.toggle("hidden", !learned);
  if (!learned || $("teach-learned").dataset.shown === String(learned.frames)) return;
  $("teach-learned").dataset.shown = String(learned.frames);
  const reps = learned.reps.map((r) => `${r.start_s.toFixed(1)}-${r.end_s.toFixed(1)} s`).join(", ");
  const moved = learned.moving.filter((m) => m.metric !== learned.metric).map((m) => m.part);
  const parts = learned.parts_moving.map((p) => p.part);
  const items = [
    learned.counted_by === "template"
      ? `Counts by: matching the whole body's movement (${learned.template_frames} frames)`
      : `Counts by: ${learned.label.toLowerCase()} (${learned.unit}), ${learned.direction === "increase" ? "up" : "down"} ` +
        `by ${learned.range} from ${learned.rest}; a repetition needs ${learned.min_range}`,
    `Body parts moving: ${parts.length ? parts.join(", ") : "little"}`,
    `Repetitions seen: ${learned.reps.length} (${reps})`,
    `Tempo: ${learned.tempo_s} s a repetition; hold: ${learned.hold_s ? `${learned.hold_s} s` : "none"}`,
    `Also moving: ${moved.length ? [...new Set(moved)].join(", ") : "nothing else"}`,
    `Form checks: ${[...new Set(learned.rules.map((r) => r.fault.replaceAll("_", " ")))].join(", ") || "none"}` +
      (learned.template_frames ? "; each repetition is scored against the demonstration" : "")];
  $("teach-learned").replaceChildren(...items.map((text) => el("li", text)));
}

async function initExercise() {
  await registry();
  const data = await api("/api/exercises");
  fillChoices(data);
  showCare(data.when_to_seek_care);
  const choice = $("choice");
  $("teach-record").onclick = async () => {
    $("teach-note").textContent = "";
    await api("/api/teach", {method: "POST", body: {seconds: Number($("teach-seconds").value)}});
  };
  $("teach-drop").onclick = async () => {
    await api("/api/teach", {method: "DELETE"});
    $("teach-note").textContent = "";
  };
  // Disabled in the page until now: a click before the page was ready did nothing.
  $("teach-record").disabled = $("teach-drop").disabled = false;
  $("teach-save").onclick = async () => {
    const name = $("teach-name").value.trim();
    const title = $("teach-title-input").value.trim();
    try {
      const saved = await api("/api/teach/save", {method: "POST", report: false,
        body: title ? {name, title} : {name}});
      fillChoices(await api("/api/exercises"), `exercise:${saved.saved}`);
      $("teach-note").textContent = `Saved as ${saved.saved}: chosen above, press Start to count it.`;
    } catch (error) {
      $("teach-note").textContent = `Not saved: ${error.message}`;
    }
  };
  $("start").onclick = async () => {
    const [kind, name] = choice.value.split(":");
    await api("/api/session", {method: "POST", body: {[kind]: name}});
    $("rep-log").replaceChildren();
    speak("Starting. " + ($("exercise-cue").textContent || ""));
  };
  $("stop").onclick = () => api("/api/session", {method: "DELETE"});
  const status = await api("/api/status");
  showActivity(status.activity, status.monitoring);
  showTeach(status.teach);
  const canvas = $("skeleton");
  let lastStepCue = "";
  connectLive((m) => {
    if (m.kind === "sample") {
      if ("landmarks" in m) drawSkeleton(canvas, m.landmarks, m.frame);
      showActivity(m.activity, m.monitoring);
      showTeach(m.teach);
      const stepCue = m.activity && m.activity.kind === "routine" ? m.activity.step_cue : "";
      if (stepCue && stepCue !== lastStepCue) speak(stepCue);
      lastStepCue = stepCue;
    } else if (m.kind === "form_fault") {
      $("cue").textContent = m.cue; $("cue").dataset.kind = "fault"; speak(m.cue);
    } else if (m.kind === "rep_finished") {
      const faults = m.faults.map((f) => ({fault: f, label: faultLabel(f)}));
      addEvent($("rep-log"), m.valid ? `good rep${m.hold_s ? `, held ${m.hold_s.toFixed(1)} s` : ""}`
        : `partial rep: ${faultWords(faults)}`);
      speak(m.valid ? "Good" : faultWords(faults));
    } else if (m.kind === "set_completed") {
      speak(`Set ${m.set_number} of ${m.sets} done. Rest.`);
    } else if (m.kind === "exercise_session_ended" && m.summary) {
      showSummary(m.summary);
      addEvent($("rep-log"), summaryWords(m.summary).head);
    } else if (m.kind === "camera_state_changed") {
      addEvent($("rep-log"), `camera ${m.state}${m.detail ? `: ${m.detail}` : ""}`);
    }
  }, () => showActivity(null, {active: false, reason: "posture is not running"}));
}

function faultLabel(name) {
  const known = REGISTRY ? REGISTRY.faults.find((f) => f.name === name) : null;
  return known ? known.label : name.replaceAll("_", " ");
}

// --- Trends ------------------------------------------------------------------------------
const charts = {};
function chart(id, type, labels, datasets, yMax) {
  if (charts[id]) charts[id].destroy();
  charts[id] = new Chart($(id), {type, data: {labels, datasets},
    options: {animation: false, responsive: true, scales: {y: {beginAtZero: true, max: yMax}}}});
  $(id).dataset.drawn = "1";
  $(id).dataset.labels = String(labels.length);
}

async function loadTrends(days) {
  const data = await api(`/api/trends?days=${days}`);
  const labels = data.days.map((d) => d.date.slice(5));
  chart("chart-slouch", "bar", labels, [{label: "% slouched", backgroundColor: "#e76f51",
    data: data.days.map((d) => d.slouched_share === null ? null : 100 * d.slouched_share)},
    {label: "% reclined (not a slouch)", backgroundColor: "#3a6ea5",
     data: data.days.map((d) => d.reclined_share == null ? null : 100 * d.reclined_share)}], 100);
  chart("chart-angles", "line", labels, [
    {label: "neck °", borderColor: "#264653", data: data.days.map((d) => d.neck_deg), spanGaps: true},
    {label: "thoracic °", borderColor: "#2a9d8f", data: data.days.map((d) => d.thoracic_deg), spanGaps: true}]);
  chart("chart-sitting", "bar", labels, [
    {label: "sitting h", backgroundColor: "#8ab17d", data: data.days.map((d) => d.sitting_h)},
    {label: "slouch alerts", backgroundColor: "#e9c46a", data: data.days.map((d) => d.slouch_alerts)},
    {label: "break reminders", backgroundColor: "#f4a261", data: data.days.map((d) => d.break_reminders)}]);
  chart("chart-reps", "bar", labels, [
    {label: "reps", backgroundColor: "#457b9d", data: data.days.map((d) => d.reps)},
    {label: "held s", backgroundColor: "#a8dadc", data: data.days.map((d) => d.hold_s)}]);
  chart("chart-hours", "bar", data.hours.map((h) => `${h.hour}h`), [{label: "% slouched",
    backgroundColor: "#e76f51", data: data.hours.map((h) => h.slouched_share === null ? null : 100 * h.slouched_share)}], 100);
  // Each chart in words, for screen readers and a quick read.
  const judged = data.days.filter((d) => d.judged_h > 0);
  const pct = (v) => `${Math.round(100 * v)}%`;
  const mean = (xs) => xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null;
  const slouch = mean(judged.map((d) => d.slouched_share));
  $("chart-slouch-summary").textContent = judged.length
    ? `${judged.length} of ${days} days monitored; slouched ${pct(slouch)} of judged time on average.`
    : `No monitored days in the last ${days} days.`;
  const necks = judged.map((d) => d.neck_deg).filter((v) => v !== null);
  $("chart-angles-summary").textContent = necks.length
    ? `Mean neck angle ${Math.min(...necks).toFixed(0)}–${Math.max(...necks).toFixed(0)}° across the days.` : "No angles yet.";
  const sitting = data.days.reduce((a, d) => a + d.sitting_h, 0);
  const alerts = data.days.reduce((a, d) => a + d.slouch_alerts, 0);
  const reminders = data.days.reduce((a, d) => a + d.break_reminders, 0);
  $("chart-sitting-summary").textContent = `${sitting.toFixed(1)} h sitting, ${alerts} slouch alerts, ${reminders} break reminders.`;
  const reps = data.days.reduce((a, d) => a + d.reps, 0);
  $("chart-reps-summary").textContent = `${reps} valid reps over ${days} days.`;
  const worst = data.hours.filter((h) => h.slouched_share !== null).sort((a, b) => b.slouched_share - a.slouched_share)[0];
  $("chart-hours-summary").textContent = worst ? `Most slouching at ${worst.hour}:00 (${pct(worst.slouched_share)}).` : "No hourly data yet.";
}

function initTrends() {
  for (const button of document.querySelectorAll(".period")) {
    button.onclick = () => loadTrends(button.dataset.days);
  }
  loadTrends(7);
}

// --- History -------------------------------------------------------------------------------
function rows(tbody, items, cells) {
  tbody.replaceChildren();
  if (!items.length) { const row = el("tr"); row.append(el("td", "nothing yet", "muted")); tbody.append(row); }
  for (const item of items) {
    const row = el("tr");
    for (const value of cells(item)) row.append(el("td", value));
    tbody.append(row);
  }
}

async function initHistory() {
  await registry();
  const data = await api("/api/history");
  rows($("sessions"), data.sessions, (s) => {
    const sum = s.summary, words = summaryWords(sum);
    const minutes = Math.floor(sum.duration_s / 60), seconds = String(sum.duration_s % 60).padStart(2, "0");
    return [fmtTime(s.started_ms), s.title, `${minutes}:${seconds}`, s.reps, s.partial_reps,
      [...words.items, words.tip].join(". ")];
  });
  rows($("alerts"), data.alerts, (a) => [fmtTime(a.t_ms), a.kind, a.message]);
  rows($("calibrations"), data.calibrations, (c) => [fmtTime(c.created_ms), c.name, c.view]);
}

// --- Settings ----------------------------------------------------------------------------
async function initSettings() {
  // The form is generated from the settings models: type, bounds, choices and meaning.
  const data = await api("/api/settings");
  $("settings-path").textContent = data.path;
  const form = $("settings-form");
  const initial = new Map();
  let section = null;
  // What a user comes for first (alerts and breaks), camera internals last.
  const ORDER = ["alerts", "breaks", "posture", "history", "monitor", "camera"];
  const rank = (doc) => (ORDER.indexOf(doc.section) + ORDER.length + 1) % (ORDER.length + 1);
  const docs = [...data.docs].sort((a, b) => rank(a) - rank(b));
  for (const doc of docs) {
    if (doc.section !== section) { section = doc.section; form.append(el("h2", section)); }
    const value = data.values[doc.section][doc.key];
    const label = el("label", null, "setting");
    const input = el(doc.choices.length ? "select" : "input");
    input.name = `${doc.section}.${doc.key}`;
    input.dataset.kind = doc.type;
    if (doc.choices.length) {
      for (const choice of doc.choices) input.append(el("option", choice));
      input.value = value;
    } else if (doc.type === "boolean") {
      input.type = "checkbox"; input.checked = value;
    } else if (doc.type === "number" || doc.type === "integer") {
      input.type = "number"; input.step = doc.type === "integer" ? "1" : "any"; input.value = value;
      if (doc.minimum !== null) input.min = doc.minimum;
      if (doc.maximum !== null) input.max = doc.maximum;
    } else {
      input.type = "text"; input.value = value;
    }
    initial.set(input.name, readInput(input));
    const range = doc.minimum !== null && doc.maximum !== null ? ` (${doc.minimum} to ${doc.maximum})` : "";
    input.dataset.range = range.trim();
    const error = el("span", "", "field-error error");
    error.id = `error-${input.name}`;
    error.setAttribute("role", "alert");
    input.setAttribute("aria-describedby", error.id);
    label.append(el("span", doc.key, "key"), input, el("small", doc.help + range), error);
    form.append(label);
  }
  initAutostart();
  const message = (text, kind) => { $("settings-message").textContent = text; $("settings-message").className = kind; };
  $("save-settings").onclick = async () => {
    // Only what the user changed here is saved; the rest of the file stays as it was.
    // Nothing is sent while a field holds no valid value, and "Saved" is said only when the
    // server has written the file.
    const changes = {};
    let wrong = 0;
    for (const input of form.querySelectorAll("input, select")) {
      const problem = inputProblem(input);
      fieldError(input, problem);
      if (problem) { wrong++; continue; }
      const value = readInput(input);
      if (value === initial.get(input.name)) continue;
      const [s, k] = input.name.split(".");
      (changes[s] ||= {})[k] = value;
    }
    if (wrong) { message(`Not saved: ${wrong === 1 ? "one field needs" : `${wrong} fields need`} a valid value.`, "error"); return; }
    if (!Object.keys(changes).length) { message("Nothing changed.", "ok"); return; }
    try {
      const saved = await api("/api/settings", {method: "PUT", body: changes, report: false});
      for (const input of form.querySelectorAll("input, select")) initial.set(input.name, readInput(input));
      message(saved.restart_needed.length ? `Saved. In use now: ${saved.applied.join(", ") || "nothing"}; `
        + `after a restart of posture run: ${saved.restart_needed.join(", ")}.` : "Saved and in use now.", "ok");
    } catch (error) {
      const input = error.field ? form.querySelector(`[name="${CSS.escape(error.field)}"]`) : null;
      if (input) fieldError(input, error.message.replace(/^(config |settings: )/, "").replace(`${error.field}: `, ""));
      message(error.status ? `Not saved: ${input ? "see the marked field" : error.message}.` : "Not saved: posture could not be reached.", "error");
    }
  };
}

// Start at login: the switch shows the entry's state and writes or removes it at once.
async function initAutostart() {
  const box = $("autostart"), note = $("autostart-message");
  const show = (state) => {
    box.checked = state.enabled;
    note.textContent = state.enabled ? (state.current ? `starts at login (${state.path})`
      : "an entry from another installation is there: switch off and on to update it")
      : "does not start at login";
  };
  show(await api("/api/autostart"));
  box.onchange = async () => {
    try {
      show(await api("/api/autostart", {method: "PUT", body: {enabled: box.checked}}));
    } catch (error) {
      box.checked = !box.checked;
      note.textContent = `Not changed: ${error.message}`;
    }
  };
}

function inputProblem(input) {
  const kind = input.dataset.kind;
  if (kind !== "number" && kind !== "integer") return "";
  const range = input.dataset.range ? ` ${input.dataset.range}` : "";
  if (input.value === "" && !input.validity.badInput) return `enter a number${range}`;
  const value = Number(input.value);
  if (input.validity.badInput || !Number.isFinite(value)) return `not a number${range}`;
  if (kind === "integer" && !Number.isInteger(value)) return `enter a whole number${range}`;
  if ((input.min !== "" && value < Number(input.min)) || (input.max !== "" && value > Number(input.max))) return `out of range${range}`;
  return "";
}

function fieldError(input, text) {
  const box = $(`error-${input.name}`);
  if (box) box.textContent = text;
  if (text) input.setAttribute("aria-invalid", "true"); else input.removeAttribute("aria-invalid");
}

function readInput(input) {
  const kind = input.dataset.kind;
  if (kind === "boolean") return input.checked;
  if (kind === "number" || kind === "integer") return input.value === "" ? null : Number(input.value);
  return input.value;
}

// --- Report --------------------------------------------------------------------------------
async function loadReport(days) {
  await registry();
  const r = await api(`/api/report?days=${days}`);
  $("csv").href = `/api/report.csv?days=${days}`;
  $("report-period").textContent = `Last ${days} days, generated ${fmtTime(r.generated_ms)}`;
  const p = r.posture;
  $("report-posture").replaceChildren(
    el("li", `Monitored ${p.judged_h} h; slouched ${p.slouched_share === null ? "–" : (100 * p.slouched_share).toFixed(1) + "%"} of that time`),
    el("li", `${p.slouch_alerts} slouch alerts, ${p.break_reminders} break reminders`));
  rows($("report-exercises"), r.exercise.by_exercise, (e) => [e.title, e.reps, e.partial_reps, e.hold_s]);
  $("report-faults").replaceChildren(...Object.entries(r.exercise.faults).map(([f, n]) => el("li", `${faultLabel(f)}: ${n}`)));
  $("report-programs").replaceChildren(...r.exercise.programs.map((g) => el("li", `${fmtTime(g.started_ms)} ${g.title}: ${g.completion === null ? "–" : Math.round(100 * g.completion) + "%"} done`)));
  showCare(r.when_to_seek_care);
  $("report-insights").replaceChildren(...(r.insights.length ? r.insights.map((i) => {
    const box = el("section", null, "insight"); box.dataset.kind = i.kind;
    box.append(el("h3", i.title), el("p", i.advice),
      el("p", `Evidence: ${i.evidence.summary}; on ${i.evidence.days.map((d) => d.date).join(", ")}.`, "evidence"));
    return box;
  }) : [el("p", "Nothing to advise yet: insights need at least 3 days with 30 minutes of monitoring.", "muted")]));
  rows($("report-daily"), r.daily, (d) => [d.date, d.slouched_share === null ? "–" : `${(100 * d.slouched_share).toFixed(0)}%`, d.judged_h, d.sitting_h, d.neck_deg ?? "–", d.slouch_alerts, d.reps]);
}

function initReport() {
  $("report-days").onchange = (e) => loadReport(e.target.value);
  $("print").onclick = () => window.print();
  loadReport(30);
}

document.addEventListener("DOMContentLoaded", () => {
  const page = document.body.dataset.page;
  renderNav(page);
  keepBrowserNotifications();
  ({now: initNow, exercise: initExercise, trends: initTrends, history: initHistory,
    settings: initSettings, report: initReport})[page]();
});
