// Gatehouse kiosk page: screens, an on-screen keyboard, idle reset. Plain JS, no framework.
"use strict";

const T = {
  "zh-CN": {
    welcome_title: "欢迎，请选择", visitor_reg: "访客登记", invite: "预约码取证", sign_out: "离开签退",
    worker_card: "施工人员领卡", privacy_short: "本机只向物业服务中心提交您的登记信息，不在本机保存。",
    privacy_full: "隐私提示：您填写的姓名、电话仅用于本次访客登记与安全管理，提交至物业服务中心，按规定期限删除；本机不保存任何个人信息。通行证上的姓名将部分隐藏。",
    name: "姓名", unit: "到访单元", pick_unit: "点此选择单元", host: "被访人（选填）", purpose: "来访事由",
    p_visit: "探亲访友", p_delivery: "快递外卖", p_repair: "维修服务", p_business: "商务洽谈",
    party: "来访人数", phone: "手机号（选填）", back: "返回", confirm: "确认", agree_confirm: "同意并确认",
    invite_help: "请输入或扫描预约码。", code: "预约码", signout_help: "请在扫码器上扫描通行证，或输入通行证上的编号。",
    short_id: "编号", renovation_code: "装修备案号", id_last4: "身份证号后4位", collection_code: "取卡验证码（前台提供）", valid: "有效期",
    done: "完成", ok: "好的", please_wait: "请稍候…", visitor_pass: "访客通行证", worker_pass: "人员临时出入卡",
    paper_warning: "打印机暂时无法打印：通行证将只显示在屏幕上。",
    printing: "正在打印凭条…", printed: "已打印，请取走凭条。",
    printed_near_end: "已打印，请取走凭条。（打印纸即将用完）",
    print_failed: "打印机缺纸或离线，未能打印。请用手机拍下屏幕上的二维码，或到前台领取纸质凭条。",
    unreachable_title: "暂时无法连接服务器", unreachable_text: "未生成任何通行证。请到前台办理。",
    desk_title: "请到前台办理", desk_text: "很抱歉，自助机无法完成此次办理，请到前台，工作人员会协助您。",
    invalid_title: "号码无效", invalid_text: "未找到该号码，或已失效。请核对后重试，或到前台办理。",
    collected_title: "此卡已领取", collected_text: "该工作卡已经打印过。补打请到前台办理。",
    issued_desk_title: "您的工作卡已由前台发放", issued_desk_text: "前台已于 {t} 发放此工作卡，请使用前台给您的卡。卡丢失或损坏需要补打，请到前台办理。",
    issued_desk_text_untimed: "前台已发放此工作卡，请使用前台给您的卡。卡丢失或损坏需要补打，请到前台办理。",
    pending_title: "等待被访人同意", pending_text: "您的登记已提交。本楼的访客须经被访人同意才能发放通行证，前台正在联系被访人。请到前台稍候，被访人同意后由前台为您发放通行证。",
    signed_out_title: "已签退", signed_out_text: "{name}，感谢来访，再见！通行证已失效。",
    input_title: "请检查输入", kb_surnames: "常用姓氏", kb_space: "空格", kb_hide: "收起",
    err_name: "请填写姓名。", err_unit_id: "请选择到访单元。", err_purpose: "请选择或填写来访事由。",
    err_party_size: "人数须为1到20。", err_phone: "手机号只能是5到20位数字。", err_code: "请输入有效的号码。",
    err_pass: "请输入通行证编号。", err_renovation_code: "请输入装修备案号。", err_id_last4: "请输入身份证号后4位（数字，末位可为X）。", err_collection_code: "请输入前台提供的取卡验证码（6至12位数字）。",
    err_host_name: "被访人姓名过长。",
    out_of_service: "暂停服务：自助机无法连接物业服务器，请到前台办理。",
    purpose_other: "或填写其他事由", try_again: "修改", home: "返回首页", still_here: "继续办理",
    idle_warning: "还在吗？{n} 秒后返回首页，已填写的内容将清除。", pass_countdown: "{n} 秒后自动关闭，以免他人看到您的通行证。",
    kb_next: "下一项", kb_done: "完成", kb_keys: "键盘",
    unit_building: "请选择楼栋", unit_floor: "请选择楼层", unit_room: "请选择单元", building_n: "{n}号楼", floor_n: "{n}层",
    worker_unit: "施工单元",
    renovation_code_hint: "装修备案号印在《装修备案登记证》上，可向业主或施工负责人索取。",
    req: "必填", req_pick: "请选择", too_long: "过长", phone_short: "5–20位数字", id4_short: "4位，末位可为X", code_short: "6–12位数字", party_short: "1–20人",
    redeemed_title: "预约码已使用", redeemed_text: "此预约码已经换过通行证。如需再次进入，请联系被访人或到前台办理。",
    not_today_title: "预约码不是今天的", not_today_text: "此预约码不能在今天使用，请核对日期，或到前台办理。",
    signed_out_before_title: "通行证已签退", signed_out_before_text: "这张通行证已经签退过，无需再次签退。",
    worker_invalid_title: "未找到登记信息", worker_invalid_text: "装修备案号、身份证号后4位与取卡验证码不匹配。请核对后修改，或到前台办理。",
    pass_invalid_title: "未找到该通行证", pass_invalid_text: "请核对通行证上的编号后修改，或到前台办理。",
    staff: "工作人员", staff_title: "工作人员：打印疏散名单", staff_help: "刷工作人员卡或输入工作人员密码，打印本机保存的在场人员名单（服务器中断时也可打印）。",
    muster_print: "打印", staff_card_printing: "已识别工作人员卡，正在打印疏散名单。", wrong_pin: "密码错误", no_staff_pin: "本机未设置工作人员密码", no_copy: "本机尚无名单副本",
    muster_printed: "名单已打印（名单时间 {t}）。", muster_not_printed: "打印机无法打印（缺纸或离线），名单时间 {t}。",
    lang_other: "English"
  },
  "en": {
    welcome_title: "Welcome — please choose", visitor_reg: "Visitor registration", invite: "Invitation code",
    sign_out: "Sign out", worker_card: "Worker card",
    privacy_short: "Your details go only to the property service centre; this kiosk keeps nothing.",
    privacy_full: "Privacy: your name and phone are used only for this visit and building security. They are sent to the property service centre and deleted after the retention period. This kiosk stores no personal data. Your name is partly hidden on the pass.",
    name: "Name", unit: "Unit visited", pick_unit: "Tap to pick the unit", host: "Person visited (optional)",
    purpose: "Purpose", p_visit: "Visiting", p_delivery: "Delivery", p_repair: "Repair / service", p_business: "Business",
    party: "Party size", phone: "Mobile (optional)", back: "Back", confirm: "Confirm", agree_confirm: "Agree and confirm",
    invite_help: "Type or scan your invitation code.", code: "Code",
    signout_help: "Scan your pass at the scanner, or type the number printed on it.", short_id: "Number",
    renovation_code: "Renovation code", id_last4: "Last 4 characters of your ID", collection_code: "Collection code (from the front desk)", valid: "Valid",
    done: "Done", ok: "OK", please_wait: "Please wait…", visitor_pass: "Visitor pass", worker_pass: "Worker card",
    paper_warning: "The printer cannot print right now: your pass will be shown on screen only.",
    printing: "Printing your slip…", printed: "Printed — please take your slip.",
    printed_near_end: "Printed — please take your slip. (Paper is running low.)",
    print_failed: "The printer is out of paper or offline. Take a photo of the QR code on screen, or ask the front desk for a paper slip.",
    unreachable_title: "Cannot reach the server", unreachable_text: "No pass was issued. Please see the front desk.",
    desk_title: "Please see the front desk", desk_text: "Sorry, the kiosk cannot complete this. The front desk staff will help you.",
    invalid_title: "Invalid code", invalid_text: "That code was not found or is no longer valid. Check it and try again, or see the front desk.",
    collected_title: "Card already collected", collected_text: "This worker card was printed before. A reprint needs the front desk.",
    issued_desk_title: "Your card was issued at the front desk", issued_desk_text: "The front desk issued this worker card on {t}; please use the card they gave you. For a reprint (lost or damaged), ask the front desk.",
    issued_desk_text_untimed: "The front desk has issued this worker card; please use the card they gave you. For a reprint (lost or damaged), ask the front desk.",
    pending_title: "Waiting for your host's approval", pending_text: "Your registration has been sent. In this building your host must agree before a pass is issued, and the front desk is contacting them. Please wait at the front desk; once your host agrees, the desk gives you your pass.",
    signed_out_title: "Signed out", signed_out_text: "Thank you for visiting, {name}. Your pass no longer works.",
    input_title: "Please check your entry", kb_surnames: "Surnames", kb_space: "Space", kb_hide: "Hide",
    err_name: "Please enter your name.", err_unit_id: "Please pick the unit you visit.", err_purpose: "Please pick or type a purpose.",
    err_party_size: "Party size must be 1 to 20.", err_phone: "Mobile number: 5 to 20 digits only.", err_code: "Please enter a valid code.",
    err_pass: "Please enter the pass number.", err_renovation_code: "Please enter the renovation code.",
    err_id_last4: "Enter the last 4 characters of your ID (digits; the last may be X).", err_collection_code: "Enter the collection code the front desk gave you (6 to 12 digits).", err_host_name: "The name of the person visited is too long.",
    out_of_service: "Out of service: the kiosk cannot reach the property server. Please see the front desk.",
    purpose_other: "or type another purpose", try_again: "Try again", home: "Start over", still_here: "Continue",
    idle_warning: "Still there? Back to the start in {n} s; what you typed will be cleared.", pass_countdown: "This screen closes in {n} s so nobody else sees your pass.",
    kb_next: "Next", kb_done: "Done", kb_keys: "Keys",
    unit_building: "Pick the building", unit_floor: "Pick the floor", unit_room: "Pick the unit", building_n: "Building {n}", floor_n: "Floor {n}",
    worker_unit: "Unit under renovation",
    renovation_code_hint: "The renovation code is printed on the renovation registration certificate (装修备案登记证); ask the owner or your site supervisor.",
    req: "Required", req_pick: "Pick one", too_long: "Too long", phone_short: "5–20 digits", id4_short: "4 characters; last may be X", code_short: "6–12 digits", party_short: "1–20",
    redeemed_title: "Invitation already used", redeemed_text: "This invitation code has already been exchanged for a pass. Ask your host for a new one, or see the front desk.",
    not_today_title: "Invitation not for today", not_today_text: "This invitation code cannot be used today. Check the date, or see the front desk.",
    signed_out_before_title: "Already signed out", signed_out_before_text: "This pass was signed out before; nothing more to do.",
    worker_invalid_title: "No registration found", worker_invalid_text: "The renovation code, the last 4 characters of the ID and the collection code do not match. Check them, or see the front desk.",
    pass_invalid_title: "Pass not found", pass_invalid_text: "Check the number printed on your pass and try again, or see the front desk.",
    staff: "Staff", staff_title: "Staff: print the muster list", staff_help: "Scan your staff card or enter the staff PIN to print the list of people on site kept by this kiosk (works while the server is down).",
    muster_print: "Print", staff_card_printing: "Staff card recognised: printing the muster list.", wrong_pin: "Wrong PIN", no_staff_pin: "No staff PIN is set on this kiosk", no_copy: "The kiosk holds no copy of the list yet",
    muster_printed: "List printed (list as of {t}).", muster_not_printed: "The printer cannot print (paper out or offline); list as of {t}.",
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
/** Seconds a pass stays on screen, and how long before the idle reset the warning shows. */
const PASS_SECS = 15, PASS_SECS_UNPRINTED = 30, IDLE_WARN_SECS = 10;

const state = { generation: 0, lang: "zh-CN", defaultLang: "zh-CN", idleMs: 60000, lastTouch: Date.now(), screen: "welcome",
  party: 1, purposeKey: null, units: [], unitPath: [], activeInput: null, printPoll: null, formScreen: null,
  passTimer: null, passLeft: 0, candPage: 0, online: true, pin: "" };
window.__gatehouseTimings = [];

const $ = (id) => document.getElementById(id);
const t = (key) => (T[state.lang] && T[state.lang][key]) || T["zh-CN"][key] || key;
const fill = (key, vars) => Object.entries(vars).reduce((s, [k, v]) => s.replace("{" + k + "}", v), t(key));

function applyLang() {
  const before = state.purposeKey && $("purpose").value;
  document.documentElement.lang = state.lang;
  document.querySelectorAll("[data-i18n]").forEach((el) => { el.textContent = t(el.dataset.i18n); });
  document.querySelectorAll("[data-i18n-placeholder]").forEach((el) => { el.placeholder = t(el.dataset.i18nPlaceholder); });
  $("lang-toggle").textContent = t("lang_other");
  if ($("unit_id").value) { $("unit-btn").textContent = $("unit-btn").dataset.label; }
  // A purpose picked from a chip follows the language, so the desk reads one language.
  if (before) { $("purpose").value = t("p_" + state.purposeKey); }
  document.querySelectorAll(".field-error").forEach((el) => { if (el.dataset.key) { el.textContent = t(el.dataset.key); } });
  if (state.screen === "pass" && state.lastPass) { fillPass(state.lastPass); }
  if (state.screen === "units") { renderUnits(); }
  if (state.screen === "message" && state.message) { fillMessage(); }
  buildKeys();
  if (!$("keyboard").hidden) { showCandidates(); updateEcho(); }
}

function show(name) {
  document.querySelectorAll(".screen").forEach((s) => s.classList.toggle("active", s.id === "screen-" + name));
  state.screen = name;
  hideKeyboard();
  if (name === "visitor" || name === "invite" || name === "worker" || name === "signout") { state.formScreen = name; }
  if (name === "visitor" || name === "invite" || name === "worker") { checkPaper(name); }
  if (name === "welcome") { checkOnline(); }
  if (name !== "pass") { stopPassTimer(); }
  window.scrollTo(0, 0);
}

// Every typed or picked value goes; nothing of the last person stays on screen or in memory.
function resetAll() {
  state.generation += 1; // an answer still on its way is dropped, not shown to the next person
  document.querySelectorAll("input").forEach((i) => { i.value = ""; });
  document.querySelectorAll(".error").forEach((e) => { e.hidden = true; e.textContent = ""; });
  clearFieldErrors(document);
  document.querySelectorAll(".chip").forEach((c) => c.classList.remove("chosen"));
  $("unit-btn").classList.remove("chosen");
  $("unit-btn").dataset.label = "";
  state.party = 1; $("party").textContent = "1"; state.purposeKey = null;
  $("pass-qr").innerHTML = ""; ["pass-name", "pass-unit", "pass-valid", "pass-short", "print-state", "pass-countdown", "staff-result"].forEach((id) => { $(id).textContent = ""; });
  $("message-text").textContent = ""; $("pending-unit").textContent = "";
  state.lastPass = null; state.message = null; state.formScreen = null; state.pin = ""; $("pin-echo").textContent = "";
  if (state.printPoll) { clearTimeout(state.printPoll); state.printPoll = null; }
  $("idle-warning").hidden = true;
  state.lang = state.defaultLang;
  applyLang();
  show("welcome");
}

// ---- idle reset, with a warning first ----
function touched() { state.lastTouch = Date.now(); $("idle-warning").hidden = true; }
["pointerdown", "keydown", "input"].forEach((ev) => document.addEventListener(ev, touched, true));
function anyTyped() { return Array.from(document.querySelectorAll("input")).some((i) => i.value !== ""); }
setInterval(() => {
  const idle = Date.now() - state.lastTouch;
  const busy = state.screen !== "welcome" || state.lang !== state.defaultLang || anyTyped();
  if (!busy) { $("idle-warning").hidden = true; return; }
  if (idle >= state.idleMs) { resetAll(); return; }
  // The pass screen shows its own countdown.
  if (state.screen === "pass") { return; }
  const left = Math.ceil((state.idleMs - idle) / 1000);
  if (left <= IDLE_WARN_SECS && state.idleMs > IDLE_WARN_SECS * 2000) {
    $("idle-text").textContent = fill("idle_warning", { n: left });
    $("idle-warning").hidden = false;
  }
}, 250);

// ---- on-screen keyboard ----
// Its height is bounded by the screen (60 % at most), and the page scrolls the field being
// typed in to just above it: the typed text is always in view next to the keys.
function keyboardRows(input) {
  const layout = LAYOUTS[(input && input.dataset.kb) || "text"];
  return layout.length + 1 + ((input && input.dataset.kb === "text") ? 1 : 0);
}
function layoutKeyboard() {
  const input = state.activeInput;
  if (!input || $("keyboard").hidden) { hideKeyboard(); return; }
  const vh = window.innerHeight, vw = window.innerWidth;
  const rows = keyboardRows(input);
  const rowH = Math.max(40, Math.min(76, Math.floor((vh * 0.6 - 12) / rows) - 6));
  const h = Math.min(Math.floor(vh * 0.6), rows * (rowH + 6) + 12);
  const echoH = ECHO_SCREEN.matches ? ECHO_PX : 0;
  const root = document.documentElement.style;
  root.setProperty("--kb-h", h + "px");
  root.setProperty("--echo-h", echoH + "px");
  root.setProperty("--kb-row", rowH + "px");
  root.setProperty("--cand-w", Math.max(48, Math.min(64, Math.floor(vw / 14))) + "px");
  updateEcho();
  revealInput(input, h + echoH);
}

// On panels 640 px high or less the field can sit far from the keys, so a large echo of the
// field's label and text, with the caret and the pinyin being composed, sits right above them,
// as on phone keyboards in landscape.
const ECHO_SCREEN = window.matchMedia("(max-height: 640px)");
const ECHO_PX = 56;
function echoLabel(input) {
  const holder = input.closest("label, .field");
  const span = holder && holder.querySelector(".lbl > span");
  return span ? span.textContent : (input.placeholder || "");
}
function updateEcho() {
  const input = state.activeInput;
  const on = Boolean(input) && !$("keyboard").hidden && ECHO_SCREEN.matches;
  $("kb-echo").hidden = !on;
  if (!on) { return; }
  $("kb-echo-label").textContent = echoLabel(input);
  const v = input.value;
  const caret = input.selectionStart == null ? v.length : input.selectionStart;
  const letters = pinyinBefore(input);
  const composing = candidatesFor(letters) ? letters : "";
  const box = $("kb-echo-text");
  box.textContent = "";
  const part = (text, cls) => {
    const el = document.createElement("span");
    el.textContent = text;
    if (cls) { el.className = cls; }
    box.appendChild(el);
    return el;
  };
  part(v.slice(0, caret - composing.length));
  if (composing) { part(composing, "compose"); }
  const mark = part("", "caret");
  part(v.slice(caret));
  // Long text: the caret stays in view.
  box.scrollLeft = Math.max(0, mark.offsetLeft + 24 - box.clientWidth);
}
function revealInput(input, kbH) {
  const box = (input.closest("label, .field") || input).getBoundingClientRect();
  const field = input.getBoundingClientRect();
  const room = window.innerHeight - kbH - 8;
  let dy = 0;
  if (field.bottom > room) { dy = field.bottom - room; } else if (box.top < 0) { dy = box.top; }
  // The label too, when there is room for it.
  if (dy > 0 && box.top - dy < 0 && field.bottom - box.top <= room) { dy = box.top; }
  if (dy !== 0) { window.scrollBy(0, dy); }
}
window.addEventListener("resize", layoutKeyboard);

function nextInput(input) {
  const screen = input.closest(".screen");
  const inputs = Array.from(screen.querySelectorAll("input[data-kb]"));
  return inputs[inputs.indexOf(input) + 1] || null;
}

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
  const next = input && nextInput(input);
  last.appendChild(key(t(next ? "kb_next" : "kb_done"), next ? "#next-field" : "#hide", "wide next"));
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
  if (value === "#next-field") { const n = nextInput(input); if (n) { n.focus(); } return; }
  if (value === "#surnames") { setSurnames($("surnames").hidden); return; }
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

// Pinyin: the letters just before the caret in a name field are split into syllables
// ("zhangwei" → zhang'wei, the longest syllable first; a last, unfinished one is fine) and
// the first syllable's characters are offered, most common in names first (pinyin.js). A tap
// replaces that syllable's letters with the character and offers the next syllable's, so
// "zhangwei" + 张 + 伟 types 张伟. Ignoring the bar keeps the letters (foreign names).
function pinyinBefore(input) {
  if (!input || input.dataset.kb !== "text") { return ""; }
  const m = /[A-Za-z]+$/.exec(input.value.slice(0, input.selectionStart == null ? input.value.length : input.selectionStart));
  return m ? m[0] : "";
}
const SYLLABLE_PREFIXES = new Set(Object.keys(PINYIN).flatMap((s) => Array.from(s, (_, i) => s.slice(0, i + 1))));
function splitPinyin(letters) {
  const text = letters.toLowerCase();
  const memo = new Map();
  const from = (i) => {
    if (i === text.length) { return []; }
    if (memo.has(i)) { return memo.get(i); }
    let found = null;
    for (let j = Math.min(text.length, i + 6); j > i && !found; j -= 1) {
      const part = text.slice(i, j);
      if (PINYIN[part]) { const rest = from(j); if (rest) { found = [part].concat(rest); } }
      else if (j === text.length && SYLLABLE_PREFIXES.has(part)) { found = [part]; }
    }
    memo.set(i, found);
    return found;
  };
  return from(0);
}
function candidatesFor(letters) {
  const syllables = letters ? splitPinyin(letters) : null;
  if (!syllables || !PINYIN[syllables[0]]) { return null; }
  return { syllables, first: syllables[0], chars: Array.from(PINYIN[syllables[0]]), offset: letters.length };
}
function candidatesPerPage() {
  const w = parseFloat(getComputedStyle(document.documentElement).getPropertyValue("--cand-w")) || 56;
  const room = $("cand-list").clientWidth || (window.innerWidth - 220);
  return Math.max(3, Math.floor((room + 6) / (w + 6)));
}
function showCandidates() {
  const bar = $("candidates"), list = $("cand-list");
  const letters = pinyinBefore(state.activeInput);
  const found = candidatesFor(letters);
  list.innerHTML = "";
  if (state.candLetters !== letters) { state.candPage = 0; state.candLetters = letters; }
  bar.hidden = !found;
  if (!found) { return; }
  $("cand-spell").textContent = found.syllables.join("'");
  const per = candidatesPerPage();
  const pages = Math.ceil(found.chars.length / per);
  state.candPage = Math.min(state.candPage, pages - 1);
  found.chars.slice(state.candPage * per, (state.candPage + 1) * per).forEach((c) => {
    const b = key(c, c);
    b.dataset.candidate = letters.length; b.dataset.syllable = found.first.length;
    list.appendChild(b);
  });
  $("cand-prev").disabled = state.candPage === 0;
  $("cand-next").disabled = state.candPage >= pages - 1;
}
function pickCandidate(ch, letters, syllable) {
  const input = state.activeInput;
  if (!input) { return; }
  const end = input.selectionStart == null ? input.value.length : input.selectionStart;
  const start = end - letters;
  // Only the first syllable's letters become the character; the rest stay for the next pick.
  const rest = input.value.slice(start + syllable, end);
  input.setSelectionRange(start, end);
  typeInto(input, ch + rest);
  input.setSelectionRange(start + 1 + rest.length, start + 1 + rest.length);
  state.candPage = 0;
  input.dispatchEvent(new Event("input", { bubbles: true }));
}

// The surname strip takes the letter rows' place, inside the keyboard's bounded height.
function setSurnames(on) {
  $("surnames").hidden = !on;
  $("keyboard").classList.toggle("surnames", on);
}
function showKeyboard(input) {
  state.activeInput = input;
  setSurnames(false);
  $("keyboard").classList.toggle("text", input.dataset.kb === "text");
  $("keyboard").hidden = false;
  buildKeys();
  layoutKeyboard();
  showCandidates();
}
function hideKeyboard() {
  $("keyboard").hidden = true; state.activeInput = null;
  $("kb-echo").hidden = true;
  document.documentElement.style.setProperty("--kb-h", "0px");
  document.documentElement.style.setProperty("--echo-h", "0px");
}
// No way out of the kiosk: a right click or a long press opens no menu (copy, search, print,
// inspect) and selects nothing.
document.addEventListener("contextmenu", (e) => e.preventDefault(), { capture: true });
document.addEventListener("selectstart", (e) => {
  const el = e.target.nodeType === 1 ? e.target : e.target.parentElement;
  if (!el || !el.closest("input, textarea")) { e.preventDefault(); }
}, { capture: true });
// A hardware keyboard types too: keep the candidates in step with the field.
document.addEventListener("input", (e) => { if (e.target === state.activeInput) { showCandidates(); updateEcho(); } });
// The caret moved (a tap inside the field): the echo's caret follows.
document.addEventListener("selectionchange", () => { if (state.activeInput) { updateEcho(); } }, true);

// A tap anywhere but an input or the keyboard puts the keyboard away, so it never hides a button.
document.addEventListener("pointerdown", (e) => {
  if (!$("keyboard").hidden && !e.target.closest("#keyboard, #kb-echo") && !(e.target.matches && e.target.matches("input[data-kb]"))) { hideKeyboard(); }
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
  if (!b || b.disabled) { return; }
  if (b.dataset.surname) {
    if (state.activeInput) { typeInto(state.activeInput, b.dataset.surname); state.activeInput.dispatchEvent(new Event("input", { bubbles: true })); }
    setSurnames(false);
  } else if (b.dataset.candidate) {
    pickCandidate(b.dataset.key, Number(b.dataset.candidate), Number(b.dataset.syllable));
  } else if (b.dataset.key === "#prev" || b.dataset.key === "#next") {
    state.candPage += b.dataset.key === "#next" ? 1 : -1;
  } else { pressKey(b.dataset.key); }
  if (!$("keyboard").hidden) { showCandidates(); updateEcho(); }
});
SURNAMES.split("").forEach((s) => { const b = key(s, s); b.dataset.surname = s; $("surnames").appendChild(b); });

// ---- checking a form on the device: every problem beside its field, cleared when fixed ----
const CHECKS = {
  visitor: () => ({
    name: $("name").value.trim() === "" ? "req" : null,
    unit_id: $("unit_id").value === "" ? "req_pick" : null,
    host_name: $("host_name").value.trim().length > 40 ? "too_long" : null,
    purpose: $("purpose").value.trim() === "" ? "req_pick" : null,
    party_size: state.party >= 1 && state.party <= 20 ? null : "party_short",
    phone: $("phone").value !== "" && !/^[0-9]{5,20}$/.test($("phone").value.trim()) ? "phone_short" : null,
  }),
  invite: () => ({ code: $("invite-code").value.trim() === "" ? "req" : null }),
  signout: () => ({ pass: $("signout-pass").value.trim() === "" ? "req" : null }),
  worker: () => ({
    renovation_code: $("renovation-code").value.trim() === "" ? "req" : null,
    id_last4: /^[0-9]{3}[0-9Xx]$/.test($("id-last4").value.trim()) ? null : ($("id-last4").value === "" ? "req" : "id4_short"),
    collection_code: /^[0-9]{6,12}$/.test($("collection-code").value.replace(/\s/g, "")) ? null : ($("collection-code").value === "" ? "req" : "code_short"),
  }),
};
function fieldError(screen, field) { return $("screen-" + screen).querySelector("[data-error-for='" + field + "']"); }
function setFieldError(screen, field, msgKey) {
  const el = fieldError(screen, field);
  if (!el) { return false; }
  el.dataset.key = msgKey || "";
  el.textContent = msgKey ? t(msgKey) : "";
  el.closest("label, .field").classList.toggle("invalid", !!msgKey);
  return true;
}
function clearFieldErrors(root) {
  root.querySelectorAll(".field-error").forEach((el) => { el.textContent = ""; el.dataset.key = ""; });
  root.querySelectorAll(".invalid").forEach((el) => el.classList.remove("invalid"));
}
/** Marks every problem of the form; true when there is none. */
function checkForm(screen) {
  const problems = CHECKS[screen]();
  Object.entries(problems).forEach(([field, msg]) => setFieldError(screen, field, msg));
  return Object.values(problems).every((p) => p === null);
}
/** After a failed check, each field re-checks as it changes, so a fixed field loses its error. */
function recheck(screen) {
  const el = $("screen-" + screen);
  if (!el.querySelector(".invalid")) { return; }
  const problems = CHECKS[screen]();
  Object.entries(problems).forEach(([field, msg]) => {
    if (!msg || el.querySelector("[data-error-for='" + field + "']").textContent) { setFieldError(screen, field, msg); }
  });
}
document.addEventListener("input", () => { if (CHECKS[state.screen]) { recheck(state.screen); } });
document.addEventListener("click", () => { if (CHECKS[state.screen]) { setTimeout(() => recheck(state.screen), 0); } });

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

// The welcome screen says at once when the server cannot be reached, instead of failing at submit.
let onlineTimer = null;
async function checkOnline() {
  if (onlineTimer) { clearTimeout(onlineTimer); }
  const r = await api("/api/online");
  state.online = !(r.data && r.data.online === false);
  $("offline-banner").hidden = state.online;
  ["btn-visitor", "btn-invite", "btn-signout", "btn-worker"].forEach((id) => { $(id).disabled = !state.online; });
  onlineTimer = setTimeout(() => { if (state.screen === "welcome") { checkOnline(); } }, state.online ? 30000 : 5000);
}

// What each refusal says; the flow picks the words where one code means different things.
const NOTICES = {
  server_unreachable: ["unreachable_title", "unreachable_text"],
  see_front_desk: ["desk_title", "desk_text"],
  invalid_code: ["invalid_title", "invalid_text"],
  already_collected: ["collected_title", "collected_text"],
  issued_at_desk: ["issued_desk_title", "issued_desk_text"],
  already_redeemed: ["redeemed_title", "redeemed_text"],
  not_today: ["not_today_title", "not_today_text"],
  already_signed_out: ["signed_out_before_title", "signed_out_before_text"],
  "invalid_code@worker": ["worker_invalid_title", "worker_invalid_text"],
  "invalid_code@signout": ["pass_invalid_title", "pass_invalid_text"],
};
function fillMessage() {
  const m = state.message;
  $("message-title").textContent = t(m.title);
  $("message-title").dataset.code = m.code;
  $("message-text").textContent = fill(m.text, m.vars || {});
}
/** A refusal: back to the form with everything kept ("Try again"), or start over. */
function showNotice(code, from, answer) {
  let [title, text] = NOTICES[code + "@" + from] || NOTICES[code] || NOTICES.see_front_desk;
  let vars = {};
  // The desk already handed the worker their card: when, in the estate's time; retyping
  // cannot help.
  const final = code === "issued_at_desk";
  if (final) {
    if (answer && answer.issued_at) { vars = { t: localTime(answer.issued_at) }; } else { text = "issued_desk_text_untimed"; }
  }
  state.message = { code, title, text, vars, back: final ? null : from };
  fillMessage();
  $("message-retry").hidden = !state.message.back;
  show("message");
}
/** An instant as the estate's local "YYYY-MM-DD HH:MM", as on the printed slips. */
function localTime(iso) {
  const parts = {};
  try {
    new Intl.DateTimeFormat("en-CA", { timeZone: state.timeZone, year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).formatToParts(new Date(iso)).forEach((p) => { parts[p.type] = p.value; });
  } catch (e) {
    return iso;
  }
  return parts.year + "-" + parts.month + "-" + parts.day + " " + parts.hour + ":" + parts.minute;
}
/** A walk-in recorded as waiting for the host's approval: its own screen, the form cleared on leaving. */
function showPending() {
  $("pending-unit").textContent = $("unit-btn").dataset.label || "";
  show("pending");
}
$("message-retry").addEventListener("click", () => {
  const back = state.message && state.message.back;
  state.message = null;
  show(back || "welcome");
});

async function submit(path, body, screen, button) {
  const started = performance.now();
  const generation = state.generation;
  const errorEl = $(screen + "-error");
  errorEl.hidden = true;
  if (!checkForm(screen)) { return null; }
  button.disabled = true; $("busy").hidden = false;
  const r = await api(path, body);
  button.disabled = false; $("busy").hidden = true;
  if (generation !== state.generation) { return null; }
  if (r.ok) { return { data: r.data, started }; }
  if (r.data.error === "invalid_input") {
    if (!(r.data.field && setFieldError(screen, r.data.field, "err_" + r.data.field))) {
      errorEl.textContent = t("input_title") + "：" + (r.data.message || "");
      errorEl.hidden = false;
    }
    return null;
  }
  if (r.data.error === "host_approval_pending") { showPending(); return null; }
  showNotice(r.data.error, screen, r.data);
  return null;
}

function fillPass(p) {
  $("pass-title").textContent = t(p.kind === "worker" ? "worker_pass" : "visitor_pass");
  $("pass-unit-label").textContent = t(p.kind === "worker" ? "worker_unit" : "unit");
  $("pass-name").textContent = p.holder_masked;
  $("pass-unit").textContent = p.unit_label;
  $("pass-valid").textContent = state.lang === "en" ? p.validity_en : p.validity_zh;
  $("pass-short").textContent = p.short_id;
  const ps = $("print-state");
  ps.textContent = t(state.printKey || "printing");
  ps.classList.toggle("problem", state.printKey === "print_failed");
  $("pass-countdown").textContent = state.passLeft > 0 ? fill("pass_countdown", { n: state.passLeft }) : "";
}

// A live pass is not left for the next person to photograph: it closes after a countdown
// (longer when it did not print, so the visitor can photograph it).
function startPassTimer(secs) {
  stopPassTimer();
  state.passLeft = secs;
  const tick = () => {
    if (state.screen !== "pass") { return; }
    if (state.passLeft <= 0) { resetAll(); return; }
    $("pass-countdown").textContent = fill("pass_countdown", { n: state.passLeft });
    state.passLeft -= 1;
    state.passTimer = setTimeout(tick, 1000);
  };
  tick();
}
function stopPassTimer() { if (state.passTimer) { clearTimeout(state.passTimer); state.passTimer = null; } state.passLeft = 0; }

function showPass(p, started) {
  state.lastPass = p; state.printKey = "printing";
  $("pass-qr").innerHTML = p.qr_svg;
  delete $("print-state").dataset.result;
  show("pass");
  fillPass(p);
  startPassTimer(PASS_SECS);
  requestAnimationFrame(() => { window.__gatehouseTimings.push(performance.now() - started); });
  pollPrint(p.card_id, 0);
}

function pollPrint(card, tries) {
  state.printPoll = setTimeout(async () => {
    if (!state.lastPass || state.lastPass.card_id !== card) { return; }
    const r = await api("/api/prints/" + card);
    if (!state.lastPass || state.lastPass.card_id !== card) { return; }
    if (r.ok && r.data.done) {
      const o = r.data.outcome;
      state.printKey = o.result !== "printed" ? "print_failed" : (o.paper === "near_end" ? "printed_near_end" : "printed");
      $("print-state").dataset.result = o.result;
      if (o.result !== "printed") { startPassTimer(PASS_SECS_UNPRINTED); }
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

// Units: building → floor → unit, each in numeric order (2-101 before 2-1004). A level with
// one choice is skipped.
const byNumber = (a, b) => String(a).localeCompare(String(b), undefined, { numeric: true });
function unitLevel() {
  const [building, floor] = state.unitPath;
  if (building === undefined) {
    return { step: "unit_building", items: [...new Set(state.units.map((u) => u.building))].sort((a, b) => a - b)
      .map((n) => ({ label: fill("building_n", { n }), value: n, level: "building" })) };
  }
  const inBuilding = state.units.filter((u) => u.building === building);
  if (floor === undefined) {
    return { step: "unit_floor", items: [...new Set(inBuilding.map((u) => u.floor))].sort((a, b) => a - b)
      .map((n) => ({ label: fill("floor_n", { n }), value: n, level: "floor" })) };
  }
  return { step: "unit_room", items: inBuilding.filter((u) => u.floor === floor).sort((a, b) => byNumber(a.label, b.label))
    .map((u) => ({ label: u.label, value: u.unit_id, level: "unit" })) };
}
function renderUnits() {
  let level = unitLevel();
  while (level.items.length === 1 && level.items[0].level !== "unit") {
    state.unitPath.push(level.items[0].value); level = unitLevel();
  }
  const [building, floor] = state.unitPath;
  $("unit-path").textContent = [building !== undefined ? fill("building_n", { n: building }) : "",
    floor !== undefined ? fill("floor_n", { n: floor }) : ""].filter(Boolean).join(" › ");
  $("unit-step").textContent = t(level.step);
  const list = $("unit-list");
  list.innerHTML = "";
  level.items.forEach((item) => {
    const b = document.createElement("button");
    b.type = "button"; b.textContent = item.label; b.dataset.level = item.level;
    if (item.level === "unit") { b.className = "unit-option"; b.dataset.unitId = item.value; }
    else { b.className = "unit-step"; b.dataset.value = item.value; }
    list.appendChild(b);
  });
  list.scrollTop = 0;
}
$("unit-list").addEventListener("click", (e) => {
  const b = e.target.closest("button");
  if (!b) { return; }
  if (b.dataset.level !== "unit") { state.unitPath.push(Number(b.dataset.value)); renderUnits(); return; }
  const u = state.units.find((x) => String(x.unit_id) === b.dataset.unitId);
  $("unit_id").value = String(u.unit_id);
  $("unit-btn").textContent = u.label; $("unit-btn").dataset.label = u.label;
  $("unit-btn").classList.add("chosen");
  show("visitor");
});
// Back goes up one level; from the first level, back to the form with everything kept.
$("units-back").addEventListener("click", () => {
  const skipped = () => { const l = unitLevel(); return l.items.length === 1 && l.items[0].level !== "unit"; };
  while (state.unitPath.length > 0) {
    state.unitPath.pop();
    if (!skipped()) { renderUnits(); return; }
  }
  show("visitor");
});
$("unit-btn").addEventListener("click", async () => {
  const r = await api("/api/units");
  if (!r.ok) { showNotice(r.data.error, "visitor"); return; }
  state.units = r.data;
  state.unitPath = [];
  renderUnits();
  show("units");
});

document.querySelectorAll(".chip").forEach((c) => c.addEventListener("click", () => {
  document.querySelectorAll(".chip").forEach((o) => o.classList.toggle("chosen", o === c));
  state.purposeKey = c.dataset.purpose;
  $("purpose").value = t(c.dataset.i18n);
}));
// Typing another purpose lets go of the chip.
$("purpose").addEventListener("input", () => {
  if (state.purposeKey && $("purpose").value !== t("p_" + state.purposeKey)) {
    state.purposeKey = null;
    document.querySelectorAll(".chip").forEach((o) => o.classList.remove("chosen"));
  }
});
$("party-minus").addEventListener("click", () => { state.party = Math.max(1, state.party - 1); $("party").textContent = state.party; });
$("party-plus").addEventListener("click", () => { state.party = Math.min(20, state.party + 1); $("party").textContent = state.party; });

$("visitor-confirm").addEventListener("click", async () => {
  const unit = Number($("unit_id").value) || null;
  const body = { name: $("name").value, unit_id: unit, host_name: $("host_name").value, purpose: $("purpose").value,
    party_size: state.party, phone: $("phone").value };
  const r = await submit("/api/visitors", body, "visitor", $("visitor-confirm"));
  if (r) { showPass(r.data, r.started); }
});
$("invite-confirm").addEventListener("click", async () => {
  const r = await submit("/api/invites", { code: $("invite-code").value }, "invite", $("invite-confirm"));
  if (r) { showPass(r.data, r.started); }
});
$("worker-confirm").addEventListener("click", async () => {
  const r = await submit("/api/worker-cards", { renovation_code: $("renovation-code").value, id_last4: $("id-last4").value, collection_code: $("collection-code").value },
    "worker", $("worker-confirm"));
  if (r) { showPass(r.data, r.started); }
});
async function signOut(pass) {
  const r = await submit("/api/sign-out", { pass }, "signout", $("signout-confirm"));
  if (r) {
    state.message = null;
    $("message-title").textContent = t("signed_out_title");
    $("message-title").dataset.code = "signed_out";
    $("message-text").textContent = t("signed_out_text").replace("{name}", r.data.holder_masked);
    $("message-retry").hidden = true;
    show("message");
  }
}
$("signout-confirm").addEventListener("click", () => signOut($("signout-pass").value));

// ---- staff: the muster list from the kiosk's copy, with the staff PIN ----
$("pinpad").addEventListener("click", async (e) => {
  const b = e.target.closest("button");
  if (!b) { return; }
  $("pin-error").textContent = "";
  if (b.id === "pin-ok") { printMuster(); return; }
  if (b.dataset.pin === "#back") { state.pin = state.pin.slice(0, -1); }
  else if (state.pin.length < 12) { state.pin += b.dataset.pin; }
  $("pin-echo").textContent = "•".repeat(state.pin.length);
});
async function printMuster() {
  const generation = state.generation;
  $("staff-result").textContent = ""; $("staff-result").classList.remove("problem");
  $("busy").hidden = false;
  const r = await api("/api/muster/print", { pin: state.pin });
  $("busy").hidden = true;
  if (generation !== state.generation) { return; }
  state.pin = ""; $("pin-echo").textContent = "";
  if (!r.ok) { $("pin-error").textContent = t(NOTICES[r.data.error] ? "desk_title" : r.data.error); return; }
  const when = new Date(r.data.list_as_of).toLocaleString(state.lang);
  const printed = r.data.outcome && r.data.outcome.result === "printed";
  $("staff-result").textContent = fill(printed ? "muster_printed" : "muster_not_printed", { t: when });
  $("staff-result").dataset.result = printed ? "printed" : "not_printed";
  $("staff-result").classList.toggle("problem", !printed);
}

// A scan goes to whatever the screen is waiting for: an invite code, or a pass to sign out.
if (window.EventSource) {
  const scans = new EventSource("/api/scans");
  // A staff card: the kiosk prints the muster list by itself; the screen says so.
  scans.addEventListener("staff", () => {
    touched();
    show("staff");
    $("staff-result").textContent = t("staff_card_printing");
    $("staff-result").classList.remove("problem");
  });
  scans.addEventListener("scan", (e) => {
    touched();
    // A pass is long base45 text; anything shorter scanned at the welcome screen is an invite code.
    const isPass = /^[0-9A-Z $%*+\-./:]{40,}$/.test(e.data);
    if (state.screen === "invite" || (state.screen === "welcome" && !isPass)) {
      show("invite"); $("invite-code").value = e.data; $("invite-confirm").click();
    } else if (state.screen === "welcome" || state.screen === "signout") {
      show("signout"); $("signout-pass").value = e.data; signOut(e.data);
    }
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
    state.timeZone = r.data.time_zone;
  }
  applyLang();
  checkOnline();
})();
