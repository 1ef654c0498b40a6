// weft's web UI: a few views over the node's local /v1 API, which the
// page reaches with its session cookie. No framework and nothing loaded
// from elsewhere; every text shown comes from /ui/i18n/<lang> and every
// value from the node is put into the page as text, never as HTML.
"use strict";

let L = {};          // the current language's texts
let lang = "en";
const $ = (sel) => document.querySelector(sel);

function T(key, args) {
  let s = L[key] || key;
  for (const [k, v] of Object.entries(args || {})) s = s.split("{" + k + "}").join(String(v));
  return s;
}

// Replaces the view with `kids` (nested lists and nulls allowed).
function show(...kids) {
  $("#view").replaceChildren(...kids.flat(Infinity).filter((k) => k !== null && k !== undefined && k !== false));
}

// Builds an element: h("a", {href: "#/"}, "text", child, ...).
function h(tag, attrs, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "text") el.textContent = v;
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const kid of kids.flat(Infinity)) {
    if (kid === null || kid === undefined || kid === false) continue;
    el.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
  }
  return el;
}

function human(n) {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let u = 0, v = Number(n) || 0;
  while (v >= 1024 && u < units.length - 1) { v /= 1024; u++; }
  return u === 0 ? v + " B" : v.toFixed(1) + " " + units[u];
}

function toast(msg, isError) {
  const t = $("#toast");
  t.textContent = msg;
  t.className = "show" + (isError ? " error" : "");
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { t.className = ""; }, 6000);
}

class ApiFailure extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

async function api(method, path, body) {
  const opts = { method, credentials: "same-origin", headers: {} };
  if (body !== undefined) {
    opts.headers["Content-Type"] = "application/json";
    opts.body = JSON.stringify(body);
  }
  const r = await fetch(path, opts);
  let data = null;
  try { data = await r.json(); } catch (_) { data = null; }
  if (!r.ok) {
    if (r.status === 401) { showLogin(); }
    throw new ApiFailure(r.status, (data && data.error) || r.statusText);
  }
  return data;
}

function showLogin() {
  show(h("p", { class: "error", id: "login-needed" }, T("login.needed")));
}

function fail(e) {
  toast(T("error.generic", { error: e.message }), true);
}

// The best title or text of a list for the chosen language.
function pick(list) {
  if (!list || !list.length) return null;
  const exact = list.find((t) => t.lang.toLowerCase() === lang);
  const prefix = list.find((t) => t.lang.toLowerCase().split("-")[0] === lang);
  return exact || prefix || list[0];
}

// ---- jobs and progress ----

// Polls a job until it ends, showing its progress in `box`.
async function follow(job, box, key) {
  const bar = h("progress", { id: "progress", max: 1, value: 0 });
  const label = h("span", { id: "progress-text" });
  box.replaceChildren(h("div", { class: "progress" }, bar, " ", label));
  for (;;) {
    const j = await api("GET", "/v1/jobs/" + job + "?wait_ms=500");
    if (j.total_bytes > 0) { bar.max = j.total_bytes; bar.value = j.done_bytes; }
    label.textContent = T(key, { done: human(j.done_bytes), total: human(j.total_bytes) });
    box.dataset.state = j.state;
    if (j.state === "done") {
      bar.max = 1; bar.value = 1;
      label.textContent = T("progress.done");
      return j.result;
    }
    if (j.state === "failed") {
      label.textContent = T("progress.failed", { error: j.error });
      label.className = "error";
      throw new ApiFailure(j.status, j.error);
    }
  }
}

// ---- views ----

