// spool console: a single-page client of spool's athena API (/api/v1).
// No framework and no build step: the server embeds this file as it is.
// Every request carries the session in the Authorization header, never in
// the URL; a 401 anywhere sends the user back to the sign-in form.

const TOKEN = "spool.console.token";
const WORKSPACE = "spool.console.workspace";
const STREAM = "spool.console.stream";
const PAGE = 20;

const app = document.getElementById("app");
const state = { user: null, workspaces: [], workspace: null, models: [], agents: [] };

// ---- storage: the session lives in the tab unless "remember me" -------------

function token() {
  return sessionStorage.getItem(TOKEN) || localStorage.getItem(TOKEN);
}

function keepToken(value, remember) {
  sessionStorage.setItem(TOKEN, value);
  if (remember) localStorage.setItem(TOKEN, value);
}

function forgetToken() {
  sessionStorage.removeItem(TOKEN);
  localStorage.removeItem(TOKEN);
  sessionStorage.removeItem(STREAM);
}

// ---- DOM helpers --------------------------------------------------------------

function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key === "text") el.textContent = value;
    else el.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

function when(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString();
}

function confirmDialog(question, yes = "Delete") {
  return new Promise((resolve) => {
    const dialog = h("dialog", { "aria-label": question },
      h("p", { text: question }),
      h("div", { class: "row" },
        h("button", { class: "danger", value: "yes", onclick: () => dialog.close("yes") }, yes),
        h("button", { value: "no", onclick: () => dialog.close("no") }, "Cancel")));
    dialog.addEventListener("close", () => {
      dialog.remove();
      resolve(dialog.returnValue === "yes");
    });
    document.body.append(dialog);
    dialog.showModal();
  });
}

// ---- the API ------------------------------------------------------------------

