// The Backbeat sandbox page: a small Discord client for the emulated guild, beside the bot's
// Lavalink player. Plain JavaScript, no dependencies; everything goes through /api/ on the
// page's own server. Live updates arrive on /api/events (Server-Sent Events).
"use strict";

const S = {
  sandbox: null, user: null, channel: null, view: null,
  player: null, playerAt: 0, commands: [],
  suggest: { items: [], index: -1, kind: null }, chosen: null,
  refreshing: false, again: false, acSeq: 0,
};
const $ = (id) => document.getElementById(id);

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

async function api(path, body) {
  const init = body === undefined ? {} : {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  };
  const response = await fetch(path, init);
  const data = await response.json().catch(() => null);
  if (!response.ok) throw new Error((data && data.error) || `HTTP ${response.status}`);
  return data;
}

// ---- text: Discord's small markdown (bold, italic, code, links, channel mentions) -----------

function channelName(id) {
  const all = [...S.sandbox.text_channels, ...S.sandbox.voice_channels];
  const found = all.find((c) => c.id === id);
  return found ? found.name : id;
}

function userName(id) {
  if (id === S.sandbox.bot.id) return S.sandbox.bot.name;
  const found = S.sandbox.users.find((u) => u.id === id);
  return found ? found.name : id;
}