async function viewCatalog(params) {
  const q = params.get("q") || "", fl = params.get("lang") || "", tag = params.get("tag") || "",
    pub = params.get("publisher") || "", trusted = params.get("trusted_only") === "true";
  const input = (name, value, label, extra) => h("label", { class: "field" }, label,
    h("input", Object.assign({ type: "text", name, id: "search-" + name, value }, extra || {})));
  const form = h("form", { class: "bar", id: "search", role: "search" },
    input("q", q, T("search.label"), { type: "search", placeholder: T("search.placeholder") }),
    input("lang", fl, T("filter.lang"), { size: 6 }),
    input("tag", tag, T("filter.tag"), { size: 10 }),
    input("publisher", pub, T("filter.publisher"), { size: 20 }),
    h("label", { class: "check" }, h("input", { type: "checkbox", name: "trusted_only",
      id: "search-trusted_only", checked: trusted }), T("filter.trusted_only")),
    h("button", { type: "submit", id: "search-go" }, T("search.button")));
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const p = new URLSearchParams();
    for (const k of ["q", "lang", "tag", "publisher"]) {
      const v = form.elements[k].value.trim();
      if (v) p.set(k, v);
    }
    if (form.elements.trusted_only.checked) p.set("trusted_only", "true");
    location.hash = "#/?" + p.toString();
  });
  const list = h("div", { id: "results" }, T("catalog.loading"));
  show(h("h1", {}, T("nav.catalog")), form, list);
  const p = new URLSearchParams({ limit: "200" });
  if (q) p.set("q", q);
  if (fl) p.set("lang", fl);
  if (tag) p.set("tag", tag);
  if (pub) p.set("publisher", pub);
  if (trusted) p.set("trusted_only", "true");
  const [r, groups] = await Promise.all([api("GET", "/v1/search?" + p.toString()), groupNames()]);
  if (!r.results.length) {
    list.replaceChildren(h("p", { class: "muted" }, T("catalog.empty")));
    return;
  }
  list.replaceChildren(
    h("p", { class: "muted", id: "matched" }, T("catalog.matched", { n: r.matched })),
    resultList(r.results, groups));
}

// The names of the groups this node can read, by id.
async function groupNames() {
  const g = await api("GET", "/v1/groups");
  return Object.fromEntries(g.groups.filter((x) => x.name !== null).map((x) => [x.id, x.name]));
}

// A list of search results; `groups` names the groups of private ones.
function resultList(results, groups) {
  return h("ul", { class: "results" }, results.map((b) => h("li", { class: "result" },
      h("a", { href: "#/b/" + b.id }, (pick(b.titles) || { title: b.name }).title),
      b.group ? h("span", { class: "badge private" }, T("group.private_badge", { group: groups[b.group] || b.group.slice(0, 12) })) : null,
      b.local ? h("span", { class: "badge" }, T("catalog.held")) : null,
      b.pinned ? h("span", { class: "badge" }, T("catalog.pinned")) : null,
      b.retracted ? h("span", { class: "badge warn" }, T("bundle.retracted")) : null,
      b.contested ? h("span", { class: "badge warn contested" }, T("catalog.contested")) : null,
      b.tier === "trusted" || b.tier === "vouched" ? h("span", { class: "badge tier" }, T("tier." + b.tier)) : null,
      h("div", { class: "meta" }, b.name, " · ", human(b.size), " · ",
        T("bundle.file_count", { n: b.files }), b.tags.length ? " · " + b.tags.join(", ") : "",
        " · ", who(b.publisher_name)))));
}

// How a publisher is shown: your name for it, else its own claim (marked),
// its fingerprint, and a warning when another key claims the same name.
function who(n) {
  if (!n) return "";
  const parts = [];
  if (n.petname) parts.push(h("span", { class: "who" }, n.petname), " ");
  else if (n.profile_name) parts.push(h("span", { class: "who" }, n.profile_name), " ",
    h("small", {}, "(" + T("publisher.own_claim") + ")"), " ");
  parts.push(h("span", { class: "fp", title: T("publisher.fingerprint") }, n.fingerprint));
  if (n.same_name && !n.petname) parts.push(" ", h("span", { class: "same-name" }, T("publisher.same_name")));
  return h("span", { class: "publisher" }, parts);
}

