// Gatehouse kiosk page: screens, an on-screen keyboard, idle reset. Plain JS, no framework.
"use strict";

const T = {
  "zh-CN": {
    welcome_title: "欢迎，请选择", visitor_reg: "访客登记", invite: "预约码取证", sign_out: "离开签退",
    worker_card: "施工人员领卡", privacy_short: "本机只向物业服务中心提交您的登记信息，不在本机保存。",
    privacy_full: "隐私提示：您填写的姓名、电话仅用于本次访客登记与安全管理，提交至物业服务中心，按规定期限删除；本机不保存任何个人信息。通行证上的姓名将部分隐藏。",
    name: "姓名", unit: "到访单元", pick_unit: "点此选择单元", unit_filter: "输入楼号或房号筛选", host: "被访人（选填）", purpose: "来访事由",
    p_visit: "探亲访友", p_delivery: "快递外卖", p_repair: "维修服务", p_business: "商务洽谈",
    party: "来访人数", phone: "手机号（选填）", back: "返回", confirm: "确认", agree_confirm: "同意并确认",
    invite_help: "请输入或扫描预约码。", code: "预约码", signout_help: "请在扫码器上扫描通行证，或输入通行证上的编号。",
    short_id: "编号", renovation_code: "装修备案号", id_last4: "身份证号后4位", valid: "有效期",
    done: "完成", ok: "好的", please_wait: "请稍候…", visitor_pass: "访客通行证", worker_pass: "人员临时出入卡",
    paper_warning: "打印机暂时无法打印：通行证将只显示在屏幕上。",
    printing: "正在打印凭条…", printed: "已打印，请取走凭条。",
    printed_near_end: "已打印，请取走凭条。（打印纸即将用完）",
    print_failed: "打印机缺纸或离线，未能打印。请用手机拍下屏幕上的二维码，或到前台领取纸质凭条。",
    unreachable_title: "暂时无法连接服务器", unreachable_text: "未生成任何通行证。请到前台办理。",
    desk_title: "请到前台办理", desk_text: "很抱歉，自助机无法完成此次办理，请到前台，工作人员会协助您。",
    invalid_title: "号码无效", invalid_text: "未找到该号码，或已失效。请核对后重试，或到前台办理。",
    collected_title: "此卡已领取", collected_text: "该工作卡已经打印过。补打请到前台办理。",
    signed_out_title: "已签退", signed_out_text: "{name}，感谢来访，再见！通行证已失效。",
    input_title: "请检查输入", kb_surnames: "常用姓氏", kb_space: "空格", kb_hide: "收起",
    err_name: "请填写姓名。", err_unit_id: "请选择到访单元。", err_purpose: "请选择或填写来访事由。",
    err_party_size: "人数须为1到20。", err_phone: "手机号只能是5到20位数字。", err_code: "请输入有效的号码。",
    err_pass: "请输入通行证编号。", err_renovation_code: "请输入装修备案号。", err_id_last4: "请输入身份证号后4位（数字，末位可为X）。",
    err_host_name: "被访人姓名过长。",
    lang_other: "English"
  },
  "en": {
    welcome_title: "Welcome — please choose", visitor_reg: "Visitor registration", invite: "Invitation code",
    sign_out: "Sign out", worker_card: "Worker card",
    privacy_short: "Your details go only to the property service centre; this kiosk keeps nothing.",
    privacy_full: "Privacy: your name and phone are used only for this visit and building security. They are sent to the property service centre and deleted after the retention period. This kiosk stores no personal data. Your name is partly hidden on the pass.",
    name: "Name", unit: "Unit visited", pick_unit: "Tap to pick the unit", unit_filter: "Type a building or room number to narrow the list", host: "Person visited (optional)",
    purpose: "Purpose", p_visit: "Visiting", p_delivery: "Delivery", p_repair: "Repair / service", p_business: "Business",
    party: "Party size", phone: "Mobile (optional)", back: "Back", confirm: "Confirm", agree_confirm: "Agree and confirm",
    invite_help: "Type or scan your invitation code.", code: "Code",
    signout_help: "Scan your pass at the scanner, or type the number printed on it.", short_id: "Number",
    renovation_code: "Renovation code", id_last4: "Last 4 characters of your ID", valid: "Valid",
    done: "Done", ok: "OK", please_wait: "Please wait…", visitor_pass: "Visitor pass", worker_pass: "Worker card",
    paper_warning: "The printer cannot print right now: your pass will be shown on screen only.",
    printing: "Printing your slip…", printed: "Printed — please take your slip.",
    printed_near_end: "Printed — please take your slip. (Paper is running low.)",
    print_failed: "The printer is out of paper or offline. Take a photo of the QR code on screen, or ask the front desk for a paper slip.",
    unreachable_title: "Cannot reach the server", unreachable_text: "No pass was issued. Please see the front desk.",
    desk_title: "Please see the front desk", desk_text: "Sorry, the kiosk cannot complete this. The front desk staff will help you.",
    invalid_title: "Invalid code", invalid_text: "That code was not found or is no longer valid. Check it and try again, or see the front desk.",
    collected_title: "Card already collected", collected_text: "This worker card was printed before. A reprint needs the front desk.",
    signed_out_title: "Signed out", signed_out_text: "Thank you for visiting, {name}. Your pass no longer works.",
    input_title: "Please check your entry", kb_surnames: "Surnames", kb_space: "Space", kb_hide: "Hide",
    err_name: "Please enter your name.", err_unit_id: "Please pick the unit you visit.", err_purpose: "Please pick or type a purpose.",
    err_party_size: "Party size must be 1 to 20.", err_phone: "Mobile number: 5 to 20 digits only.", err_code: "Please enter a valid code.",
    err_pass: "Please enter the pass number.", err_renovation_code: "Please enter the renovation code.",
    err_id_last4: "Enter the last 4 characters of your ID (digits; the last may be X).", err_host_name: "The name of the person visited is too long.",
    lang_other: "中文"
  }
};