class ApiError extends Error {
  constructor(status, body) {
    super(body?.message || body?.detail || `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

function url(path, query = {}) {
  const u = new URL(path, location.origin);
  const scoped = path.startsWith("/api/v1/") && !path.startsWith("/api/v1/workspaces")
    && !path.startsWith("/api/v1/auth") && !path.startsWith("/api/v1/user")
    && !path.startsWith("/api/v1/large-language-models") && !path.startsWith("/api/v1/chat/");
  if (scoped && state.workspace) u.searchParams.set("workspace_uuid", state.workspace);
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null) u.searchParams.set(key, value);
  }
  return u.pathname + u.search;
}

async function request(method, path, { body, query, headers = {}, raw = false } = {}) {
  const init = { method, headers: { Accept: "application/json", ...headers } };
  const t = token();
  if (t) init.headers.Authorization = `Bearer ${t}`;
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(url(path, query), init);
  if (response.status === 401 && t) {
    forgetToken();
    showSignIn("Your session ended; sign in again.");
    throw new ApiError(401, { message: "Signed out" });
  }
  if (raw) {
    if (!response.ok) throw new ApiError(response.status, await response.json().catch(() => null));
    return response;
  }
  const text = await response.text();
  const data = text ? JSON.parse(text) : null;
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

const api = {
  get: (path, query) => request("GET", path, { query }),
  post: (path, body) => request("POST", path, { body: body ?? {} }),
  put: (path, body) => request("PUT", path, { body }),
  del: (path) => request("DELETE", path),
};

// Reads Server-Sent Events from a fetch response: calls onEvent({id, event, data}).
async function readEvents(response, onEvent) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let cut;
    while ((cut = buffer.search(/\r?\n\r?\n/)) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut).replace(/^\r?\n\r?\n/, "");
      const event = { id: null, event: "message", data: "" };
      const data = [];
      for (const line of block.split(/\r?\n/)) {
        if (!line || line.startsWith(":")) continue;
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        const text = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
        if (field === "id") event.id = Number(text);
        else if (field === "event") event.event = text;
        else if (field === "data") data.push(text);
      }
      if (!data.length && event.id === null) continue;
      event.data = data.join("\n");
      onEvent(event);
    }
  }
}

// ---- sign-in ------------------------------------------------------------------

function showSignIn(message) {
  state.user = null;
  const status = h("p", { class: "status error", role: "alert", text: message || "" });
  const email = h("input", { id: "email", type: "email", autocomplete: "username", required: true });
  const password = h("input", { id: "password", type: "password", autocomplete: "current-password", required: true });
  const remember = h("input", { id: "remember", type: "checkbox" });
  const form = h("form", { class: "signin", "aria-labelledby": "signin-title" },
    h("h1", { id: "signin-title" }, "Sign in to spool"),
    h("label", { for: "email" }, "Email"), email,
    h("label", { for: "password" }, "Password"), password,
    h("p", {}, h("label", { class: "inline", for: "remember" }, remember, "Remember me on this device")),
    h("button", { class: "primary", type: "submit", id: "signin" }, "Sign in"),
    status);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    status.textContent = "";
    try {
      const answer = await request("POST", "/api/v1/auth/sign-in", {
        body: { email: email.value, password: password.value },
      });
      keepToken(answer.data.token, remember.checked);
      await start();
    } catch (err) {
      status.textContent = err.status === 422 || err.status === 401
        ? "Wrong email or password." : err.message;
    }
  });
  app.replaceChildren(h("main", { id: "main" }, form));
  email.focus();
}

async function signOut() {
  try { await api.post("/api/v1/auth/logout"); } catch { /* the session may be gone already */ }
  forgetToken();
  location.hash = "";
  showSignIn("Signed out.");
}

// ---- the frame: header, navigation, workspace switcher -------------------------

function frame(active, ...content) {
  const switcher = h("select", { id: "workspace", "aria-label": "Workspace" },
    state.workspaces.map((w) => h("option", { value: w.uuid, selected: w.uuid === state.workspace }, w.name)));
  switcher.addEventListener("change", () => {
    state.workspace = switcher.value;
    localStorage.setItem(WORKSPACE, state.workspace);
    location.hash = "#/threads";
    route();
  });
  const link = (hash, label, name) =>
    h("a", { href: hash, "aria-current": active === name ? "page" : null }, label);
  const header = h("header", { class: "top" },
    h("span", { class: "brand" }, "spool"),
    h("nav", { "aria-label": "Sections" },
      link("#/threads", "Threads", "threads"),
      link("#/agents", "Agents", "agents"),
      link("#/keys", "API keys", "keys")),
    h("span", { class: "grow" }),
    switcher,
    h("span", { class: "muted" }, state.user?.email || ""),
    h("button", { id: "signout", onclick: signOut }, "Sign out"));
  app.replaceChildren(header, h("main", { id: "main" }, ...content));
}

// ---- threads --------------------------------------------------------------------

function threadList(selected) {
  const search = h("input", { id: "search", type: "search", placeholder: "Search titles and messages", "aria-label": "Search threads" });
  const agent = h("select", { id: "filter-agent", "aria-label": "Filter by agent" },
    h("option", { value: "" }, "Any agent"),
    state.agents.map((a) => h("option", { value: a.uuid }, a.name)));
  const pinned = h("input", { id: "filter-pinned", type: "checkbox" });
  const list = h("ul", { class: "list", id: "threads", "aria-label": "Threads" });
  const sentinel = h("div", { class: "sentinel muted" });
  let next = null;
  let page = 1;
  let loading = false;
  let generation = 0;

  const filters = () => ({
    search: search.value.trim() || null,
    agent_uuid: agent.value || null,
    pinned: pinned.checked ? "true" : null,
    per_page: PAGE,
  });

  async function load(reset) {
    if (loading && !reset) return;
    const mine = reset ? ++generation : generation;
    if (reset) { list.replaceChildren(); next = null; page = 1; }
    loading = true;
    sentinel.textContent = "Loading…";
    try {
      const query = filters();
      // Search ranks one page at a time (page mode); otherwise keyset pages.
      if (query.search) query.page = page;
      else query.cursor = next ?? "";
      const answer = await api.get("/api/v1/threads", query);
      if (mine !== generation) return;
      for (const t of answer.data) {
        list.append(h("li", {},
          h("a", { class: "item", href: `#/threads/${t.uuid}`, "aria-current": t.uuid === selected ? "true" : null },
            h("div", { class: "title" }, (t.is_pinned ? "Pinned · " : "") + (t.name || "Untitled thread")),
            h("div", { class: "muted" }, `${t.message_count} messages · ${when(t.last_message_at || t.created_at)}`))));
      }
      if (query.search) {
        page += 1;
        next = answer.links?.next ? "more" : null;
      } else {
        next = answer.meta?.next_cursor || null;
      }
      sentinel.textContent = next ? "" : (list.children.length ? "No more threads." : "No threads yet.");
    } catch (err) {
      sentinel.textContent = err.message;
      next = null;
    } finally {
      if (mine === generation) loading = false;
    }
  }

  // Load the next page when the end of the list scrolls into view.
  const observer = new IntersectionObserver((entries) => {
    if (entries.some((e) => e.isIntersecting) && next && !loading) load(false);
  });
  observer.observe(sentinel);

  let typing;
  search.addEventListener("input", () => { clearTimeout(typing); typing = setTimeout(() => load(true), 250); });
  agent.addEventListener("change", () => load(true));
  // A reply changes its thread's count and order: the list follows.
  const changed = () => { if (list.isConnected) load(true); else window.removeEventListener("spool:threads-changed", changed); };
  window.addEventListener("spool:threads-changed", changed);
  pinned.addEventListener("change", () => load(true));

  const newThread = h("button", { class: "primary", id: "new-thread", onclick: async () => {
    const created = await api.post("/api/v1/threads", agent.value ? { agent_uuid: agent.value } : {});
    location.hash = `#/threads/${created.data.uuid}`;
  } }, "New thread");

  load(true);
  return h("section", { "aria-label": "Thread list" },
    h("div", { class: "row" }, search, newThread),
    h("div", { class: "row" }, agent, h("label", { class: "inline", for: "filter-pinned" }, pinned, "Pinned only")),
    list, sentinel);
}