async function viewBundle(id) {
  const [b, groups] = await Promise.all([api("GET", "/v1/bundles/" + encodeURIComponent(id)), groupNames()]);
  const text = pick(b.texts) || pick(b.titles) || { title: b.name, description: "" };
  const box = h("div", { id: "job" });
  const actions = h("div", { class: "actions" });
  const run = async (body) => {
    for (const btn of actions.querySelectorAll("button")) btn.disabled = true;
    try {
      const { job } = await api("POST", "/v1/fetch", body);
      await follow(job, box, "progress.fetching");
      await viewBundle(id);
    } catch (e) { fail(e); for (const btn of actions.querySelectorAll("button")) btn.disabled = false; }
  };
  if (!b.local) {
    actions.append(
      h("button", { id: "btn-fetch", onclick: () => run({ id: b.id }) }, T("bundle.fetch")),
      h("button", { id: "btn-fetch-pin", class: "secondary", onclick: () => run({ id: b.id, pin: true }) },
        T("bundle.fetch_pin")));
  } else if (!b.pinned) {
    actions.append(h("button", { id: "btn-pin", onclick: () => run({ id: b.id, pin: true }) }, T("bundle.pin")));
  } else {
    actions.append(h("button", {
      id: "btn-unpin", class: "secondary", onclick: async () => {
        try { await api("POST", "/v1/unpin", { id: b.id }); await viewBundle(id); } catch (e) { fail(e); }
      },
    }, T("bundle.unpin")));
  }
  const state = b.local ? (b.pinned ? T("bundle.pinned") : T("bundle.held") + " · " + T("bundle.not_pinned"))
    : T("bundle.not_local");
  const rows = [
    ["bundle.name", b.name], ["bundle.version", b.seq], ["bundle.size", human(b.size)],
    ["bundle.tags", b.tags.join(", ")], ["bundle.licence", b.licence || ""],
    ["bundle.created", new Date(b.created * 1000).toLocaleDateString(lang)],
    ["bundle.publisher", h("span", {}, who(b.publisher_name), " · " + b.publisher + " (" + T("tier." + b.tier) + ")")],
    ["bundle.id", b.id],
    ["bundle.other_langs", (b.texts || b.titles).map((t) => t.lang).join(", ")],
  ].filter(([, v]) => v !== "");
  // Previews of a held public bundle: the page's own elements, from this
  // node's sandboxed file and preview routes; nothing of the files runs.
  let previews = null;
  if (b.local && !b.group) {
    try {
      const p = await api("GET", "/ui/previews/" + encodeURIComponent(b.id));
      if (p.previews.length) previews = [h("h2", {}, T("preview.title")), h("div", { class: "previews", id: "previews" },
        p.previews.map((f) => previewOf(b.id, f)))];
    } catch (_) { /* no previews, the files are still listed */ }
  }
  const files = b.file_list ? [h("h2", {}, T("bundle.files")), h("table", { id: "files" },
    h("tbody", {}, b.file_list.map((f) => h("tr", {}, h("td", {}, f.path), h("td", { class: "muted" }, human(f.size))))))] : [];
  show(
    h("p", {}, h("a", { href: "#/" }, "← " + T("bundle.back"))),
    h("h1", { id: "bundle-title", lang: text.lang }, text.title),
    text.description ? h("p", { id: "bundle-description", lang: text.lang }, text.description) : null,
    b.contested ? h("p", { class: "warn", id: "bundle-contested", role: "alert" }, T("bundle.contested")) : null,
    b.retracted ? h("p", { class: "error" }, T("bundle.retracted")) : null,
    b.superseded_by ? h("p", {}, h("a", { href: "#/b/" + b.superseded_by }, T("bundle.superseded"))) : null,
    b.group ? h("p", { id: "bundle-private", class: "private-note" }, T("group.private_note") + " ",
      h("a", { href: "#/g/" + b.group }, groups[b.group] || b.group)) : null,
    h("p", { id: "bundle-state", class: "muted" }, state),
    actions, box,
    b.revoked ? h("p", { class: "error", id: "bundle-revoked" }, T("bundle.revoked")) : null,
    h("dl", {}, rows.map(([k, v]) => [h("dt", {}, T(k)), h("dd", {}, v instanceof Node ? v : String(v))])),
    previews, files);
}

// One file's preview: an element whose source is this node's sandboxed
// route for it.
function previewOf(id, f) {
  const path = f.path.split("/").map(encodeURIComponent).join("/");
  const raw = "/ui/file/" + encodeURIComponent(id) + "/" + path;
  const rendered = "/ui/preview/" + encodeURIComponent(id) + "/" + path;
  const shown = {
    image: () => h("img", { src: raw, alt: f.path, loading: "lazy" }),
    audio: () => h("audio", { controls: true, preload: "metadata", src: raw, "aria-label": f.path }),
    video: () => h("video", { controls: true, preload: "metadata", src: raw, "aria-label": f.path }),
    pdf: () => h("img", { src: rendered, alt: T("preview.pdf_page", { name: f.path }), loading: "lazy" }),
    text: () => h("iframe", { sandbox: "", src: rendered, title: f.path, loading: "lazy" }),
    markdown: () => h("iframe", { sandbox: "", src: rendered, title: f.path, loading: "lazy" }),
  }[f.kind];
  return h("figure", { class: "preview preview-" + f.kind, "data-path": f.path },
    shown ? shown() : null, h("figcaption", {}, f.path));
}