// Common Chinese surnames: one tap puts the character in; the rest of a name is typed in
// pinyin on the Latin keys or with a hardware keyboard's input method (see the README).
const SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤";

const LAYOUTS = {
  text: ["1234567890", "QWERTYUIOP", "ASDFGHJKL", "ZXCVBNM"],
  code: ["1234567890", "QWERTYUIOP", "ASDFGHJKL-", "ZXCVBNM"],
  digits: ["123", "456", "789", "0"],
  id4: ["123", "456", "789", "X0"]
};

const state = { generation: 0, lang: "zh-CN", defaultLang: "zh-CN", idleMs: 60000, lastTouch: Date.now(), screen: "welcome",
  party: 1, purposeKey: null, units: [], activeInput: null, printPoll: null };
window.__gatehouseTimings = [];

const $ = (id) => document.getElementById(id);
const t = (key) => (T[state.lang] && T[state.lang][key]) || T["zh-CN"][key] || key;

function applyLang() {
  document.documentElement.lang = state.lang;
  document.querySelectorAll("[data-i18n]").forEach((el) => { el.textContent = t(el.dataset.i18n); });
  $("lang-toggle").textContent = t("lang_other");
  if ($("unit_id").value) { $("unit-btn").textContent = $("unit-btn").dataset.label; }
  if (state.screen === "pass" && state.lastPass) { fillPass(state.lastPass); }
  buildKeys();
}

function show(name) {
  document.querySelectorAll(".screen").forEach((s) => s.classList.toggle("active", s.id === "screen-" + name));
  state.screen = name;
  hideKeyboard();
  if (name === "visitor" || name === "invite" || name === "worker") { checkPaper(name); }
  window.scrollTo(0, 0);
}