function tokensOf(metadata) {
  const tokens = metadata?.tokens;
  if (tokens === null || tokens === undefined) return null;
  if (typeof tokens === "number") return `${tokens} tokens`;
  const total = tokens.total_tokens ?? tokens.total;
  if (total !== undefined && total !== null) return `${total} tokens`;
  const known = Object.entries(tokens).filter(([, v]) => v !== null && v !== undefined);
  return known.length ? known.map(([k, v]) => `${k} ${v}`).join(", ") : null;
}

function renderToolCalls(calls) {
  if (!calls?.length) return null;
  return h("details", { class: "tools" },
    h("summary", {}, `${calls.length} tool call${calls.length > 1 ? "s" : ""}`),
    calls.map((call) => h("div", {},
      h("strong", {}, call.tool_name || call.name || "tool"),
      h("pre", { text: `arguments: ${JSON.stringify(call.arguments, null, 2)}\n` +
        (call.error ? `error: ${call.error}` : `result: ${typeof call.result === "string" ? call.result : JSON.stringify(call.result, null, 2)}`) }))));
}

function renderAttachments(files) {
  if (!files?.length) return null;
  return h("div", { class: "attachments" }, files.map((file) => {
    const href = file.url || file.download_url || file.href;
    const name = file.name || file.filename || "attachment";
    if (href && /^image\//.test(file.mime_type || file.content_type || "")) {
      return h("a", { href }, h("img", { class: "attachment", src: href, alt: name }));
    }
    return href ? h("a", { href }, name) : h("span", {}, name);
  }));
}

async function rate(thread, message, kind, buttons) {
  if (!thread.agent?.uuid) return;
  const path = `/api/v1/chat/${thread.agent.uuid}/threads/${thread.uuid}/messages/${message.uuid}/feedback`;
  try {
    await request("POST", path, { body: { feedback_type: kind } });
    for (const [name, button] of Object.entries(buttons)) button.setAttribute("aria-pressed", String(name === kind));
  } catch (err) {
    buttons.status.textContent = err.message;
  }
}