async function viewPublish(params) {
  const [status, groups] = await Promise.all([api("GET", "/v1/status"), api("GET", "/v1/groups")]);
  const readable = groups.groups.filter((g) => g.readable && g.member);
  const audience = h("select", { id: "pub-group" },
    h("option", { value: "" }, T("publish.everyone")),
    readable.map((g) => h("option", { value: g.id, selected: g.id === params.get("group") }, T("publish.group_only", { group: g.name }))));
  const box = h("div", { id: "job" });
  const textRow = (l) => h("div", { class: "text-row" },
    h("label", { class: "field" }, T("publish.lang"), h("input", { type: "text", name: "t-lang", value: l, size: 6, required: true })),
    h("label", { class: "field" }, T("publish.title"), h("input", { type: "text", name: "t-title" })),
    h("span", {}),
    h("label", { class: "field" }, T("publish.description"), h("textarea", { name: "t-desc" })));
  const texts = h("div", { id: "texts" }, textRow(lang));
  const field = (label, input, hint) => h("label", { class: "field" }, label, input, hint ? h("span", { class: "muted" }, hint) : null);
  const folder = h("input", { type: "text", id: "pub-folder", name: "folder", placeholder: T("publish.folder_hint") });
  const filesIn = h("input", { type: "file", id: "pub-files", multiple: true });
  const dirIn = h("input", { type: "file", id: "pub-dir", webkitdirectory: true, multiple: true });
  const name = h("input", { type: "text", id: "pub-name", name: "name", required: true });
  const tags = h("input", { type: "text", id: "pub-tags" });
  const licence = h("input", { type: "text", id: "pub-licence", placeholder: "CC-BY-SA-4.0" });
  const pass = h("input", { type: "password", id: "pub-pass", autocomplete: "off" });
  const guess = (v) => v.replace(/\/+$/, "").split("/").pop().toLowerCase().replace(/[^a-z0-9._-]+/g, "-").replace(/^[-.]+/, "").slice(0, 64);
  folder.addEventListener("change", () => { if (!name.value) name.value = guess(folder.value); });
  for (const inp of [filesIn, dirIn]) inp.addEventListener("change", () => {
    const f = inp.files[0];
    if (f && !name.value) name.value = guess((f.webkitRelativePath || f.name).split("/")[0].replace(/\.[^.]*$/, ""));
  });
  // Files uploaded once are kept for another try if publishing fails.
  let staged = null;
  const form = h("form", { id: "publish" },
    h("p", {}, T("publish.intro")),
    status.publisher ? null : h("p", { class: "error" }, T("publish.no_key")),
    h("h2", {}, T("publish.source")),
    h("fieldset", {}, field(T("publish.folder"), folder), field(T("publish.upload"), filesIn),
      field(T("publish.upload_folder"), dirIn)),
    h("fieldset", {}, field(T("publish.name"), name, T("publish.name_hint")), field(T("publish.tags"), tags),
      field(T("publish.licence"), licence)),
    h("h2", {}, T("publish.audience")),
    h("fieldset", {}, field(T("publish.share_with"), audience, T("publish.audience_hint"))),
    h("h2", {}, T("publish.texts")), texts,
    h("p", {}, h("button", { type: "button", class: "secondary", id: "add-lang", onclick: () => texts.append(textRow("")) }, T("publish.add_lang"))),
    status.publisher_locked ? h("fieldset", {}, field(T("publish.passphrase"), pass)) : null,
    h("p", {}, h("button", { type: "submit", id: "pub-submit" }, T("publish.submit"))), box);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const chosen = [...filesIn.files, ...dirIn.files];
    if (!folder.value.trim() && !chosen.length) return toast(T("publish.need_source"), true);
    const rows = [...texts.querySelectorAll(".text-row")].map((r) => ({
      lang: r.querySelector("[name=t-lang]").value.trim(),
      title: r.querySelector("[name=t-title]").value.trim(),
      description: r.querySelector("[name=t-desc]").value.trim(),
    })).filter((t) => t.title);
    if (!rows.length) return toast(T("publish.need_title"), true);
    const submit = $("#pub-submit");
    submit.disabled = true;
    try {
      let path = folder.value.trim();
      const key = chosen.map((f) => (f.webkitRelativePath || f.name) + ":" + f.size).join("/");
      if (!path && staged && staged.key === key) {
        path = staged.path;
      } else if (!path) {
        const up = await api("POST", "/v1/uploads");
        path = up.path;
        for (const f of chosen) {
          box.replaceChildren(h("p", { id: "upload-progress" }, T("progress.uploading", { name: f.name })));
          // A folder upload keeps its inner layout, without the folder itself.
          const rel = f.webkitRelativePath ? f.webkitRelativePath.split("/").slice(1).join("/") : f.name;
          const r = await fetch("/v1/uploads/" + up.upload + "?path=" + encodeURIComponent(rel), {
            method: "POST", credentials: "same-origin", headers: { "Content-Type": "application/octet-stream" }, body: f,
          });
          if (!r.ok) { const d = await r.json().catch(() => ({})); throw new ApiFailure(r.status, d.error || r.statusText); }
        }
        staged = { key, path };
      }
      const body = {
        path, texts: rows, tags: tags.value.split(",").map((t) => t.trim()).filter(Boolean),
        licence: licence.value.trim(),
      };
      if (name.value.trim()) body.name = name.value.trim();
      if (pass.value) body.passphrase = pass.value;
      if (audience.value) body.group = audience.value;
      const { job } = await api("POST", "/v1/publish", body);
      const result = await follow(job, box, "progress.publishing");
      staged = null;
      box.append(h("p", { id: "published" }, T("publish.done"), " ", h("a", { href: "#/b/" + result.id }, T("publish.open"))));
    } catch (e) { fail(e); } finally { submit.disabled = false; }
  });
  show(h("h1", {}, T("nav.publish")), form);
}