// Every typed or picked value goes; nothing of the last person stays on screen or in memory.
function resetAll() {
  state.generation += 1; // an answer still on its way is dropped, not shown to the next person
  document.querySelectorAll("input").forEach((i) => { i.value = ""; });
  document.querySelectorAll(".error").forEach((e) => { e.hidden = true; e.textContent = ""; });
  document.querySelectorAll(".chip").forEach((c) => c.classList.remove("chosen"));
  $("unit-btn").classList.remove("chosen");
  $("unit-btn").dataset.label = "";
  state.party = 1; $("party").textContent = "1"; state.purposeKey = null;
  $("pass-qr").innerHTML = ""; ["pass-name", "pass-unit", "pass-valid", "pass-short", "print-state"].forEach((id) => { $(id).textContent = ""; });
  $("message-text").textContent = "";
  state.lastPass = null;
  if (state.printPoll) { clearTimeout(state.printPoll); state.printPoll = null; }
  state.lang = state.defaultLang;
  applyLang();
  show("welcome");
}

// Typing part of a unit number narrows the list (large estates have hundreds of units).
$("unit-filter").addEventListener("input", () => {
  const want = $("unit-filter").value.toUpperCase();
  document.querySelectorAll(".unit-option").forEach((b) => { b.hidden = !b.textContent.toUpperCase().includes(want); });
});

function touched() { state.lastTouch = Date.now(); }
["pointerdown", "keydown", "input"].forEach((ev) => document.addEventListener(ev, touched, true));
setInterval(() => {
  if (Date.now() - state.lastTouch >= state.idleMs && (state.screen !== "welcome" || state.lang !== state.defaultLang || anyTyped())) {
    resetAll();
  }
}, 500);
function anyTyped() { return Array.from(document.querySelectorAll("input")).some((i) => i.value !== ""); }

// ---- on-screen keyboard ----
function buildKeys() {
  const input = state.activeInput;
  const layout = LAYOUTS[(input && input.dataset.kb) || "text"];
  const keys = $("keys");
  keys.innerHTML = "";
  layout.forEach((row) => {
    const r = document.createElement("div"); r.className = "row";
    row.split("").forEach((ch) => r.appendChild(key(ch, ch)));
    keys.appendChild(r);
  });
  const last = document.createElement("div"); last.className = "row";
  if (input && input.dataset.kb === "text") {
    last.appendChild(key(t("kb_surnames"), "#surnames", "wide"));
    last.appendChild(key(t("kb_space"), " ", "wide"));
  }
  last.appendChild(key("⌫", "#back", "wide"));
  last.appendChild(key(t("kb_hide"), "#hide", "wide"));
  keys.appendChild(last);
}

function key(label, value, cls) {
  const b = document.createElement("button");
  b.type = "button"; b.textContent = label; b.dataset.key = value;
  if (cls) { b.className = cls; }
  return b;
}

function typeInto(input, text) {
  const max = Number(input.getAttribute("maxlength")) || 999;
  const start = input.selectionStart == null ? input.value.length : input.selectionStart;
  const end = input.selectionEnd == null ? input.value.length : input.selectionEnd;
  let v = input.value.slice(0, start) + text + input.value.slice(end);
  if (v.length > max) { return; }
  input.value = v;
  input.setSelectionRange(start + text.length, start + text.length);
}

function pressKey(value) {
  const input = state.activeInput;
  if (!input) { return; }
  if (value === "#hide") { hideKeyboard(); return; }
  if (value === "#surnames") { $("surnames").hidden = !$("surnames").hidden; return; }
  if (value === "#back") {
    const s = input.selectionStart, e = input.selectionEnd;
    if (s !== e) { input.value = input.value.slice(0, s) + input.value.slice(e); input.setSelectionRange(s, s); }
    else if (s > 0) { input.value = input.value.slice(0, s - 1) + input.value.slice(s); input.setSelectionRange(s - 1, s - 1); }
  } else {
    // Names read better in lower case pinyin after the first letter.
    const lower = input.dataset.kb === "text" && input.value.length > 0 && /[A-Z]/.test(value) && !/\s$/.test(input.value);
    typeInto(input, lower ? value.toLowerCase() : value);
  }
  input.dispatchEvent(new Event("input", { bubbles: true }));
}