// One message: its body is the server's sanitised `content_html` (spool
// renders Markdown and drops raw HTML); the console never renders the
// model's text as HTML itself.
function messageItem(thread, message) {
  const body = h("div", { class: "body" });
  body.innerHTML = message.content_html ?? "";
  const meta = message.metadata || {};
  const status = h("span", { class: "muted" });
  const actions = h("div", { class: "actions" });
  const edit = h("button", { class: "edit", "aria-label": "Edit message", onclick: () => {
    const area = h("textarea", { "aria-label": "Message text" });
    area.value = message.content;
    const save = h("button", { class: "primary", onclick: async () => {
      try {
        const saved = await api.put(`/api/v1/messages/${message.uuid}`, { content: area.value });
        item.replaceWith(messageItem(thread, saved.data));
      } catch (err) { status.textContent = err.message; }
    } }, "Save");
    const cancel = h("button", { onclick: () => item.replaceWith(messageItem(thread, message)) }, "Cancel");
    body.replaceChildren(area, h("div", { class: "row" }, save, cancel));
    area.focus();
  } }, "Edit");
  actions.append(edit);
  if (message.role === "assistant" && thread.agent?.uuid) {
    const buttons = { status };
    buttons.positive = h("button", { "aria-label": "Good answer", "aria-pressed": "false", onclick: () => rate(thread, message, "positive", buttons) }, "Helpful");
    buttons.negative = h("button", { "aria-label": "Bad answer", "aria-pressed": "false", onclick: () => rate(thread, message, "negative", buttons) }, "Not helpful");
    actions.append(buttons.positive, buttons.negative);
  }
  actions.append(status);
  const item = h("li", { class: `message ${message.role}`, "data-uuid": message.uuid },
    h("div", { class: "meta" },
      h("span", { class: "role" }, message.role),
      meta.model ? h("span", {}, meta.model) : null,
      tokensOf(meta) ? h("span", {}, tokensOf(meta)) : null,
      h("span", {}, when(message.created_at))),
    body,
    renderToolCalls(message.tool_calls),
    renderAttachments(message.attachments),
    actions);
  return item;
}

async function allMessages(thread) {
  const messages = [];
  let cursor = "";
  for (;;) {
    const page = await api.get("/api/v1/messages", { thread_uuid: thread, cursor, per_page: 100 });
    messages.push(...page.data);
    cursor = page.meta?.next_cursor;
    if (!cursor) return messages;
  }
}