// A passphrase field, shown only when the publisher key is sealed with one.
function passField(status) {
  if (!status.publisher_locked) return [null, () => ({})];
  const pass = h("input", { type: "password", name: "passphrase", autocomplete: "off" });
  return [h("label", { class: "field" }, T("publish.passphrase"), pass),
    () => (pass.value ? { passphrase: pass.value } : {})];
}

async function viewGroups() {
  const [g, status] = await Promise.all([api("GET", "/v1/groups"), api("GET", "/v1/status")]);
  const name = h("input", { type: "text", id: "group-name", name: "name", required: true, maxlength: 64 });
  const [passEl, passBody] = passField(status);
  const form = h("form", { class: "bar", id: "group-create" },
    h("label", { class: "field" }, T("groups.name"), name), passEl,
    h("button", { type: "submit" }, T("groups.create")));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      const v = await api("POST", "/v1/group", Object.assign({ name: name.value.trim() }, passBody()));
      location.hash = "#/g/" + v.id;
    } catch (e) { fail(e); }
  });
  const rows = g.groups.map((x) => h("tr", {},
    h("td", {}, x.name !== null ? h("a", { href: "#/g/" + x.id }, x.name) : h("span", { class: "muted" }, T("groups.unreadable"))),
    h("td", {}, T("groups.member_count", { n: x.members.length })),
    h("td", {}, T("groups.bundle_count", { n: x.bundles })),
    h("td", {}, x.admin ? h("span", { class: "badge" }, T("groups.you_admin"))
      : x.member ? h("span", { class: "badge" }, T("groups.you_member")) : null),
    h("td", {}, h("code", {}, x.id))));
  show(h("h1", {}, T("nav.groups")), h("p", { class: "muted" }, T("groups.intro")),
    status.publisher ? null : h("p", { class: "error" }, T("publish.no_key")),
    rows.length ? h("table", { id: "groups" }, h("tbody", {}, rows)) : h("p", { class: "muted", id: "groups" }, T("groups.none")),
    h("h2", {}, T("groups.new")), form);
}