// Pinyin candidates: the letters just before the caret in a name field, if they spell a
// syllable of PINYIN (pinyin.js), offer its characters; a tap replaces the letters with the
// character, so "wang" + 王 + "fang" + 芳 types 王芳. Ignoring the bar keeps the letters
// (English names).
function pinyinBefore(input) {
  if (!input || input.dataset.kb !== "text") { return ""; }
  const m = /[A-Za-z]+$/.exec(input.value.slice(0, input.selectionStart == null ? input.value.length : input.selectionStart));
  return m ? m[0] : "";
}
function showCandidates() {
  const bar = $("candidates");
  const letters = pinyinBefore(state.activeInput);
  const chars = (letters && PINYIN[letters.toLowerCase()]) || "";
  bar.innerHTML = "";
  chars.split("").forEach((c) => { const b = key(c, c); b.dataset.candidate = letters.length; bar.appendChild(b); });
  bar.hidden = chars === "";
}
function pickCandidate(ch, letters) {
  const input = state.activeInput;
  if (!input) { return; }
  const end = input.selectionStart == null ? input.value.length : input.selectionStart;
  input.setSelectionRange(end - letters, end);
  typeInto(input, ch);
  input.dispatchEvent(new Event("input", { bubbles: true }));
}

function showKeyboard(input) {
  state.activeInput = input;
  buildKeys();
  $("surnames").hidden = true;
  $("keyboard").hidden = false;
  showCandidates();
}
function hideKeyboard() { $("keyboard").hidden = true; state.activeInput = null; }
// A hardware keyboard types too: keep the candidates in step with the field.
// No way out of the kiosk: a right click or a long press opens no menu (copy, search, print,
// inspect) and selects nothing.
document.addEventListener("contextmenu", (e) => e.preventDefault(), { capture: true });
document.addEventListener("selectstart", (e) => {
  const el = e.target.nodeType === 1 ? e.target : e.target.parentElement;
  if (!el || !el.closest("input, textarea")) { e.preventDefault(); }
}, { capture: true });
document.addEventListener("input", (e) => { if (e.target === state.activeInput) { showCandidates(); } });

// A tap anywhere but an input or the keyboard puts the keyboard away, so it never hides a button.
document.addEventListener("pointerdown", (e) => {
  if (!$("keyboard").hidden && !e.target.closest("#keyboard") && !(e.target.matches && e.target.matches("input[data-kb]"))) { hideKeyboard(); }
}, true);
document.addEventListener("focusin", (e) => { if (e.target.matches && e.target.matches("input[data-kb]")) { showKeyboard(e.target); } });
// Tapping the field that still has the focus, after "hide", brings the keyboard back.
document.addEventListener("click", (e) => {
  if (e.target.matches && e.target.matches("input[data-kb]") && $("keyboard").hidden) { showKeyboard(e.target); }
});
// pointerdown + preventDefault keeps the focus (and caret) in the input while keys are tapped.
$("keyboard").addEventListener("pointerdown", (e) => {
  const b = e.target.closest("button");
  e.preventDefault();
  if (!b) { return; }
  if (b.dataset.surname) {
    if (state.activeInput) { typeInto(state.activeInput, b.dataset.surname); state.activeInput.dispatchEvent(new Event("input", { bubbles: true })); }
    $("surnames").hidden = true;
  } else if (b.dataset.candidate) {
    pickCandidate(b.dataset.key, Number(b.dataset.candidate));
  } else { pressKey(b.dataset.key); }
  showCandidates();
});
SURNAMES.split("").forEach((s) => { const b = key(s, s); b.dataset.surname = s; $("surnames").appendChild(b); });