function unescape(text) { return text.replace(/\\([\\*_`|~\[\]()#>-])/g, "$1"); }

function rich(text) {
  const out = document.createDocumentFragment();
  const pattern = /\*\*(.+?)\*\*|\*(.+?)\*|`([^`]+)`|\[([^\]]+)\]\((https?:[^)\s]+)\)|<#(\d+)>|<@!?(\d+)>|\\([\\*_`|~\[\]()#>-])/g;
  let last = 0;
  for (const m of String(text || "").matchAll(pattern)) {
    out.append(text.slice(last, m.index));
    if (m[1] !== undefined) out.append(el("strong", { text: unescape(m[1]) }));
    else if (m[2] !== undefined) out.append(el("em", { text: unescape(m[2]) }));
    else if (m[3] !== undefined) out.append(el("code", { text: m[3] }));
    else if (m[4] !== undefined) out.append(el("a", { href: m[5], target: "_blank", rel: "noopener", text: unescape(m[4]) }));
    else if (m[8] !== undefined) out.append(m[8]);
    else if (m[6] !== undefined) out.append(el("span", { class: "mention", text: `#${channelName(m[6])}` }));
    else out.append(el("span", { class: "mention", text: `@${userName(m[7])}` }));
    last = m.index + m[0].length;
  }
  out.append(String(text || "").slice(last));
  return out;
}

// ---- loading and rendering -----------------------------------------------------------------

async function refresh() {
  if (S.refreshing) { S.again = true; return; }
  S.refreshing = true;
  try {
    do {
      S.again = false;
      const query = new URLSearchParams({ user: S.user, channel: S.channel });
      const viewer = S.user, channel = S.channel;
      S.view = await api(`/api/view?${query}`);
      S.commands = S.view.commands;
      render();
      $("messages").dataset.viewer = viewer;  // whose view is shown (tests wait on it)
      $("messages").dataset.channel = channel;
    } while (S.again);
  } catch (error) {
    showError(`Could not load the channel: ${error.message}`);
  } finally {
    S.refreshing = false;
  }
}

function render() {
  renderUsers();
  renderChannels();
  renderVoice();
  renderMessages();
}

function renderUsers() {
  const box = $("users");
  box.querySelectorAll("label").forEach((n) => n.remove());
  for (const user of S.sandbox.users) {
    const input = el("input", {
      type: "radio", name: "user", value: user.id, checked: user.id === S.user,
      "aria-label": user.manager ? `${user.name} (server manager)` : user.name,
      onchange: () => { S.user = user.id; localStorage.setItem("sandbox.user", user.id); refresh(); },
    });
    box.append(el("label", { "data-user": user.name }, input, user.name,
      user.manager ? el("span", { class: "badge", title: "Manage Server", text: "manager" }) : null));
  }
}

function renderChannels() {
  const list = $("text-channels");
  list.replaceChildren(...S.sandbox.text_channels.map((c) => el("li", {},
    el("button", {
      type: "button", class: "channel", "aria-current": c.id === S.channel ? "true" : "false",
      onclick: () => { S.channel = c.id; refresh(); }, text: `# ${c.name}`,
    }))));
  $("channel-title").textContent = `# ${channelName(S.channel)}`;
}

function renderVoice() {
  const list = $("voice-channels");
  const states = S.view ? S.view.voice : [];
  const mine = states.find((s) => s.user_id === S.user);
  list.replaceChildren(...S.sandbox.voice_channels.map((c) => {
    const here = states.filter((s) => s.channel_id === c.id);
    const inside = mine && mine.channel_id === c.id;
    const action = inside
      ? el("button", { type: "button", class: "btn s4", "data-voice": c.name, onclick: () => moveVoice(null), text: "Leave" })
      : el("button", { type: "button", class: "btn s3", "data-voice": c.name, onclick: () => moveVoice(c.id), text: "Join" });
    return el("li", { "data-channel": c.name },
      el("div", { class: "vrow" }, el("span", { text: `🔊 ${c.name}` }), action),
      el("ul", { class: "members" }, here.map((s) => el("li", {
        class: s.user_id === S.sandbox.bot.id ? "bot" : "", text: s.name,
      }))));
  }));
}

function renderMessages() {
  const list = $("messages");
  const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  const messages = S.view ? S.view.messages : [];
  if (!messages.length) {
    list.replaceChildren(el("li", { class: "message meta", text: "No messages yet. Join a voice channel, then try /play lofi." }));
    return;
  }
  list.replaceChildren(...messages.map(renderMessage));
  if (atBottom || S.stickBottom) { list.scrollTop = list.scrollHeight; S.stickBottom = false; }
}

function renderMessage(m) {
  const node = el("li", {
    class: `message${m.ephemeral ? " ephemeral" : ""}`, "data-message-id": m.id,
    "data-ephemeral": m.ephemeral ? "true" : "false",
  },
  el("div", { class: "meta" },
    el("span", { class: "name", text: m.author.name }),
    m.author.bot ? el("span", { class: "tag", text: "BOT" }) : null,
    new Date(m.timestamp).toLocaleTimeString(), m.edited ? " (edited)" : ""),
  m.loading ? el("div", { class: "loading", text: `${m.author.name} is thinking…` }) : null,
  m.content ? el("div", { class: "content" }, rich(m.content)) : null,
  m.embeds.map(renderEmbed),
  m.components.map((row) => renderRow(m, row)),
  m.ephemeral ? el("div", { class: "only-you", text: "👁 Only you can see this" }) : null);
  return node;
}

function image(url, cls) {
  return el("img", { src: url, class: cls, alt: "", loading: "lazy", onerror: (e) => { e.target.hidden = true; } });
}

function renderEmbed(e) {
  const color = typeof e.color === "number" ? `#${e.color.toString(16).padStart(6, "0")}` : null;
  const node = el("div", { class: "embed" },
    el("div", {},
      e.author ? el("div", { class: "efoot", text: e.author.name }) : null,
      e.title ? el("div", { class: "etitle" }, e.url ? el("a", { href: e.url, target: "_blank", rel: "noopener", text: e.title }) : e.title) : null,
      e.description ? el("div", { class: "edesc" }, rich(e.description)) : null,
      e.fields && e.fields.length ? el("div", { class: "fields" }, e.fields.map((f) =>
        el("div", { class: `field${f.inline ? "" : " block"}` },
          el("div", { class: "fname" }, rich(f.name)), el("div", {}, rich(f.value))))) : null),
    e.thumbnail && e.thumbnail.url ? image(e.thumbnail.url, "thumb") : el("span"),
    e.image && e.image.url ? image(e.image.url, "image") : null,
    e.footer ? el("div", { class: "efoot", text: e.footer.text }) : null);
  if (color) node.style.borderLeftColor = color;
  return node;
}

function renderRow(message, row) {
  const items = row.type === 1 ? row.components || [] : [row];
  return el("div", { class: "row" }, items.map((c) => renderComponent(message, c)));
}

function label(c) {
  const emoji = c.emoji && c.emoji.name && !c.emoji.id ? `${c.emoji.name} ` : "";
  return `${emoji}${c.label || ""}`.trim() || c.custom_id;
}

function action(customId) {
  // Backbeat's ids read "bb:ACTION:GUILD"; the action names the button for screen readers.
  const parts = String(customId || "").split(":");
  return parts.length > 1 ? parts[1] : customId;
}

function renderComponent(message, c) {
  if (c.type === 2) {
    if (c.style === 5) return el("a", { class: "btn", href: c.url, target: "_blank", rel: "noopener", text: label(c) });
    return el("button", {
      type: "button", class: `btn s${c.style || 2}`, disabled: !!c.disabled, "data-custom-id": c.custom_id,
      "aria-label": c.label || action(c.custom_id), title: c.label ? null : action(c.custom_id),
      onclick: () => click(message.id, c.custom_id), text: label(c),
    });
  }
  if (c.type === 3) {
    const select = el("select", {
      class: "select", disabled: !!c.disabled, "data-custom-id": c.custom_id,
      "aria-label": c.placeholder || "Choose", multiple: (c.max_values || 1) > 1,
      onchange: (ev) => click(message.id, c.custom_id, [...ev.target.selectedOptions].map((o) => o.value)),
    }, (c.max_values || 1) > 1 ? null : el("option", { value: "", disabled: true, selected: true, text: c.placeholder || "Choose…" }),
    (c.options || []).map((o) => el("option", { value: o.value, text: o.description ? `${o.label} — ${o.description}` : o.label })));
    return select;
  }
  return el("span", { class: "meta", text: `[component type ${c.type}]` });
}

// ---- acting ---------------------------------------------------------------------------------

function showError(text) { $("command-error").textContent = text || ""; }

async function click(messageId, customId, values) {
  showError("");
  try { await api("/api/click", { user: S.user, message_id: messageId, custom_id: customId, values }); }
  catch (error) { showError(`That did not work: ${error.message}`); }
}

async function moveVoice(channel) {
  showError("");
  try { await api("/api/voice", { user: S.user, channel }); await refresh(); }
  catch (error) { showError(`Could not move: ${error.message}`); }
}

// ---- the command box ------------------------------------------------------------------------

function subcommandsOf(command) {
  return command ? command.options.filter((o) => o.type === 1) : [];
}

function parse(text) {
  // "/name", "/name options…", or "/group sub options…" for a command with subcommands.
  const match = /^\/(\S*)(?:(\s+)([\s\S]*))?$/.exec(text);
  if (!match) return null;
  const name = match[1].toLowerCase();
  const command = S.commands.find((c) => c.name === name) || null;
  const parsed = { name, command, sub: null, spec: command, rest: match[3], hasSpace: match[2] !== undefined, stage: "command" };
  if (!parsed.hasSpace || !command) return parsed;
  const subs = subcommandsOf(command);
  if (!subs.length) { parsed.stage = "options"; return parsed; }
  const words = /^(\S*)(\s+)?([\s\S]*)$/.exec(parsed.rest || "");
  parsed.subName = words[1].toLowerCase();
  if (words[2] === undefined) { parsed.stage = "subcommand"; return parsed; }
  parsed.sub = subs.find((o) => o.name === parsed.subName) || null;
  parsed.spec = parsed.sub;
  parsed.rest = words[3];
  parsed.stage = parsed.sub ? "options" : "unknown";
  return parsed;
}

function prefixOf(parsed) {
  return parsed.sub ? `/${parsed.command.name} ${parsed.sub.name}` : `/${parsed.command.name}`;
}

function optionsOf(parsed) {
  // "/play lofi" gives the first option the rest; "/move from:3 to:1" names them.
  const spec = parsed.spec;
  const rest = parsed.rest;
  const values = {};
  if (!spec || !spec.options.length) return { values, focused: null };
  if (rest === undefined || rest.trim() === "") return { values, focused: spec.options[0] };
  const names = spec.options.map((o) => o.name);
  const named = [...rest.matchAll(/(\w[\w-]*):(\S*)/g)].filter((m) => names.includes(m[1]));
  if (named.length) {
    for (const m of named) values[m[1]] = m[2];
    const last = named[named.length - 1][1];
    return { values, focused: spec.options.find((o) => o.name === last) };
  }
  const first = spec.options[0];
  values[first.name] = rest.trim();
  return { values, focused: first };
}

function typed(option, raw) {
  if (option.type === 4) return parseInt(raw, 10);
  if (option.type === 10) return parseFloat(raw);
  if (option.type === 5) return /^(true|yes|on|1)$/i.test(raw);
  return raw;
}

async function updateSuggestions() {
  const parsed = parse($("command").value);
  if (!parsed) return showSuggestions([], null);
  if (parsed.stage === "command") {
    const items = S.commands.filter((c) => c.name.startsWith(parsed.name))
      .map((c) => ({ label: `/${c.name}`, hint: c.description, command: c }));
    return showSuggestions(items, "command");
  }
  if (parsed.stage === "subcommand") {
    const items = subcommandsOf(parsed.command).filter((o) => o.name.startsWith(parsed.subName))
      .map((o) => ({ label: `/${parsed.command.name} ${o.name}`, hint: o.description, command: parsed.command, sub: o }));
    return showSuggestions(items, "command");
  }
  if (parsed.stage !== "options") return showSuggestions([], null);
  const { values, focused } = optionsOf(parsed);
  if (!focused) return showSuggestions([], null);
  const current = String(values[focused.name] || "");
  values[focused.name] = current;  // Discord always sends the focused option, empty or not
  if (focused.choices.length) {
    const items = focused.choices.filter((c) => c.name.toLowerCase().includes(current.toLowerCase()))
      .map((c) => ({ label: c.name, choice: c, option: focused.name }));
    return showSuggestions(items, "choice");
  }
  if (!focused.autocomplete) return showSuggestions([], null);
  const seq = ++S.acSeq;
  showNote(`Asking ${S.sandbox.bot.name}…`, "pending");  // no stale suggestion to pick meanwhile
  try {
    const answer = await api("/api/autocomplete", {
      user: S.user, channel: S.channel, name: parsed.command.name,
      subcommand: parsed.sub ? parsed.sub.name : null, options: values, focused: focused.name,
    });
    if (seq !== S.acSeq) return;
    const items = answer.choices.map((c) => ({ label: c.name, choice: c, option: focused.name }));
    if (items.length) showSuggestions(items, "choice");
    else showNote(`${S.sandbox.bot.name} has no suggestions for “${current}”: press Enter to send it as typed.`);
  } catch (error) {
    if (seq === S.acSeq) showSuggestions([], null);
  }
}

function showSuggestions(items, kind) {
  S.suggest = { items, index: items.length ? 0 : -1, kind };
  const list = $("suggestions");
  const input = $("command");
  list.replaceChildren(...items.map((item, i) => el("li", {
    role: "option", id: `suggestion-${i}`, "aria-selected": i === 0 ? "true" : "false",
    onmousedown: (ev) => { ev.preventDefault(); pick(i); },
  }, item.label, item.hint ? el("span", { class: "hint", text: item.hint }) : null)));
  list.hidden = !items.length;
  input.setAttribute("aria-expanded", items.length ? "true" : "false");
  if (items.length) input.setAttribute("aria-activedescendant", "suggestion-0");
  else input.removeAttribute("aria-activedescendant");
}

function showNote(text, extra) {
  // A line with nothing to pick: the bot is being asked, or answered with no choices.
  S.suggest = { items: [], index: -1, kind: null };
  const list = $("suggestions");
  list.replaceChildren(el("li", { class: `note ${extra || ""}`, role: "option", "aria-disabled": "true", text }));
  list.hidden = false;
  $("command").setAttribute("aria-expanded", "true");
}

function highlight(index) {
  const { items } = S.suggest;
  if (!items.length) return;
  S.suggest.index = (index + items.length) % items.length;
  $("suggestions").querySelectorAll("li").forEach((li, i) => {
    li.setAttribute("aria-selected", i === S.suggest.index ? "true" : "false");
    if (i === S.suggest.index) li.scrollIntoView({ block: "nearest" });
  });
  $("command").setAttribute("aria-activedescendant", `suggestion-${S.suggest.index}`);
}

function pick(index) {
  const item = S.suggest.items[index];
  if (!item) return;
  const input = $("command");
  const kind = S.suggest.kind;
  if (kind === "command") {
    const subs = item.sub ? [] : subcommandsOf(item.command);
    input.value = item.sub ? `/${item.command.name} ${item.sub.name} ` : `/${item.command.name} `;
    S.chosen = null;
    showSuggestions([], null);
    if (subs.length || (item.sub ? item.sub.options.length : item.command.options.length)) updateSuggestions();
  } else {
    const parsed = parse(input.value);
    const { values } = optionsOf(parsed);
    const rest = parsed.rest || "";
    const named = Object.keys(values).length > 1 || new RegExp(`(^|\\s)${item.option}:`).test(rest);
    const shownText = named
      ? rest.replace(new RegExp(`${item.option}:\\S*`), `${item.option}:${item.choice.name}`)
      : item.choice.name;
    input.value = `${prefixOf(parsed)} ${shownText}`;
    S.chosen = { text: input.value, option: item.option, value: item.choice.value, name: item.choice.name };
    showSuggestions([], null);
  }
  input.focus();
}

async function submit(event) {
  event.preventDefault();
  const input = $("command");
  if (!input.value.trim()) return;
  const parsed = parse(input.value.trim());
  if (!parsed || !parsed.command) { showError(parsed ? `Unknown command /${parsed.name}` : "Commands start with /"); return; }
  if (subcommandsOf(parsed.command).length && !parsed.sub) {
    const known = subcommandsOf(parsed.command).find((o) => o.name === parsed.subName);
    if (!known) { showError(`/${parsed.command.name} needs one of: ${subcommandsOf(parsed.command).map((o) => o.name).join(", ")}`); return; }
    parsed.sub = known; parsed.spec = known; parsed.rest = "";
  }
  const { values } = optionsOf(parsed);
  const options = {};
  for (const option of parsed.spec.options) {
    if (!(option.name in values) || values[option.name] === "") continue;
    let raw = values[option.name];
    if (S.chosen && S.chosen.text === input.value.trim() && S.chosen.option === option.name) raw = S.chosen.value;
    else {
      const choice = option.choices.find((c) => c.name === raw);
      if (choice) raw = choice.value;
    }
    options[option.name] = typeof raw === "string" ? typed(option, raw) : raw;
  }
  const missing = parsed.spec.options.filter((o) => o.required && !(o.name in options));
  if (missing.length) { showError(`${prefixOf(parsed)} needs ${missing.map((o) => o.name).join(", ")}`); return; }
  showError("");
  showSuggestions([], null);
  try {
    await api("/api/command", {
      user: S.user, channel: S.channel, name: parsed.command.name,
      subcommand: parsed.sub ? parsed.sub.name : null, options,
    });
    input.value = "";
    S.chosen = null;
    S.stickBottom = true;
  } catch (error) {
    showError(`The command failed: ${error.message}`);
  }
}

function complete() {
  // Enter sends rather than picks when the highlighted command is what is typed and needs
  // nothing more ("/queue", "/settings show"), as in Discord.
  const item = S.suggest.items[S.suggest.index];
  if (!item || S.suggest.kind !== "command" || item.label !== $("command").value.trim()) return false;
  if (item.sub) return !item.sub.options.some((o) => o.required);
  return !subcommandsOf(item.command).length && !item.command.options.some((o) => o.required);
}

function onKey(event) {
  const open = !$("suggestions").hidden;
  if (event.key === "ArrowDown" && open) { event.preventDefault(); highlight(S.suggest.index + 1); }
  else if (event.key === "ArrowUp" && open) { event.preventDefault(); highlight(S.suggest.index - 1); }
  else if (event.key === "Tab" && open) { event.preventDefault(); pick(S.suggest.index); }
  else if (event.key === "Enter" && open && S.suggest.index >= 0 && !complete()) { event.preventDefault(); pick(S.suggest.index); }
  else if (event.key === "Escape" && open) { event.preventDefault(); showSuggestions([], null); }
}

// ---- the player -----------------------------------------------------------------------------

function clock(ms) {
  const total = Math.max(0, Math.floor((ms || 0) / 1000));
  const h = Math.floor(total / 3600), m = Math.floor((total % 3600) / 60), s = total % 60;
  return h ? `${h}:${String(m).padStart(2, "0")}:${String(s).padStart(2, "0")}` : `${m}:${String(s).padStart(2, "0")}`;
}

function describeFilters(filters) {
  // Lavalink's filters object: "timescale (speed 1.25, pitch 1.25); rotation (rotationHz 0.2)".
  const parts = Object.entries(filters || {}).filter(([k, v]) => k !== "pluginFilters" && v !== null)
    .map(([name, value]) => {
      if (typeof value !== "object") return `${name} ${value}`;
      const inner = Object.entries(value).filter(([, v]) => typeof v !== "object")
        .map(([k, v]) => `${k} ${typeof v === "number" ? Math.round(v * 100) / 100 : v}`);
      return inner.length ? `${name} (${inner.join(", ")})` : name;
    });
  return parts.length ? parts.join("; ") : "none";
}

function setPlayer(player) {
  S.player = player;
  S.playerAt = performance.now();
  const box = $("player");
  const track = player && player.track;
  const info = track ? track.info : null;
  const state = !track ? "idle" : player.paused ? "paused" : "playing";
  box.dataset.state = state;
  $("player-state").textContent = state;
  $("player-title").textContent = info ? info.title : "Nothing playing";
  $("player-author").textContent = info ? info.author : "";
  const art = $("player-art");
  if (info && info.artworkUrl) {
    const src = /\.invalid(\/|$|:)/.test(new URL(info.artworkUrl).host + "/") ? `/art?url=${encodeURIComponent(info.artworkUrl)}` : info.artworkUrl;
    if (art.getAttribute("src") !== src) art.src = src;
    art.hidden = false;
  } else art.hidden = true;
  $("player-length").textContent = info ? (info.isStream ? "live" : clock(info.length)) : "0:00";
  $("player-volume").textContent = player ? `${player.volume}%` : "–";
  $("player-filters").textContent = describeFilters(player ? player.filters : null);
  const channel = player && player.voice && player.voice.channelId;
  $("player-voice").textContent = channel ? `🔊 ${channelName(channel)}${player.state.connected ? "" : " (connecting)"}` : "–";
  tick();
}

function tick() {
  const p = S.player;
  if (!p || !p.track) { $("player-position").textContent = "0:00"; $("player-bar").style.width = "0"; return; }
  const info = p.track.info;
  let position = p.state.position || 0;
  if (!p.paused && p.state.connected) position += performance.now() - S.playerAt;
  if (!info.isStream && info.length) position = Math.min(position, info.length);
  $("player-position").textContent = clock(position);
  $("player-bar").style.width = info.isStream || !info.length ? "100%" : `${(100 * position) / info.length}%`;
}

// ---- live updates ---------------------------------------------------------------------------

function listen() {
  const source = new EventSource("/api/events");
  const live = $("live");
  source.onopen = () => { live.textContent = "live"; live.classList.add("on"); };
  source.onerror = () => { live.textContent = "reconnecting…"; live.classList.remove("on"); };
  source.addEventListener("world", () => refresh());
  source.addEventListener("player", (event) => setPlayer(JSON.parse(event.data)));
}

async function main() {
  S.sandbox = await api("/api/sandbox");
  $("guild-name").textContent = S.sandbox.guild.name;
  if (S.sandbox.panel) { $("panel-link").href = S.sandbox.panel; $("panel-link").hidden = false; }
  const saved = localStorage.getItem("sandbox.user");
  S.user = S.sandbox.users.some((u) => u.id === saved) ? saved : S.sandbox.users[0].id;
  S.channel = S.sandbox.text_channels[0].id;
  const input = $("command");
  input.addEventListener("input", () => { S.chosen = S.chosen && S.chosen.text === input.value ? S.chosen : null; updateSuggestions(); });
  input.addEventListener("keydown", onKey);
  input.addEventListener("blur", () => setTimeout(() => showSuggestions([], null), 150));
  $("command-form").addEventListener("submit", submit);
  await refresh();
  setPlayer(await api("/api/player"));
  setInterval(tick, 500);
  listen();
}

main().catch((error) => showError(`The sandbox did not load: ${error.message}`));