async function viewGroup(id) {
  const [g, status, names] = await Promise.all([api("GET", "/v1/groups/" + encodeURIComponent(id)),
    api("GET", "/v1/status"), api("GET", "/v1/names")]);
  const found = g.readable ? await api("GET", "/v1/search?limit=1000&group=" + g.id) : { results: [] };
  const change = async (path, body) => {
    try {
      await api("POST", "/v1/groups/" + g.id + path, body);
      await viewGroup(g.id);
      toast(T("groups.changed"));
    } catch (e) { fail(e); }
  };
  const [passEl, passBody] = passField(status);
  const members = g.members.length ? h("table", { id: "members" }, h("tbody", {}, g.members.map((m) => h("tr", {},
    h("td", {}, who(m.name), m.publisher === status.publisher ? h("small", {}, " (" + T("groups.you") + ")") : null),
    h("td", {}, m.admin ? h("span", { class: "badge" }, T("groups.admin")) : null),
    h("td", {}, g.admin && m.publisher !== status.publisher ? h("button", {
      class: "secondary", "aria-label": T("groups.remove_who", { who: m.name.petname || m.name.fingerprint }),
      onclick: () => change("/remove", Object.assign({ member: m.publisher }, passBody())),
    }, T("groups.remove")) : null)))))
    : h("p", { class: "muted" }, T("groups.members_hidden"));
  let add = null;
  if (g.admin) {
    const member = h("input", { type: "text", id: "member", name: "member", required: true, list: "petnames" });
    const history = h("input", { type: "checkbox", id: "member-history" });
    const admin = h("input", { type: "checkbox", id: "member-admin" });
    add = h("form", { class: "bar", id: "member-add" },
      h("label", { class: "field" }, T("groups.member"), member,
        h("datalist", { id: "petnames" }, names.names.map((n) => h("option", { value: n.name.petname || n.publisher })))),
      h("label", { class: "check" }, history, T("groups.history")),
      h("label", { class: "check" }, admin, T("groups.make_admin")), passEl,
      h("button", { type: "submit" }, T("groups.add")));
    add.addEventListener("submit", (ev) => {
      ev.preventDefault();
      change("/add", Object.assign({ member: member.value.trim(), history: history.checked, admin: admin.checked }, passBody()));
    });
  }
  const role = g.admin ? T("groups.you_admin") : g.member ? T("groups.you_member") : T("groups.you_outside");
  show(
    h("p", {}, h("a", { href: "#/groups" }, "← " + T("groups.back"))),
    h("h1", { id: "group-title" }, g.name !== null ? g.name : T("groups.unreadable")),
    h("p", { class: "muted", id: "group-role" }, role),
    g.rekey_due ? h("p", { class: "warn", id: "group-rekey-due", role: "alert" }, T("groups.rekey_due")) : null,
    g.admin ? h("p", {}, h("button", { class: g.rekey_due ? null : "secondary", id: "btn-rekey",
      onclick: () => change("/rekey", passBody()) }, T("groups.rekey")), " ",
    h("span", { class: "muted" }, T("groups.rekey_hint"))) : null,
    h("dl", {}, [["groups.id", h("code", {}, g.id)], ["groups.epoch", String(g.epoch)],
      ["groups.readable", g.readable ? T("groups.yes") : T("groups.no")]].map(([k, v]) => [h("dt", {}, T(k)),
      h("dd", { id: "group-" + k.split(".")[1] }, v)])),
    h("h2", {}, T("groups.members")), members,
    add ? [h("h2", {}, T("groups.add_member")), h("p", { class: "muted" }, T("groups.add_hint")), add] : null,
    h("h2", {}, T("groups.bundles")),
    g.readable && g.member ? h("p", {}, h("a", { href: "#/publish?group=" + g.id, id: "group-publish" }, T("groups.publish_here"))) : null,
    found.results.length ? h("div", { id: "group-bundles" }, resultList(found.results, { [g.id]: g.name }))
      : h("p", { class: "muted", id: "group-bundles" }, T("groups.no_bundles")));
}

