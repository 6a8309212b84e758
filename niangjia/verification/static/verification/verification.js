// niangjia employer verification: marking without reloading the page, the live count of a new
// campaign, the split dialog and the bulk bar. Every page also works without this file.
(function () {
  "use strict";

  var number = function (n) {
    return Number(n).toLocaleString("zh-CN");
  };

  function postJSON(form, data) {
    return fetch(form.action || window.location.href, {
      method: "POST",
      body: data,
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    }).then(function (response) {
      var type = response.headers.get("Content-Type") || "";
      if (type.indexOf("application/json") === -1) {
        var reason = response.status === 403 ? "没有权限" : response.status === 404 ? "单位不存在或不在您的管辖范围内" : "服务器错误";
        throw new Error(reason + "（" + response.status + "）");
      }
      return response.json().then(function (body) {
        return { status: response.status, body: body };
      });
    });
  }

  // --- Counts on the page

  function setCounts(progress) {
    if (!progress) return;
    var campaign = progress.campaign;
    if (campaign) {
      Object.keys(campaign).forEach(function (key) {
        document.querySelectorAll('[data-count="' + key + '"]').forEach(function (el) {
          el.textContent = key === "percent" ? campaign[key] : number(campaign[key]);
        });
        document.querySelectorAll('[data-progress-part="' + key + '"]').forEach(function (el) {
          el.style.width = (campaign.total ? (campaign[key] * 100) / campaign.total : 0) + "%";
        });
      });
      document.querySelectorAll("[data-progress-bar]").forEach(function (el) {
        el.setAttribute("aria-valuenow", campaign.percent);
      });
    }
    var mine = progress.mine;
    if (mine) {
      Object.keys(mine).forEach(function (key) {
        document.querySelectorAll('[data-mine="' + key + '"]').forEach(function (el) {
          el.textContent = number(mine[key]);
        });
      });
    }
  }

  // --- Marking an item

  function showMessage(form, text, ok) {
    var box = form.querySelector("[data-mark-msg]");
    if (!box) return;
    box.textContent = text;
    box.classList.toggle("ok", !!ok);
    box.classList.toggle("err", !ok);
  }

  function replaceRow(form, html, pressed) {
    var row = form.closest("[data-item]");
    var target = row || form;
    var wasChecked = row && row.querySelector("[data-select]:checked");
    var holder = document.createElement(target.tagName === "LI" ? "ul" : "div");
    holder.innerHTML = html.trim();
    var fresh = holder.firstElementChild;
    if (!fresh) return form;
    target.replaceWith(fresh);
    if (wasChecked) {
      var box = fresh.querySelector("[data-select]");
      if (box) box.checked = true;
    }
    var newForm = fresh.matches("[data-mark-form]") ? fresh : fresh.querySelector("[data-mark-form]");
    if (newForm && pressed) {
      var again = newForm.querySelector('.vbtn[value="' + pressed + '"]');
      if (again) again.focus({ preventScroll: true });
    }
    return newForm || fresh;
  }

  function submitMark(form, submitter) {
    var data = new FormData(form);
    if (submitter && submitter.name) data.set(submitter.name, submitter.value);
    var buttons = form.querySelectorAll("button");
    var row = form.closest("[data-item]");
    buttons.forEach(function (b) {
      b.disabled = true;
    });
    if (row) row.classList.add("is-saving");
    showMessage(form, "正在保存…", true);
    postJSON(form, data)
      .then(function (answer) {
        var body = answer.body;
        var fresh = body.html ? replaceRow(form, body.html, submitter && submitter.value) : form;
        showMessage(fresh, body.message || (body.ok ? "已保存" : "未保存"), body.ok);
        setCounts(body.progress);
      })
      .catch(function (error) {
        buttons.forEach(function (b) {
          b.disabled = false;
        });
        if (row) row.classList.remove("is-saving");
        showMessage(form, "未保存：" + error.message + "，请刷新页面后重试", false);
      });
  }

  document.addEventListener("submit", function (event) {
    var form = event.target.closest("[data-mark-form]");
    if (!form || !window.fetch || !window.FormData) return;
    event.preventDefault();
    submitMark(form, event.submitter);
  });

  // --- A new campaign: how many employers the filters select

  function initPreview(form) {
    var box = form.querySelector("[data-preview]");
    if (!box) return;
    var timer = null;
    var serial = 0;
    function refresh() {
      var data = new FormData(form);
      if (!data.get("union")) return;
      data.set("_preview", "1");
      var mine = ++serial;
      box.textContent = "正在统计符合条件的单位…";
      postJSON(form, data)
        .then(function (answer) {
          if (mine !== serial) return;
          var body = answer.body;
          box.textContent = "";
          if (!body.ok) {
            var err = document.createElement("strong");
            err.className = "text-err";
            err.textContent = (body.errors || ["条件有误"]).join("；");
            box.appendChild(err);
            return;
          }
          if (!body.count) {
            var none = document.createElement("strong");
            none.className = "text-err";
            none.textContent = "没有符合条件的用人单位";
            box.appendChild(none);
            box.appendChild(document.createTextNode("，请调整范围或条件。"));
            return;
          }
          box.appendChild(document.createTextNode("符合条件的用人单位："));
          var strong = document.createElement("strong");
          strong.setAttribute("data-preview-count", "");
          strong.textContent = number(body.count);
          box.appendChild(strong);
          box.appendChild(document.createTextNode(" 家"));
        })
        .catch(function (error) {
          if (mine === serial) box.textContent = "暂时无法统计：" + error.message;
        });
    }
    form.addEventListener("change", function (event) {
      var name = event.target.name || "";
      if (name === "name" || name === "due_date" || /_q$/.test(name)) return;
      clearTimeout(timer);
      timer = setTimeout(refresh, 250);
    });
    var button = form.querySelector("[data-preview-button]");
    if (button) {
      button.addEventListener("click", function (event) {
        event.preventDefault();
        refresh();
      });
    }
    refresh();
  }

  // --- The split dialog

  function initSplit(form) {
    var radios = form.querySelectorAll('input[name="mode"]');
    function sync() {
      var checked = form.querySelector('input[name="mode"]:checked');
      var byCount = checked && checked.value === "counts";
      form.querySelectorAll(".count-col").forEach(function (cell) {
        cell.hidden = !byCount && !cell.querySelector(".errorlist");
      });
    }
    radios.forEach(function (r) {
      r.addEventListener("change", sync);
    });
    form.querySelectorAll(".count-input").forEach(function (input) {
      input.addEventListener("input", function () {
        var box = input.closest("tr").querySelector('input[name="staff"]');
        if (box && input.value && Number(input.value) > 0) box.checked = true;
      });
    });
    sync();
  }

  document.addEventListener("click", function (event) {
    var opener = event.target.closest("[data-open-dialog]");
    if (opener) {
      var dialog = document.getElementById(opener.getAttribute("data-open-dialog"));
      if (dialog && typeof dialog.showModal === "function") {
        event.preventDefault();
        dialog.showModal();
        var first = dialog.querySelector("input, button");
        if (first) first.focus();
      }
    }
    var closer = event.target.closest("[data-close-dialog]");
    if (closer) {
      var open = closer.closest("dialog");
      if (open) open.close();
    }
  });

  // --- Bulk bar: tick all, count, refuse an empty selection

  function initBulk(form) {
    var all = form.querySelector("[data-check-all]");
    var counter = form.querySelector("[data-checked-count]");
    function boxes() {
      return document.querySelectorAll('input[data-select][form="' + form.id + '"]');
    }
    function count() {
      var n = 0;
      var list = boxes();
      list.forEach(function (b) {
        if (b.checked) n += 1;
      });
      if (counter) counter.textContent = n ? "已勾选 " + n + " 家" : "请先在上方勾选单位";
      if (all) all.checked = n > 0 && n === list.length;
      return n;
    }
    if (all) {
      all.addEventListener("change", function () {
        boxes().forEach(function (b) {
          b.checked = all.checked;
        });
        count();
      });
    }
    document.addEventListener("change", function (event) {
      if (event.target.matches && event.target.matches("input[data-select]")) count();
    });
    form.addEventListener("submit", function (event) {
      if (!count()) {
        event.preventDefault();
        if (counter) counter.textContent = "请先在上方勾选单位";
      }
    });
    count();
  }

  function init() {
    document.querySelectorAll("[data-campaign-form]").forEach(initPreview);
    document.querySelectorAll("[data-split-form]").forEach(initSplit);
    document.querySelectorAll("[data-bulk-items]").forEach(initBulk);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
