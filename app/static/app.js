// The booking page: token, barber/service/day, free times, booking, live updates.
// No build step and no framework. The server decides what is free and what may be
// booked; this script shows its answers and keeps them fresh:
//   - GET /barbers, /services, /availability (Authorization: Bearer <token>)
//   - POST /appointments with an Idempotency-Key made once per booking attempt
//   - GET /barbers/{id}/events read with fetch() and a stream reader (EventSource cannot
//     send the Authorization header), resumed with Last-Event-ID; every event and every
//     (re)connection refetches the free times and the day of the barber.
//   - GET /appointments: the day of the chosen barber (what the token may see of it), and
//     the caller's upcoming appointments, each with Cancel and Reschedule
//     (POST /appointments/{id}/cancel and PATCH /appointments/{id}, If-Match: its version);
//     a refusal (a time just taken, a cut-off) is shown in words.
//   - the day of the barber, for its barber's or an admin's token (which GET
//     /barbers/{id}/buffer-recommendations answers): Start and Finish on each appointment,
//     one click each (POST /appointments/{id}/start|finish, If-Match: its version), and the
//     buffer recommendations learned from those times, in words.
//   - availability with predict=true: a start the conflict model thinks likely to be taken
//     within a day is marked; after a refusal the nearest quieter start is suggested. Advice
//     only: the booking is the server's to accept.
"use strict";