async function viewRules() {
  const r = await api("GET", "/v1/rules");
  const change = async (path, body) => {
    try { await api("POST", path, body); await viewRules(); } catch (e) { fail(e); }
  };
  const list = (rules, kinds, removePath) => {
    const items = [];
    for (const [kind, key] of kinds) {
      for (const v of (rules && rules[key]) || []) {
        const named = kind === "publisher" && r.names && r.names[v] ? [who(r.names[v]), " "] : [];
        items.push(h("tr", {}, h("td", {}, T("rules." + kind)), h("td", {}, named, h("code", {}, v)),
          h("td", {}, h("button", { class: "secondary", onclick: () => change(removePath, { [kind]: v }) }, T("rules.remove")))));
      }
    }
    return items.length ? h("table", {}, h("tbody", {}, items)) : h("p", { class: "muted" }, T("rules.none"));
  };
  const addForm = (path, kinds, id) => {
    const kind = h("select", { name: "kind" }, kinds.map((k) => h("option", { value: k }, T("rules." + k))));
    const value = h("input", { type: "text", name: "value", required: true });
    const f = h("form", { class: "bar", id },
      h("label", { class: "field" }, T("rules.kind"), kind), h("label", { class: "field" }, T("rules.value"), value),
      h("button", { type: "submit" }, path === "/v1/follow" ? T("rules.follow") : T("rules.block")));
    f.addEventListener("submit", (ev) => { ev.preventDefault(); change(path, { [kind.value]: value.value.trim() }); });
    return f;
  };
  const follows = [["publisher", "publishers"], ["tag", "tags"], ["lang", "langs"], ["group", "groups"]];
  show(
    h("h1", {}, T("nav.rules")), h("p", { class: "muted" }, T("rules.intro")),
    h("h2", {}, T("rules.following")), h("div", { id: "follow-list" }, list(r.follow, follows, "/v1/unfollow")),
    addForm("/v1/follow", ["publisher", "tag", "lang", "group"], "follow-form"),
    h("h2", {}, T("rules.blocked")), h("div", { id: "block-list" }, list(r.block, [["publisher", "publishers"]], "/v1/unblock")),
    addForm("/v1/block", ["publisher"], "block-form"));
}

async function viewNetwork() {
  const [p, d, s] = await Promise.all([api("GET", "/v1/peers"), api("GET", "/v1/doctor"), api("GET", "/v1/status")]);
  const addr = h("input", { type: "text", id: "connect-addr", placeholder: T("network.connect_hint"), size: 50 });
  const form = h("form", { class: "bar" }, h("label", { class: "field" }, T("network.connect"), addr),
    h("button", { type: "submit" }, T("network.connect_button")));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try { await api("POST", "/v1/connect", { addr: addr.value.trim() }); await viewNetwork(); } catch (e) { fail(e); }
  });
  const path = (x) => h("span", { class: x.relayed ? "badge warn" : "badge" },
    x.relayed ? T("network.relayed") : T("network.direct"));
  const others = (x) => (x.connections || []).slice(1).map((c) => c.transport).join(", ");
  const peers = p.peers.length ? h("table", { id: "peers" }, h("thead", {}, h("tr", {},
    h("th", {}, T("network.peer")), h("th", {}, T("network.path")), h("th", {}, T("network.addresses")),
    h("th", {}, T("network.transport")), h("th", {}, T("network.score")))),
  h("tbody", {}, p.peers.map((x) => h("tr", {}, h("td", {}, h("code", {}, x.peer_id)), h("td", { class: "path" }, path(x)),
    h("td", {}, x.address),
    h("td", {}, x.transport, others(x) ? h("div", { class: "muted" }, T("network.also", { list: others(x) })) : null),
    h("td", {}, x.score === null ? "" : x.score.toFixed(1))))))
    : h("p", { class: "muted" }, T("network.none"));
  const relayed = h("p", { class: "muted", id: "relayed-bytes" },
    T("network.relayed_bytes", { bytes: human(s.counters.bytes_relayed || 0) }));
  const findings = h("div", { id: "findings" }, d.findings.map((f) => h("div", { class: "finding level-" + f.level },
    h("strong", {}, f.level), " ", f.finding,
    f.suggestion ? h("div", { class: "muted" }, T("network.suggestion") + ": " + f.suggestion) : null)));
  show(h("h1", {}, T("nav.network")), h("p", { id: "ip-visibility", class: "private-note" }, d.ip_visibility),
    h("h2", {}, T("network.peers")), peers, relayed, form,
    h("h2", {}, T("network.checks")), findings);
}

