// Mass joining ceremonies: the big screen polls screen.json (no page reload, no library) and
// the print buttons of the QR sheets. Without script the screen refreshes itself (noscript).
(function () {
  "use strict";

  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-print]")) window.print();
  });

  var root = document.querySelector("[data-screen]");
  if (!root) return;

  var INTERVAL = 1500;
  var url = root.getAttribute("data-json-url");
  var totalEl = root.querySelector("[data-total]");
  var venuesEl = root.querySelector("[data-venues]");
  var latestEl = root.querySelector("[data-latest]");
  var statusEl = root.querySelector("[data-status]");
  var clockEl = root.querySelector("[data-clock]");
  var shown = parseInt(totalEl.textContent.replace(/\D/g, ""), 10) || 0;
  var seen = {};
  latestEl.querySelectorAll("li[data-id]").forEach(function (li) {
    seen[li.getAttribute("data-id")] = true;
  });

  function fmt(n) {
    return Number(n).toLocaleString("zh-CN");
  }

  function pad(n) {
    return (n < 10 ? "0" : "") + n;
  }

  // The hall's clock in the platform's time zone, whatever the screen computer is set to.
  var zone = clockEl.getAttribute("data-time-zone");
  function tickClock() {
    var d = new Date();
    try {
      clockEl.textContent = d.toLocaleTimeString("zh-CN", { timeZone: zone, hour12: false });
    } catch (e) {
      clockEl.textContent = pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" + pad(d.getSeconds());
    }
  }

  function countTo(target) {
    var start = shown;
    var began = null;
    if (target === start) return;
    totalEl.parentNode.classList.remove("bump");
    void totalEl.parentNode.offsetWidth; // restart the animation
    totalEl.parentNode.classList.add("bump");
    function step(now) {
      if (began === null) began = now;
      var t = Math.min(1, (now - began) / 700);
      var value = Math.round(start + (target - start) * (1 - Math.pow(1 - t, 3)));
      totalEl.textContent = fmt(value);
      if (t < 1) window.requestAnimationFrame(step);
    }
    shown = target;
    window.requestAnimationFrame(step);
  }

  function cell(tag, className, text) {
    var el = document.createElement(tag);
    el.className = className;
    el.textContent = text;
    return el;
  }

  function renderVenues(venues) {
    if (!venues.length) return;
    var rows = {};
    venuesEl.querySelectorAll("li").forEach(function (li) {
      var id = li.getAttribute("data-id");
      if (id) rows[id] = li;
      else li.remove();
    });
    venues.forEach(function (v) {
      var li = rows[v.id];
      if (!li) {
        li = document.createElement("li");
        li.setAttribute("data-id", v.id);
        li.appendChild(cell("span", "vb-name", v.name));
        var bar = cell("span", "vb-bar", "");
        bar.appendChild(document.createElement("i"));
        li.appendChild(bar);
        li.appendChild(cell("span", "vb-count", ""));
        venuesEl.appendChild(li);
      }
      li.querySelector(".vb-name").textContent = v.name;
      li.querySelector(".vb-bar i").style.width = v.share + "%";
      li.querySelector(".vb-count").textContent = fmt(v.count);
      delete rows[v.id];
    });
    Object.keys(rows).forEach(function (id) {
      rows[id].remove();
    });
  }

  function renderLatest(latest) {
    if (!latest.length) return;
    var fragment = document.createDocumentFragment();
    var next = {};
    latest.forEach(function (a) {
      var li = document.createElement("li");
      li.setAttribute("data-id", a.id);
      if (!seen[a.id]) li.className = "fresh";
      li.appendChild(cell("span", "lt-name", a.name));
      li.appendChild(cell("span", "lt-venue", a.venue));
      li.appendChild(cell("span", "lt-time", a.time));
      fragment.appendChild(li);
      next[a.id] = true;
    });
    seen = next;
    latestEl.innerHTML = "";
    latestEl.appendChild(fragment);
  }

  function setStatus(text, stale) {
    statusEl.textContent = text;
    statusEl.classList.toggle("stale", !!stale);
  }

  function poll() {
    fetch(url, {
      credentials: "same-origin",
      cache: "no-store",
      headers: { Accept: "application/json" },
    })
      .then(function (response) {
        if (response.redirected) throw new Error("login");
        if (!response.ok) throw new Error("http " + response.status);
        return response.json();
      })
      .then(function (data) {
        countTo(data.total);
        renderVenues(data.venues || []);
        renderLatest(data.latest || []);
        setStatus("实时更新中 · " + data.now, false);
      })
      .catch(function (error) {
        if (error && error.message === "login") {
          setStatus("登录已过期，请刷新页面重新登录", true);
        } else {
          setStatus("连接中断，正在重试……", true);
        }
      })
      .then(function () {
        window.setTimeout(poll, INTERVAL);
      });
  }

  tickClock();
  window.setInterval(tickClock, 1000);
  window.setTimeout(poll, INTERVAL);
})();