async function threadView(uuid) {
  const head = h("div", { class: "thread-head" });
  const list = h("ol", { class: "messages", id: "messages", "aria-label": "Messages" });
  const status = h("p", { class: "status", role: "status" });
  const section = h("section", { "aria-label": "Thread" }, head, list, status);
  let thread;
  try {
    thread = (await api.get(`/api/v1/threads/${uuid}`)).data;
  } catch (err) {
    status.textContent = err.status === 404 ? "This thread does not exist here." : err.message;
    return section;
  }

  const title = h("h2", { id: "thread-title" }, thread.name || "Untitled thread");
  const rename = h("button", { id: "rename", onclick: () => {
    const input = h("input", { "aria-label": "Thread title", value: thread.name || "" });
    const save = h("button", { class: "primary", onclick: async () => {
      try {
        thread = (await api.put(`/api/v1/threads/${uuid}`, { name: input.value })).data;
        route();
      } catch (err) { status.textContent = err.message; }
    } }, "Save");
    head.replaceChildren(input, save);
    input.focus();
  } }, "Rename");
  const generate = h("button", { id: "generate-title", onclick: async () => {
    status.textContent = "Writing a title…";
    try {
      await api.post(`/api/v1/threads/${uuid}/generate-name`);
      route();
    } catch (err) { status.textContent = err.message; }
  } }, "Generate title");
  const pin = h("button", { id: "pin", "aria-pressed": String(thread.is_pinned), onclick: async () => {
    await api.post(`/api/v1/threads/${uuid}/${thread.is_pinned ? "unpin" : "pin"}`);
    route();
  } }, thread.is_pinned ? "Unpin" : "Pin");
  const remove = h("button", { class: "danger", id: "delete-thread", onclick: async () => {
    if (!(await confirmDialog("Delete this thread and all its messages?"))) return;
    await api.del(`/api/v1/threads/${uuid}`);
    location.hash = "#/threads";
  } }, "Delete");
  head.append(title, rename, generate, pin, remove);
  if (thread.agent) head.append(h("p", { class: "muted" }, `Agent: ${thread.agent.name}`));

  const saved = JSON.parse(sessionStorage.getItem(STREAM) || "null");
  const resuming = saved && saved.thread === uuid ? saved : null;
  for (const message of await allMessages(uuid)) {
    if (resuming && message.uuid === resuming.message) continue;
    list.append(messageItem(thread, message));
  }

  // Without a choice the server picks: the thread's, the agent's or its default model.
  const model = h("select", { id: "model", "aria-label": "Model" },
    h("option", { value: "" }, "Default model"),
    state.models.map((m) => h("option", { value: m.name }, m.name)));
  const input = h("textarea", { id: "composer", placeholder: "Write a message… (Ctrl+Enter sends)", "aria-label": "Message" });
  const send = h("button", { class: "primary", id: "send", type: "submit" }, "Send");
  const stop = h("button", { id: "stop", type: "button", disabled: true }, "Stop");
  const form = h("form", { class: "composer", "aria-label": "Send a message" }, input, h("div", { class: "row" }, model, h("span", { class: "grow" }), stop, send));
  section.append(form);

  let current = null;
  stop.addEventListener("click", async () => {
    if (!current?.run) return;
    stop.disabled = true;
    try { await api.post(`/api/v1/runs/${current.run}/cancel`); } catch (err) { status.textContent = err.message; }
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) form.requestSubmit();
  });

  // A reply as it streams: text appended piece by piece, then replaced by
  // the stored message (its sanitised HTML) when it completes.
  function follow(stream) {
    current = stream;
    sessionStorage.setItem(STREAM, JSON.stringify(stream));
    const text = h("div", { class: "body streaming", id: "streaming", text: stream.text || "" });
    const writing = h("span", { class: "writing" }, "writing…");
    let bubble = h("li", { class: "message assistant", "data-streaming": "true" },
      h("div", { class: "meta" }, h("span", { class: "role" }, "assistant"), writing), text);
    list.append(bubble);
    send.disabled = true;
    stop.disabled = !stream.run;
    return {
      onEvent(event) {
        if (event.id !== null) stream.last = event.id;
        let data = null;
        try { data = event.data === "[DONE]" ? null : JSON.parse(event.data); } catch { data = null; }
        switch (event.event) {
          case "run.created":
            stream.run = data?.uuid;
            stop.disabled = false;
            break;
          case "message.created":
            if (data?.role === "assistant" || !stream.message) stream.message = data?.uuid;
            break;
          case "message.delta":
            stream.text = (stream.text || "") + (data?.delta?.content || "");
            text.textContent = stream.text;
            break;
          case "message.completed":
            if (data) {
              const stored = messageItem(thread, data);
              bubble.replaceWith(stored);
              bubble = stored;
            }
            stream.completed = true;
            break;
          case "run.failed":
            bubble.classList.add("failed");
            bubble.append(h("p", { class: "error", role: "alert" }, `The run failed: ${data?.error || "unknown error"}`));
            break;
          case "run.cancelled":
            bubble.append(h("p", { class: "muted" }, "Stopped."));
            break;
          default:
        }
        sessionStorage.setItem(STREAM, JSON.stringify(stream));
      },
      finish(error) {
        sessionStorage.removeItem(STREAM);
        current = null;
        send.disabled = false;
        stop.disabled = true;
        if (error) {
          bubble.classList.add("failed");
          bubble.append(h("p", { class: "error", role: "alert" }, error));
        }
        bubble.removeAttribute("data-streaming");
        text.removeAttribute("id");
        window.dispatchEvent(new Event("spool:threads-changed"));
        writing.remove();
        input.focus();
      },
    };
  }

  async function run(content) {
    const stream = { thread: uuid, run: null, message: null, last: 0, text: "" };
    const user = h("li", { class: "message user" }, h("div", { class: "meta" }, h("span", { class: "role" }, "user")), h("div", { class: "body", text: content }));
    list.append(user);
    const view = follow(stream);
    try {
      const response = await request("POST", `/api/v1/threads/${uuid}/run`, {
        body: { content, model: model.value || undefined, stream: true },
        headers: { Accept: "text/event-stream" },
        raw: true,
      });
      await readEvents(response, view.onEvent);
      view.finish();
    } catch (err) {
      view.finish(err.status === 409 ? "A reply is still being written; wait for it or stop it." : err.message);
    }
    // The question as stored, so that it can be edited like the others.
    try {
      const recent = await api.get("/api/v1/messages", { thread_uuid: uuid, order: "desc", cursor: "", per_page: 10 });
      const shown = new Set([...list.querySelectorAll("li[data-uuid]")].map((li) => li.dataset.uuid));
      const stored = recent.data.find((m) => m.role === "user" && m.content === content && !shown.has(m.uuid));
      if (stored) user.replaceWith(messageItem(thread, stored));
    } catch { /* the local copy stays */ }
  }

  async function resume(saved) {
    const view = follow(saved);
    try {
      const response = await request("GET", `/api/v1/runs/${saved.run}/events`, {
        headers: { Accept: "text/event-stream", "Last-Event-ID": String(saved.last || 0) },
        raw: true,
      });
      await readEvents(response, view.onEvent);
      view.finish();
    } catch (err) {
      view.finish(err.message);
    }
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const content = input.value.trim();
    if (!content || current) return;
    input.value = "";
    run(content);
  });

  if (resuming?.run) resume(resuming);
  else if (resuming) sessionStorage.removeItem(STREAM);
  return section;
}