// ---- server calls ----
async function api(path, body) {
  let resp;
  try {
    resp = await fetch(path, body === undefined ? {} : { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
  } catch (e) {
    return { ok: false, data: { error: "server_unreachable" } };
  }
  let data = {};
  try { data = await resp.json(); } catch (e) { data = { error: "server_unreachable" }; }
  return { ok: resp.ok, data };
}

async function checkPaper(screen) {
  const banner = $(screen + "-paper");
  banner.hidden = true;
  const r = await api("/api/status");
  banner.hidden = !(r.ok && r.data.can_print === false);
}

function showNotice(code, errorEl) {
  const screens = {
    server_unreachable: ["unreachable_title", "unreachable_text"],
    see_front_desk: ["desk_title", "desk_text"],
    invalid_code: ["invalid_title", "invalid_text"],
    already_collected: ["collected_title", "collected_text"],
  };
  if (code === "invalid_input" && errorEl) { return; }
  const [title, text] = screens[code] || screens.see_front_desk;
  $("message-title").textContent = t(title);
  $("message-title").dataset.code = code;
  $("message-text").textContent = t(text);
  show("message");
}

async function submit(path, body, errorEl, button) {
  const started = performance.now();
  const generation = state.generation;
  errorEl.hidden = true;
  button.disabled = true; $("busy").hidden = false;
  const r = await api(path, body);
  button.disabled = false; $("busy").hidden = true;
  if (generation !== state.generation) { return null; }
  if (r.ok) { return { data: r.data, started }; }
  if (r.data.error === "invalid_input") {
    errorEl.textContent = r.data.field ? t("err_" + r.data.field) : t("input_title") + "：" + (r.data.message || "");
    errorEl.hidden = false;
    const field = r.data.field && document.querySelector("[name='" + r.data.field + "']");
    if (field && field.type !== "hidden") { field.focus(); }
    return null;
  }
  showNotice(r.data.error, null);
  return null;
}

function fillPass(p) {
  $("pass-title").textContent = t(p.kind === "worker" ? "worker_pass" : "visitor_pass");
  $("pass-name").textContent = p.holder_masked;
  $("pass-unit").textContent = p.unit_label;
  $("pass-valid").textContent = state.lang === "en" ? p.validity_en : p.validity_zh;
  $("pass-short").textContent = p.short_id;
  const ps = $("print-state");
  ps.textContent = t(state.printKey || "printing");
  ps.classList.toggle("problem", state.printKey === "print_failed");
}

function showPass(p, started) {
  state.lastPass = p; state.printKey = "printing";
  $("pass-qr").innerHTML = p.qr_svg;
  fillPass(p);
  show("pass");
  requestAnimationFrame(() => { window.__gatehouseTimings.push(performance.now() - started); });
  pollPrint(p.card_id, 0);
}

function pollPrint(card, tries) {
  state.printPoll = setTimeout(async () => {
    if (!state.lastPass || state.lastPass.card_id !== card) { return; }
    const r = await api("/api/prints/" + card);
    if (r.ok && r.data.done) {
      const o = r.data.outcome;
      state.printKey = o.result !== "printed" ? "print_failed" : (o.paper === "near_end" ? "printed_near_end" : "printed");
      $("print-state").dataset.result = o.result;
      fillPass(state.lastPass);
    } else if (tries < 80) { pollPrint(card, tries + 1); }
  }, 200);
}

// ---- flows ----
document.addEventListener("click", (e) => {
  const go = e.target.closest("[data-go]");
  if (!go) { return; }
  if (go.dataset.go === "welcome") { resetAll(); return; }
  show(go.dataset.go);
});
$("lang-toggle").addEventListener("click", () => {
  state.lang = state.lang === "zh-CN" ? "en" : "zh-CN";
  applyLang();
});

$("unit-btn").addEventListener("click", async () => {
  const list = $("unit-list");
  list.innerHTML = "";
  const r = await api("/api/units");
  if (!r.ok) { showNotice(r.data.error, null); return; }
  r.data.forEach((u) => {
    const b = document.createElement("button");
    b.type = "button"; b.className = "unit-option"; b.dataset.unitId = u.unit_id; b.textContent = u.label;
    b.addEventListener("click", () => {
      $("unit_id").value = String(u.unit_id);
      $("unit-btn").textContent = u.label; $("unit-btn").dataset.label = u.label;
      $("unit-btn").classList.add("chosen");
      show("visitor");
    });
    list.appendChild(b);
  });
  $("unit-filter").value = "";
  show("units");
});

// Typing part of a unit number narrows the list (large estates have hundreds of units).
$("unit-filter").addEventListener("input", () => {
  const want = $("unit-filter").value.toUpperCase();
  document.querySelectorAll(".unit-option").forEach((b) => { b.hidden = !b.textContent.toUpperCase().includes(want); });
});

document.querySelectorAll(".chip").forEach((c) => c.addEventListener("click", () => {
  document.querySelectorAll(".chip").forEach((o) => o.classList.toggle("chosen", o === c));
  $("purpose").value = t(c.dataset.i18n);
}));
$("party-minus").addEventListener("click", () => { state.party = Math.max(1, state.party - 1); $("party").textContent = state.party; });
$("party-plus").addEventListener("click", () => { state.party = Math.min(20, state.party + 1); $("party").textContent = state.party; });

$("visitor-confirm").addEventListener("click", async () => {
  const unit = Number($("unit_id").value) || null;
  const body = { name: $("name").value, unit_id: unit, host_name: $("host_name").value, purpose: $("purpose").value,
    party_size: state.party, phone: $("phone").value };
  const r = await submit("/api/visitors", body, $("visitor-error"), $("visitor-confirm"));
  if (r) { showPass(r.data, r.started); }
});
$("invite-confirm").addEventListener("click", async () => {
  const r = await submit("/api/invites", { code: $("invite-code").value }, $("invite-error"), $("invite-confirm"));
  if (r) { showPass(r.data, r.started); }
});
$("worker-confirm").addEventListener("click", async () => {
  const r = await submit("/api/worker-cards", { renovation_code: $("renovation-code").value, id_last4: $("id-last4").value },
    $("worker-error"), $("worker-confirm"));
  if (r) { showPass(r.data, r.started); }
});
async function signOut(pass) {
  const r = await submit("/api/sign-out", { pass }, $("signout-error"), $("signout-confirm"));
  if (r) {
    $("message-title").textContent = t("signed_out_title");
    $("message-title").dataset.code = "signed_out";
    $("message-text").textContent = t("signed_out_text").replace("{name}", r.data.holder_masked);
    show("message");
  }
}
$("signout-confirm").addEventListener("click", () => signOut($("signout-pass").value));

// A scan goes to whatever the screen is waiting for: an invite code, or a pass to sign out.
if (window.EventSource) {
  const scans = new EventSource("/api/scans");
  scans.addEventListener("scan", (e) => {
    touched();
    // A pass is long base45 text; anything shorter scanned at the welcome screen is an invite code.
    const isPass = /^[0-9A-Z $%*+\-./:]{40,}$/.test(e.data);
    if (state.screen === "invite" || (state.screen === "welcome" && !isPass)) {
      show("invite"); $("invite-code").value = e.data; $("invite-confirm").click();
    } else if (state.screen === "welcome" || state.screen === "signout") { show("signout"); signOut(e.data); }
  });
}

(async function start() {
  const r = await api("/api/settings");
  if (r.ok) {
    state.idleMs = r.data.idle_timeout_ms;
    state.defaultLang = r.data.languages[0] || "zh-CN";
    state.lang = state.defaultLang;
    $("estate-name").textContent = r.data.estate_name;
    if (r.data.has_logo) { $("logo").src = "/assets/logo"; $("logo").hidden = false; }
    if (r.data.languages.length < 2) { $("lang-toggle").hidden = true; }
  }
  applyLang();
})();