async function viewStorage() {
  const [s, p] = await Promise.all([api("GET", "/v1/status"), api("GET", "/v1/pins")]);
  const st = s.storage;
  const used = st.max ? T("storage.of_quota", { used: human(st.used), max: human(st.max) }) : human(st.used);
  const rows = [
    ["storage.used", used], ["storage.pinned", human(st.pinned)], ["storage.cached", human(st.cached)],
    ["storage.quota", st.max ? human(st.max) : T("storage.no_quota")], ["storage.disk", human(st.disk)],
  ];
  show(
    h("h1", {}, T("nav.storage")), h("p", { class: "muted" }, T("storage.intro")),
    st.max ? h("meter", { id: "quota", min: 0, max: st.max, value: st.used, high: st.max * 0.9 }) : null,
    h("dl", { id: "storage" }, rows.map(([k, v]) => [h("dt", {}, T(k)), h("dd", {}, v)])),
    s.warnings.length ? [h("h2", {}, T("storage.warnings")), h("ul", {}, s.warnings.map((w) => h("li", { class: "error" }, w)))] : null,
    h("h2", {}, T("storage.pins")),
    p.pins.length ? h("table", { id: "pins" }, h("tbody", {}, p.pins.map((x) => h("tr", {},
      h("td", {}, h("a", { href: "#/b/" + x.id }, x.name || x.id)), h("td", {}, x.size === null ? "" : human(x.size)),
      h("td", { class: "muted" }, x.kind)))))
      : h("p", { class: "muted" }, T("storage.none")));
}

// ---- routing and language ----

async function summary() {
  try {
    const s = await api("GET", "/v1/status");
    $("#summary").textContent = T("status.peers", { n: s.connected_peers }) + " · " + T("status.catalog", { n: s.catalog });
  } catch (_) { /* shown by the view */ }
}

async function route() {
  const hash = location.hash.replace(/^#/, "") || "/";
  const [path, query] = hash.split("?");
  const params = new URLSearchParams(query || "");
  const parts = path.split("/").filter(Boolean);
  const name = parts[0] === "b" ? "catalog" : parts[0] === "g" ? "groups" : (parts[0] || "catalog");
  for (const a of document.querySelectorAll("#nav a")) a.classList.toggle("current", a.dataset.view === name);
  document.body.dataset.view = parts[0] === "b" ? "bundle" : parts[0] === "g" ? "group" : name;
  try {
    if (parts[0] === "b" && parts[1]) await viewBundle(decodeURIComponent(parts[1]));
    else if (parts[0] === "publish") await viewPublish(params);
    else if (parts[0] === "groups") await viewGroups();
    else if (parts[0] === "g" && parts[1]) await viewGroup(decodeURIComponent(parts[1]));
    else if (parts[0] === "rules") await viewRules();
    else if (parts[0] === "network") await viewNetwork();
    else if (parts[0] === "storage") await viewStorage();
    else await viewCatalog(params);
    document.body.dataset.ready = "1";
  } catch (e) {
    if (e.status !== 401) {
      show(h("p", { class: "error", id: "view-error" }, T("error.generic", { error: e.message })));
    }
  }
}

async function setLang(code) {
  const r = await fetch("/ui/i18n/" + code, { credentials: "same-origin" });
  if (!r.ok) return;
  L = await r.json();
  lang = code;
  document.documentElement.lang = code;
  // Arabic and other right-to-left scripts: the whole layout mirrors.
  document.documentElement.dir = L["lang.dir"] === "rtl" ? "rtl" : "ltr";
  for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = T(el.dataset.i18n);
  $("#lang").value = code;
}

async function start() {
  const offered = [...$("#lang").options].map((o) => o.value);
  const saved = localStorage.getItem("weft.lang");
  const browser = (navigator.languages || [navigator.language || "en"])
    .map((l) => l.toLowerCase().split("-")[0]).find((l) => offered.includes(l));
  await setLang(offered.includes(saved) ? saved : (browser || "en"));
  $("#lang").addEventListener("change", async (ev) => {
    localStorage.setItem("weft.lang", ev.target.value);
    await setLang(ev.target.value);
    document.body.dataset.ready = "";
    await Promise.all([route(), summary()]);
  });
  window.addEventListener("hashchange", () => { document.body.dataset.ready = ""; route(); });
  await Promise.all([route(), summary()]);
}

start();