async function threadsPage(selected) {
  const side = threadList(selected);
  const detail = selected
    ? await threadView(selected)
    : h("section", { "aria-label": "Thread" }, h("p", { class: "muted" }, "Pick a thread, or start one."));
  frame("threads", h("div", { class: "split" }, side, detail));
  document.getElementById("composer")?.focus();
}

// ---- agents ---------------------------------------------------------------------

const PERSONA = [
  ["role", "Role"],
  ["goal_statement", "Goal"],
  ["backstory", "Backstory"],
  ["guardrails", "Guardrails"],
  ["tone_of_voice", "Tone of voice"],
];

async function loadAgents() {
  try {
    state.agents = (await api.get("/api/v1/agents", { per_page: 100 })).data;
  } catch {
    state.agents = [];
  }
}

async function agentsPage() {
  await loadAgents();
  const rows = state.agents.map((a) => h("tr", {},
    h("td", {}, h("a", { href: `#/agents/${a.uuid}` }, a.name)),
    h("td", {}, a.visibility),
    h("td", {}, a.metadata?.large_language_model || ""),
    h("td", {}, h("button", { class: "start-thread", onclick: async () => {
      const created = await api.post("/api/v1/threads", { agent_uuid: a.uuid });
      location.hash = `#/threads/${created.data.uuid}`;
    } }, "Start a thread"))));
  frame("agents",
    h("div", { class: "row" }, h("h2", { class: "grow" }, "Agents"), h("a", { href: "#/agents/new", id: "new-agent" }, "New agent")),
    rows.length
      ? h("table", {}, h("thead", {}, h("tr", {}, h("th", {}, "Name"), h("th", {}, "Visibility"), h("th", {}, "Model"), h("th", {}, ""))), h("tbody", {}, rows))
      : h("p", { class: "muted" }, "No agents yet."));
}

async function agentForm(uuid) {
  const agent = uuid ? (await api.get(`/api/v1/agents/${uuid}`)).data : { name: "", metadata: {}, visibility: "workspace" };
  const field = (id, label, value, kind = "input") => {
    const control = h(kind, { id, name: id });
    control.value = value ?? "";
    return [h("label", { for: id }, label), control];
  };
  const status = h("p", { class: "status", role: "status" });
  const model = h("select", { id: "agent-model" }, h("option", { value: "" }, "Server default"),
    state.models.map((m) => h("option", { value: m.name, selected: m.name === agent.metadata?.large_language_model }, m.name)));
  const visibility = h("select", { id: "agent-visibility" },
    ["private", "workspace", "public"].map((v) => h("option", { value: v, selected: v === agent.visibility }, v)));
  const form = h("form", { class: "card", "aria-label": uuid ? "Edit agent" : "New agent" },
    h("h2", {}, uuid ? `Edit ${agent.name}` : "New agent"),
    field("agent-name", "Name", agent.name),
    field("agent-description", "Description", agent.description),
    field("agent-instruction", "Instruction", agent.instruction, "textarea"),
    PERSONA.map(([key, label]) => field(`persona-${key}`, label, agent.metadata?.[key])),
    h("label", { for: "agent-model" }, "Model"), model,
    h("label", { for: "agent-visibility" }, "Visibility"), visibility,
    h("div", { class: "row" }, h("button", { class: "primary", type: "submit", id: "save-agent" }, "Save"), h("a", { href: "#/agents" }, "Cancel")),
    status);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const value = (id) => form.querySelector(`#${id}`).value;
    const metadata = { large_language_model: model.value || null };
    for (const [key] of PERSONA) metadata[key] = value(`persona-${key}`) || null;
    const body = {
      name: value("agent-name"),
      description: value("agent-description") || null,
      instruction: value("agent-instruction") || null,
      visibility: visibility.value,
      metadata,
    };
    try {
      if (uuid) await api.put(`/api/v1/agents/${uuid}`, body);
      else await api.post("/api/v1/agents", body);
      location.hash = "#/agents";
    } catch (err) {
      const problems = err.body?.errors ? Object.values(err.body.errors).flat().join(" ") : err.message;
      status.textContent = problems;
      status.classList.add("error");
    }
  });
  frame("agents", form);
  form.querySelector("#agent-name").focus();
}