(function () {
  const TOKEN_KEY = "booking.token";
  const MAX_STREAMS = 6;          // "any barber" follows at most this many barbers live
  const REFRESH_DEBOUNCE_MS = 120;
  const SAFETY_REFRESH_MS = 60000;

  const $ = (id) => document.getElementById(id);
  const els = {
    message: $("message"), tokenForm: $("token-form"), token: $("token"), forget: $("token-forget"),
    fields: $("choose-fields"), barber: $("barber"), service: $("service"), date: $("date"),
    zoneNote: $("zone-note"), slotsHeading: $("slots-heading"), summary: $("slots-summary"),
    slots: $("slots"), liveState: $("live-state"),
    day: $("day"), daySummary: $("day-summary"), mine: $("mine"), mineSummary: $("mine-summary"),
    mineHeading: $("mine-heading"), advice: $("advice"), adviceHeading: $("advice-heading"),
  };

  const state = {
    token: "",
    barbers: [],
    services: [],
    slots: [],
    refreshSeq: 0,
    refreshTimer: null,
    pending: null,      // the booking attempt in flight: {start, key}
    retryable: null,    // an attempt whose answer never arrived: {start, key}, reused on retry
    streams: [],        // {barberId, controller, lastId, connected}
    listSeq: 0,
    staffOf: null,      // the barber whose day this token may run (start, finish), if any
    adviceSeq: 0,
  };

  // --- small helpers ---------------------------------------------------------------

  function storageGet(key) {
    try { return window.localStorage.getItem(key) || ""; } catch (e) { return ""; }
  }
  function storageSet(key, value) {
    try {
      if (value) window.localStorage.setItem(key, value); else window.localStorage.removeItem(key);
    } catch (e) { /* storage disabled: the token lives for this page only */ }
  }

  function newKey() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") return window.crypto.randomUUID();
    const b = new Uint8Array(16);
    window.crypto.getRandomValues(b);
    b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
    const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }

  function showMessage(kind, text) {
    els.message.className = `message msg-${kind}`;
    els.message.textContent = text;
  }

  function todayIn(zone) {
    // YYYY-MM-DD of "now" in an IANA zone (en-CA formats dates that way).
    try {
      return new Intl.DateTimeFormat("en-CA", { timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit" })
        .format(new Date());
    } catch (e) {
      return new Date().toISOString().slice(0, 10);
    }
  }

  function localParts(iso, zone) {
    // The slot's start as the barber's local booking_date and booking_time.
    const parts = {};
    new Intl.DateTimeFormat("en-GB", {
      timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", hourCycle: "h23",
    }).formatToParts(new Date(iso)).forEach((p) => { parts[p.type] = p.value; });
    return { date: `${parts.year}-${parts.month}-${parts.day}`, time: `${parts.hour}:${parts.minute}` };
  }

  function timeLabel(iso, zone) {
    return new Intl.DateTimeFormat(undefined, { timeZone: zone, hour: "numeric", minute: "2-digit" })
      .format(new Date(iso));
  }

  function dayLabel(isoOrDate, zone) {
    const d = typeof isoOrDate === "string" && isoOrDate.length === 10
      ? new Date(`${isoOrDate}T12:00:00Z`) : new Date(isoOrDate);
    return new Intl.DateTimeFormat(undefined, {
      timeZone: typeof isoOrDate === "string" && isoOrDate.length === 10 ? "UTC" : zone,
      weekday: "long", day: "numeric", month: "long",
    }).format(d);
  }

  function price(cents) {
    return (cents / 100).toFixed(2);
  }

  function problemText(body, fallback) {
    if (body && typeof body === "object") {
      const title = body.title || fallback;
      const detail = body.detail && body.detail !== body.title ? ` ${body.detail}` : "";
      return `${title}.${detail}`.replace(/\.\./g, ".");
    }
    return fallback;
  }

  // --- the API ---------------------------------------------------------------------

  class Unauthorized extends Error {}

  async function api(path, options = {}) {
    const headers = Object.assign({ Accept: "application/json" }, options.headers || {});
    headers.Authorization = `Bearer ${state.token}`;
    const response = await fetch(path, Object.assign({}, options, { headers, cache: "no-store" }));
    let body = null;
    const type = response.headers.get("content-type") || "";
    if (type.includes("json")) {
      try { body = await response.json(); } catch (e) { body = null; }
    }
    if (response.status === 401) {
      tokenRefused(body);
      throw new Unauthorized("401");
    }
    return { status: response.status, ok: response.ok, body, headers: response.headers };
  }

  function tokenRefused(body) {
    stopStreams();
    els.fields.disabled = true;
    clearSlots("Enter a valid token to see free times.");
    const detail = body && body.detail ? ` ${body.detail}` : "";
    showMessage("error", `Your token was refused.${detail} Check it, then press “Use token”.`);
    els.token.setAttribute("aria-invalid", "true");
    els.token.focus();
  }

  // --- choosing --------------------------------------------------------------------

  function sharedZone() {
    const zones = new Set(state.barbers.map((b) => b.timezone));
    return state.barbers.length > 1 && zones.size === 1 ? state.barbers[0].timezone : null;
  }

  function choice() {
    // {barberId: number|null, zone, name}
    const value = els.barber.value;
    if (value === "any") return { barberId: null, zone: sharedZone(), name: "any barber" };
    const b = state.barbers.find((x) => String(x.id) === value);
    return b ? { barberId: b.id, zone: b.timezone, name: b.name } : null;
  }

  function fillSelect(select, items, previous) {
    select.replaceChildren(...items.map(([value, text]) => {
      const o = document.createElement("option");
      o.value = value; o.textContent = text;
      return o;
    }));
    if (items.some(([value]) => value === previous)) select.value = previous;
  }

  async function loadLists() {
    showMessage("info", "Loading barbers and services…");
    let barbers, services;
    try {
      [barbers, services] = await Promise.all([api("/barbers"), api("/services")]);
    } catch (e) {
      if (!(e instanceof Unauthorized)) showMessage("error", "The booking service did not answer. Try again shortly.");
      return;
    }
    if (!barbers.ok || !services.ok) {
      showMessage("error", problemText(barbers.ok ? services.body : barbers.body, "Could not load barbers and services"));
      return;
    }
    els.token.removeAttribute("aria-invalid");
    state.barbers = barbers.body.barbers;
    state.services = services.body.services;
    const barberItems = [];
    const zone = sharedZone();
    if (zone) barberItems.push(["any", "Any barber"]);
    state.barbers.forEach((b) => barberItems.push([String(b.id), `${b.name} (${b.timezone})`]));
    fillSelect(els.barber, barberItems, els.barber.value);
    fillSelect(els.service, state.services.map((s) =>
      [s.name, `${s.name} (${s.duration_minutes} min, ${price(s.price_cents)})`]), els.service.value);
    if (!state.barbers.length || !state.services.length) {
      showMessage("error", "There are no barbers or services yet. Load demo data with `make run`.");
      return;
    }
    els.fields.disabled = false;
    showMessage("info", "Token accepted. Choose a barber, a service and a day.");
    onChoiceChanged();
  }

  function onChoiceChanged() {
    const c = choice();
    if (!c) return;
    const today = todayIn(c.zone || "UTC");
    els.date.min = today;
    if (!els.date.value || els.date.value < today) els.date.value = today;
    els.zoneNote.textContent = c.barberId === null
      ? `Any barber: all barbers work in ${c.zone}; times are shown in ${c.zone} time and the shop picks a free barber fairly.`
      : `Times are shown in ${c.name}'s time zone, ${c.zone}.`;
    startStreams(c.barberId === null ? state.barbers.map((b) => b.id) : [c.barberId]);
    refreshNow();
    refreshLists();
    refreshAdvice();
  }

  // --- free times ------------------------------------------------------------------

  function clearSlots(text) {
    state.slots = [];
    els.slots.replaceChildren();
    els.summary.textContent = text;
  }

  function scheduleRefresh() {
    clearTimeout(state.refreshTimer);
    state.refreshTimer = setTimeout(() => { refreshNow(); refreshLists(); }, REFRESH_DEBOUNCE_MS);
  }

  async function refreshNow() {
    clearTimeout(state.refreshTimer);
    const c = choice();
    if (!c || !state.token || !els.service.value || !els.date.value) return;
    const seq = ++state.refreshSeq;
    const q = new URLSearchParams({ date: els.date.value, service: els.service.value });
    if (c.barberId !== null) {
      q.set("barber_id", String(c.barberId));
      q.set("predict", "true");   // marks only: without a model the answer is the same
    }
    els.slots.setAttribute("aria-busy", "true");
    let r;
    try {
      r = await api(`/availability?${q}`);
    } catch (e) {
      if (!(e instanceof Unauthorized) && seq === state.refreshSeq) {
        els.summary.textContent = "Could not load free times: the booking service did not answer.";
      }
      return;
    } finally {
      if (seq === state.refreshSeq) els.slots.removeAttribute("aria-busy");
    }
    if (seq !== state.refreshSeq) return;       // a newer request answers instead
    if (!r.ok) {
      clearSlots(problemText(r.body, "Could not load free times"));
      return;
    }
    renderSlots(r.body.slots, c);
  }

  function renderSlots(slots, c) {
    state.slots = slots;
    const day = dayLabel(els.date.value);
    const service = els.service.value;
    const hadFocus = document.activeElement && document.activeElement.classList.contains("slot")
      ? document.activeElement.dataset.start : null;
    const items = slots.map((s) => {
      const li = document.createElement("li");
      const b = document.createElement("button");
      b.type = "button";
      b.className = "slot";
      b.dataset.start = s.start;
      const t = timeLabel(s.start, c.zone);
      b.textContent = t;
      const likely = s.likely_to_go_soon === true;
      if (likely) {
        b.classList.add("likely");
        b.title = "Likely to be taken within a day";
      }
      b.setAttribute("aria-label",
        `Book ${service} at ${t} to ${timeLabel(s.end, c.zone)}, ${day}, with ${c.name} (${c.zone} time)`
        + (likely ? ", likely to go soon" : ""));
      if (state.pending) b.disabled = true;
      li.appendChild(b);
      return li;
    });
    els.slots.replaceChildren(...items);
    if (hadFocus) {
      const again = els.slots.querySelector(`button[data-start="${CSS.escape(hadFocus)}"]`);
      if (again) again.focus(); else els.slotsHeading.focus();
    }
    const marked = slots.filter((s) => s.likely_to_go_soon === true).length;
    els.summary.textContent = (slots.length
      ? `${slots.length} free ${slots.length === 1 ? "time" : "times"} on ${day} (${c.zone} time). Choose one to book it.`
      : `No free times on ${day}. Try another day.`)
      + (marked ? ` ${marked} marked ${marked === 1 ? "is" : "are"} likely to be taken within a day.` : "");
  }

  function quieterThan(start) {
    // The free start nearest to `start` that is not likely to go soon (advice of the conflict
    // model; any free start when there are no marks), or null.
    const t = new Date(start).getTime();
    const others = state.slots.filter((s) => s.start !== start);
    const quiet = others.filter((s) => s.likely_to_go_soon !== true);
    const pool = quiet.length ? quiet : others;
    pool.sort((a, b) => Math.abs(new Date(a.start).getTime() - t) - Math.abs(new Date(b.start).getTime() - t));
    return pool.length ? pool[0] : null;
  }

  // --- booking ---------------------------------------------------------------------

  function setSlotsDisabled(disabled) {
    els.slots.querySelectorAll("button.slot").forEach((b) => { b.disabled = disabled; });
  }

  async function book(start) {
    if (state.pending) return;                  // one attempt at a time: a double click books once
    const c = choice();
    if (!c || !c.zone) return;
    const slot = state.slots.find((s) => s.start === start);
    if (!slot) return;
    // Once per attempt; an attempt whose answer was lost is retried with the same key.
    const key = state.retryable && state.retryable.start === start ? state.retryable.key : newKey();
    state.pending = { start, key };
    setSlotsDisabled(true);
    const local = localParts(start, c.zone);
    const body = { service: els.service.value, booking_date: local.date, booking_time: local.time };
    if (c.barberId !== null) body.barber_id = c.barberId;
    showMessage("info", `Booking ${timeLabel(start, c.zone)}…`);
    let r;
    try {
      r = await api("/appointments", {
        method: "POST",
        headers: { "Content-Type": "application/json", "Idempotency-Key": key },
        body: JSON.stringify(body),
      });
    } catch (e) {
      if (!(e instanceof Unauthorized)) {
        state.retryable = { start, key };
        showMessage("error", "The booking service did not answer, so the booking may or may not have been made. "
          + "Choose the same time again to retry safely: it will not be booked twice.");
      }
      return;
    } finally {
      state.pending = null;
      setSlotsDisabled(false);
    }
    state.retryable = null;
    const when = `${timeLabel(start, c.zone)} on ${dayLabel(local.date)}`;
    if (r.status === 201 || r.status === 200) {
      const a = r.body || {};
      const barber = state.barbers.find((b) => b.id === a.barber_id);
      showMessage("success", `Booked: ${a.service || body.service} with ${barber ? barber.name : c.name} at ${when}`
        + ` (${c.zone} time). Appointment number ${a.id}.`);
      const gone = els.slots.querySelector(`button[data-start="${CSS.escape(start)}"]`);
      if (gone) gone.closest("li").remove();
      els.slotsHeading.focus();
    } else if (r.status === 409) {
      const other = quieterThan(start);
      const hint = other
        ? ` The nearest ${other.likely_to_go_soon === false ? "quieter " : ""}free time is ${timeLabel(other.start, c.zone)}.`
        : "";
      showMessage("error", `Sorry, ${when} was just taken. ${problemText(r.body, "This time slot conflicts with an existing appointment")} Please choose another time.${hint}`);
    } else if (r.status === 422) {
      showMessage("error", `That booking was not accepted. ${problemText(r.body, "Invalid booking request")}`);
    } else if (r.status === 503 || r.status === 429) {
      state.retryable = { start, key };
      showMessage("error", `${problemText(r.body, "The service is busy")} Choose the same time again to retry.`);
    } else {
      showMessage("error", problemText(r.body, `The booking failed (HTTP ${r.status})`));
    }
    refreshNow();
    refreshLists();
  }

  // --- appointments: the day of the barber, and the caller's own -------------------

  function barberName(id) {
    const b = state.barbers.find((x) => x.id === id);
    return b ? b.name : `barber ${id}`;
  }

  function describe(a) {
    return `${dayLabel(a.booking_date)} at ${a.booking_time} (${a.timezone} time): ${a.service} with ${barberName(a.barber_id)}`;
  }

  function isoDay(d) {
    return d.toISOString().slice(0, 10);
  }

  async function refreshLists() {
    if (!state.token || els.fields.disabled) return;
    const seq = ++state.listSeq;
    const c = choice();
    const now = new Date();
    const mine = new URLSearchParams({ from: now.toISOString().replace(/\.\d+Z$/, "Z"), limit: "50" });
    const requests = [api(`/appointments?${mine}`)];
    if (c && c.barberId !== null && els.date.value) {
      // The chosen local day, whatever the zone: a day on each side, then its own rows.
      const day = new Date(`${els.date.value}T00:00:00Z`);
      const q = new URLSearchParams({
        barber_id: String(c.barberId),
        from: `${isoDay(new Date(day.getTime() - 86400000))}T00:00:00Z`,
        to: `${isoDay(new Date(day.getTime() + 2 * 86400000))}T00:00:00Z`,
        limit: "100",
      });
      requests.push(api(`/appointments?${q}`));
    }
    let answers;
    try {
      answers = await Promise.all(requests);
    } catch (e) {
      return;   // a refused token is shown by api(); a lost answer is retried by the next refresh
    }
    if (seq !== state.listSeq) return;
    const [own, day] = answers;
    if (own.ok) {
      const items = own.body.items.filter((a) => a.status !== "cancelled" && a.status !== "expired");
      renderAppointments(els.mine, items, true);
      els.mineSummary.textContent = items.length
        ? `${items.length} upcoming appointment${items.length === 1 ? "" : "s"} your token may see.`
        : "No upcoming appointments.";
    } else {
      els.mineSummary.textContent = problemText(own.body, "Could not load your appointments");
    }
    if (!day) {
      els.day.replaceChildren();
      els.daySummary.textContent = "Choose one barber to see their day.";
    } else if (day.ok) {
      const items = day.body.items.filter((a) => a.booking_date === els.date.value);
      renderAppointments(els.day, items, false, state.staffOf === c.barberId);
      els.daySummary.textContent = `${c.name} on ${dayLabel(els.date.value)}: `
        + (items.length ? `${items.length} appointment${items.length === 1 ? "" : "s"} you may see.` : "nothing you may see.");
    } else {
      els.daySummary.textContent = problemText(day.body, "Could not load the day");
    }
  }

  function statusText(a) {
    if (a.status === "in_progress" && a.started_at) return `in progress since ${timeLabel(a.started_at, a.timezone)}`;
    if (a.status === "completed" && a.started_at && a.finished_at) {
      return `completed (${timeLabel(a.started_at, a.timezone)} to ${timeLabel(a.finished_at, a.timezone)})`;
    }
    return a.status.replace("_", " ");
  }

  function renderAppointments(list, items, actions, staff) {
    list.replaceChildren(...items.map((a) => {
      const li = document.createElement("li");
      li.className = "appointment";
      li.dataset.id = String(a.id);
      li.dataset.status = a.status;
      const text = document.createElement("span");
      text.className = "what";
      text.textContent = `${describe(a)} — ${statusText(a)}`;
      li.append(text);
      if (staff && (a.status === "scheduled" || a.status === "confirmed" || a.status === "in_progress")) {
        // Check-in and check-out: one click each; the server records the time.
        const step = a.status === "in_progress" ? "finish" : "start";
        const mark = document.createElement("button");
        mark.type = "button";
        mark.className = `secondary ${step}`;
        mark.textContent = step === "start" ? "Start" : "Finish";
        mark.setAttribute("aria-label", `${mark.textContent} the appointment of ${describe(a)}`);
        mark.addEventListener("click", () => markAppointment(a, step, mark));
        li.append(mark);
      }
      if (actions && (a.status === "scheduled" || a.status === "confirmed" || a.status === "held")) {
        const cancel = document.createElement("button");
        cancel.type = "button";
        cancel.className = "secondary cancel";
        cancel.textContent = a.status === "held" ? "Release" : "Cancel";
        cancel.setAttribute("aria-label", `${cancel.textContent} the appointment of ${describe(a)}`);
        cancel.addEventListener("click", () => cancelAppointment(a));
        li.append(cancel);
      }
      if (actions && (a.status === "scheduled" || a.status === "confirmed")) {
        const form = document.createElement("form");
        form.className = "reschedule";
        const date = document.createElement("input");
        date.type = "date"; date.value = a.booking_date; date.required = true;
        date.setAttribute("aria-label", "New day");
        const time = document.createElement("input");
        time.type = "time"; time.value = a.booking_time; time.required = true; time.step = "300";
        time.setAttribute("aria-label", "New time");
        const save = document.createElement("button");
        save.type = "submit";
        save.textContent = "Reschedule";
        form.append(date, time, save);
        form.addEventListener("submit", (e) => {
          e.preventDefault();
          reschedule(a, date.value, time.value.slice(0, 5));
        });
        li.append(form);
      }
      return li;
    }));
  }

  async function markAppointment(a, step, button) {
    button.disabled = true;
    showMessage("info", `${step === "start" ? "Starting" : "Finishing"} ${describe(a)}…`);
    let r;
    try {
      r = await api(`/appointments/${a.id}/${step}`, { method: "POST", headers: { "If-Match": `"${a.version}"` } });
    } catch (e) {
      button.disabled = false;
      if (!(e instanceof Unauthorized)) showMessage("error", "The booking service did not answer. Try again.");
      return;
    }
    if (r.ok) {
      const at = step === "start" ? r.body.started_at : r.body.finished_at;
      showMessage("success", `${step === "start" ? "Started" : "Finished"} at ${timeLabel(at, r.body.timezone)}: ${describe(r.body)}.`);
    } else if (r.status === 412) {
      showMessage("error", "This appointment changed meanwhile; the list shows it as it is now. Try again.");
    } else {
      showMessage("error", `Not ${step === "start" ? "started" : "finished"}. ${problemText(r.body, "The change was refused")}`);
    }
    refreshLists();
    refreshAdvice();
  }

  async function refreshAdvice() {
    // The buffer recommendations of the chosen barber: answered to its barber and its shop's
    // admins only, which is also how the page knows it may offer Start and Finish.
    const c = choice();
    const seq = ++state.adviceSeq;
    if (!c || c.barberId === null || !state.token) {
      state.staffOf = null;
      els.advice.replaceChildren();
      els.adviceHeading.hidden = true;
      return;
    }
    let r;
    try {
      r = await api(`/barbers/${c.barberId}/buffer-recommendations`);
    } catch (e) {
      return;
    }
    if (seq !== state.adviceSeq) return;
    const was = state.staffOf;
    state.staffOf = r.ok ? c.barberId : null;
    els.adviceHeading.hidden = !r.ok;
    els.advice.replaceChildren(...(r.ok ? r.body.items : []).map((item) => {
      const li = document.createElement("li");
      li.textContent = item.summary;
      return li;
    }));
    if (r.ok && !r.body.items.length) {
      const li = document.createElement("li");
      li.textContent = `No finished appointments yet: Start and Finish them below, and after ${r.body.min_samples} of a service its buffers are recommended here.`;
      els.advice.append(li);
    }
    if (was !== state.staffOf) refreshLists();
  }

  async function cancelAppointment(a) {
    showMessage("info", `Cancelling ${describe(a)}…`);
    let r;
    try {
      r = await api(`/appointments/${a.id}/cancel`, { method: "POST", headers: { "If-Match": `"${a.version}"` } });
    } catch (e) {
      if (!(e instanceof Unauthorized)) showMessage("error", "The booking service did not answer. Try again.");
      return;
    }
    if (r.ok) showMessage("success", `Cancelled: ${describe(a)}.`);
    else if (r.status === 412) showMessage("error", "This appointment changed meanwhile; the list shows it as it is now. Try again.");
    else showMessage("error", `Not cancelled. ${problemText(r.body, "The cancellation was refused")}`);
    refreshNow();
    refreshLists();
  }

  async function reschedule(a, date, time) {
    showMessage("info", `Moving ${describe(a)} to ${dayLabel(date)} at ${time}…`);
    let r;
    try {
      r = await api(`/appointments/${a.id}`, {
        method: "PATCH",
        headers: { "Content-Type": "application/json", "If-Match": `"${a.version}"` },
        body: JSON.stringify({ booking_date: date, booking_time: time }),
      });
    } catch (e) {
      if (!(e instanceof Unauthorized)) showMessage("error", "The booking service did not answer. Try again.");
      return;
    }
    if (r.ok) {
      showMessage("success", `Rescheduled: ${describe(r.body)}.`);
    } else if (r.status === 409) {
      showMessage("error", `Not moved: ${dayLabel(date)} at ${time} is taken. ${problemText(r.body, "This time slot conflicts with an existing appointment")} Your appointment stays as it was.`);
    } else if (r.status === 412) {
      showMessage("error", "This appointment changed meanwhile; the list shows it as it is now. Try again.");
    } else {
      showMessage("error", `Not moved. ${problemText(r.body, "The change was refused")} Your appointment stays as it was.`);
    }
    refreshNow();
    refreshLists();
  }

  // --- live updates: text/event-stream over fetch() ---------------------------------

  function stopStreams() {
    state.streams.forEach((s) => s.controller.abort());
    state.streams = [];
    updateLiveState();
  }

  function startStreams(barberIds) {
    const wanted = barberIds.slice(0, MAX_STREAMS).join(",");
    if (state.streams.map((s) => s.barberId).join(",") === wanted) return;
    stopStreams();
    state.streams = barberIds.slice(0, MAX_STREAMS).map((barberId) => {
      const s = { barberId, controller: new AbortController(), lastId: null, connected: false };
      follow(s);
      return s;
    });
    updateLiveState();
  }

  function updateLiveState() {
    if (!state.streams.length) { els.liveState.textContent = ""; return; }
    const all = state.streams.every((s) => s.connected);
    els.liveState.textContent = all ? "Live: free times update as soon as anyone books."
      : "Connecting to live updates…";
    els.liveState.dataset.live = all ? "on" : "off";
  }

  function sleep(ms, signal) {
    return new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      signal.addEventListener("abort", () => { clearTimeout(t); resolve(); }, { once: true });
    });
  }

  async function follow(s) {
    const signal = s.controller.signal;
    let retry = 2000;
    while (!signal.aborted) {
      try {
        const headers = { Accept: "text/event-stream", Authorization: `Bearer ${state.token}` };
        if (s.lastId !== null) headers["Last-Event-ID"] = s.lastId;
        const response = await fetch(`/barbers/${s.barberId}/events`, { headers, signal, cache: "no-store" });
        if (response.status === 401) { tokenRefused(null); return; }
        if (!response.ok || !response.body) throw new Error(`HTTP ${response.status}`);
        retry = await readStream(s, response.body.getReader(), retry);
      } catch (e) {
        if (signal.aborted) return;
      }
      s.connected = false;
      updateLiveState();
      await sleep(retry, signal);
    }
  }

  async function readStream(s, reader, retry) {
    const decoder = new TextDecoder();
    let buffer = "";
    let event = { data: [], id: null };
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return retry;
      buffer += decoder.decode(value, { stream: true }).replace(/\r\n?/g, "\n");
      let nl;
      while ((nl = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        if (line === "") {
          if (event.id !== null) s.lastId = event.id;
          if (event.data.length) scheduleRefresh();    // booked, changed or cancelled
          event = { data: [], id: null };
        } else if (line.startsWith(":")) {
          if (line.startsWith(": connected")) {
            // Anything booked between the last refresh and this connection is caught here.
            s.connected = true;
            updateLiveState();
            scheduleRefresh();
          }
        } else {
          const colon = line.indexOf(":");
          const field = colon < 0 ? line : line.slice(0, colon);
          let v = colon < 0 ? "" : line.slice(colon + 1);
          if (v.startsWith(" ")) v = v.slice(1);
          if (field === "data") event.data.push(v);
          else if (field === "id" && !v.includes("\0")) event.id = v;
          else if (field === "retry" && /^\d+$/.test(v)) retry = Number(v);
        }
      }
    }
  }

  // --- wiring ----------------------------------------------------------------------

  els.tokenForm.addEventListener("submit", (e) => {
    e.preventDefault();
    const token = els.token.value.trim();
    if (!token) {
      showMessage("error", "Paste a token first (see below the field for where to get one).");
      els.token.setAttribute("aria-invalid", "true");
      els.token.focus();
      return;
    }
    state.token = token;
    storageSet(TOKEN_KEY, token);
    stopStreams();
    loadLists();
  });

  els.forget.addEventListener("click", () => {
    storageSet(TOKEN_KEY, "");
    state.token = "";
    els.token.value = "";
    stopStreams();
    els.fields.disabled = true;
    clearSlots("Enter your token to see free times.");
    showMessage("info", "The token is forgotten in this browser.");
    els.token.focus();
  });

  els.barber.addEventListener("change", onChoiceChanged);
  els.service.addEventListener("change", refreshNow);
  els.date.addEventListener("change", () => { refreshNow(); refreshLists(); });
  els.slots.addEventListener("click", (e) => {
    const b = e.target.closest("button.slot");
    if (b && !b.disabled) book(b.dataset.start);
  });
  setInterval(() => { if (state.token && !els.fields.disabled) refreshNow(); }, SAFETY_REFRESH_MS);

  const saved = storageGet(TOKEN_KEY);
  if (saved) {
    els.token.value = saved;
    state.token = saved;
    loadLists();
  }
})();