// ---- API keys -----------------------------------------------------------------

async function keysPage(shown) {
  let keys = [];
  let problem = null;
  try {
    keys = (await api.get("/api/v1/api-keys", { per_page: 100 })).data;
  } catch (err) {
    problem = err.status === 403 ? "Only the workspace's owners and admins manage its API keys." : err.message;
  }
  const name = h("input", { id: "key-name", placeholder: "What the key is for", "aria-label": "Key name", required: true });
  const status = h("p", { class: "status", role: "status" });
  const form = h("form", { class: "row", "aria-label": "Create an API key" }, name, h("button", { class: "primary", type: "submit", id: "create-key" }, "Create key"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const created = (await api.post("/api/v1/api-keys", { name: name.value })).data;
      keysPage(created);
    } catch (err) { status.textContent = err.message; }
  });
  const secret = shown ? h("div", { class: "card", id: "new-key" },
    h("h3", {}, `Key “${shown.name}” created`),
    h("p", {}, "Copy it now: it is shown only this once."),
    h("div", { class: "row" },
      h("code", { class: "secret grow", id: "new-key-value" }, shown.key),
      h("button", { onclick: async (event) => {
        try { await navigator.clipboard.writeText(shown.key); event.target.textContent = "Copied"; } catch { event.target.textContent = "Select and copy by hand"; }
      } }, "Copy"))) : null;
  const rows = keys.map((k) => h("tr", {},
    h("td", {}, k.name), h("td", {}, h("code", {}, `${k.prefix}…`)),
    h("td", {}, when(k.created_at)), h("td", {}, k.last_used_at ? when(k.last_used_at) : "never"),
    h("td", {}, k.revoked_at ? `revoked ${when(k.revoked_at)}` : h("button", { class: "danger", onclick: async () => {
      if (!(await confirmDialog(`Revoke the key “${k.name}”? Clients using it stop working.`, "Revoke"))) return;
      await api.del(`/api/v1/api-keys/${k.uuid}`);
      keysPage();
    } }, "Revoke"))));
  frame("keys",
    h("h2", {}, "API keys"),
    problem ? h("p", { class: "error" }, problem) : [form, status, secret,
      rows.length ? h("table", {}, h("thead", {}, h("tr", {}, ["Name", "Key", "Created", "Last used", ""].map((t) => h("th", {}, t)))), h("tbody", {}, rows)) : h("p", { class: "muted" }, "No keys yet.")]);
}

// ---- routing ------------------------------------------------------------------

async function route() {
  if (!token()) return showSignIn();
  const [, section, id] = location.hash.split("/");
  try {
    if (section === "agents" && id === "new") await agentForm(null);
    else if (section === "agents" && id) await agentForm(id);
    else if (section === "agents") await agentsPage();
    else if (section === "keys") await keysPage();
    else {
      await loadAgents();
      await threadsPage(id);
    }
  } catch (err) {
    if (err.status !== 401) frame(section || "threads", h("p", { class: "error", role: "alert" }, err.message));
  }
}

async function start() {
  if (!token()) return showSignIn();
  try {
    state.user = (await api.get("/api/v1/user")).data;
    state.workspaces = (await api.get("/api/v1/workspaces", { per_page: 100 })).data;
    state.models = (await api.get("/api/v1/large-language-models")).data;
  } catch (err) {
    if (err.status !== 401) showSignIn(err.message);
    return;
  }
  const kept = localStorage.getItem(WORKSPACE);
  const primary = state.user.primary_workspace?.uuid ?? state.user.primary_workspace;
  state.workspace = state.workspaces.some((w) => w.uuid === kept) ? kept
    : (state.workspaces.find((w) => w.uuid === primary) || state.workspaces[0])?.uuid;
  await route();
}

window.addEventListener("hashchange", route);
start();
