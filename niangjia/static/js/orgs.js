// niangjia orgs pages: lazy union tree, region cascade, union pickers, form helpers.
// Every page works without this file; it only saves page loads and typing.
(function () {
  "use strict";

  var JSON_HEADERS = { Accept: "application/json" };

  function getJSON(url) {
    return fetch(url, { headers: JSON_HEADERS, credentials: "same-origin" }).then(function (r) {
      if (!r.ok) throw new Error("HTTP " + r.status);
      return r.json();
    });
  }

  function getHTML(url) {
    return fetch(url, { headers: { "X-Requested-With": "fetch" }, credentials: "same-origin" })
      .then(function (r) {
        if (!r.ok) throw new Error("HTTP " + r.status);
        return r.text();
      });
  }

  // Server-rendered fragment (escaped by the template engine) to DOM nodes.
  function fragment(html) {
    var tpl = document.createElement("template");
    tpl.innerHTML = html;
    return tpl.content;
  }

  function errorItem(text) {
    var li = document.createElement("li");
    li.className = "tree-error";
    li.setAttribute("role", "alert");
    li.textContent = text;
    return li;
  }

  // --- Union tree: expand a node by fetching one page of its children.

  function setToggle(toggle, open) {
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
    toggle.querySelector("[aria-hidden]").textContent = open ? "−" : "+";
  }

  function expand(toggle) {
    var li = toggle.closest("li");
    var sub = li.querySelector(":scope > ul.tree");
    var open = toggle.getAttribute("aria-expanded") === "true";
    if (sub) {
      sub.hidden = open;
      setToggle(toggle, !open);
      return;
    }
    if (toggle.classList.contains("loading")) return;
    sub = document.createElement("ul");
    sub.className = "tree";
    toggle.classList.add("loading");
    getHTML(toggle.getAttribute("data-children-url"))
      .then(function (html) {
        sub.appendChild(fragment(html));
      })
      .catch(function () {
        sub.appendChild(errorItem("下级工会加载失败，请稍后重试或点击名称查看详情"));
      })
      .then(function () {
        toggle.classList.remove("loading");
        li.appendChild(sub);
        setToggle(toggle, true);
      });
  }

  function loadMore(link) {
    var item = link.closest("li");
    if (link.classList.contains("loading")) return;
    link.classList.add("loading");
    link.textContent = "正在加载…";
    getHTML(link.getAttribute("data-load-more"))
      .then(function (html) {
        item.replaceWith(fragment(html));
      })
      .catch(function () {
        link.classList.remove("loading");
        link.textContent = "加载失败，点击重试";
      });
  }

  document.addEventListener("click", function (event) {
    var toggle = event.target.closest(".tree-toggle[data-children-url]");
    if (toggle) {
      event.preventDefault();
      expand(toggle);
      return;
    }
    var more = event.target.closest("[data-load-more]");
    if (more) {
      event.preventDefault();
      loadMore(more);
    }
  });

  // --- Region cascade: province → city → county → township selects over the code input.

  var REGION_LEVELS = ["省（自治区、直辖市）", "市（地区、州）", "县（区、市）", "乡镇（街道）"];

  function initRegionPicker(box) {
    var input = box.querySelector("input");
    var nameEl = box.querySelector("[data-region-name]");
    var url = box.getAttribute("data-children-url");
    var holder = document.createElement("div");
    holder.className = "region-selects";
    box.insertBefore(holder, input);
    input.classList.add("region-code-small");
    input.setAttribute("aria-label", "行政区划代码");

    function selects() {
      return Array.prototype.slice.call(holder.querySelectorAll("select"));
    }

    function describe() {
      var names = [];
      selects().forEach(function (s) {
        var opt = s.selectedOptions[0];
        if (s.value && opt && names[names.length - 1] !== opt.textContent) names.push(opt.textContent);
      });
      nameEl.textContent = names.join("");
    }

    function addLevel(depth, parentCode, preselect) {
      if (depth >= REGION_LEVELS.length) return Promise.resolve(null);
      var query = parentCode ? "?parent=" + encodeURIComponent(parentCode) : "";
      return getJSON(url + query)
        .then(function (data) {
          if (!data.results.length) return null;
          var sel = document.createElement("select");
          sel.setAttribute("data-depth", String(depth));
          sel.setAttribute("aria-label", "选择" + REGION_LEVELS[depth]);
          sel.appendChild(new Option("——" + REGION_LEVELS[depth] + "——", ""));
          data.results.forEach(function (r) {
            sel.appendChild(new Option(r.name, r.code));
          });
          if (preselect) sel.value = preselect;
          sel.addEventListener("change", function () {
            changed(sel);
          });
          holder.appendChild(sel);
          return sel;
        })
        .catch(function () {
          return null;
        });
    }

    function changed(sel) {
      var depth = Number(sel.getAttribute("data-depth"));
      selects().forEach(function (s) {
        if (Number(s.getAttribute("data-depth")) > depth) s.remove();
      });
      var code = sel.value;
      if (!code && depth > 0) code = selects()[depth - 1].value;
      input.value = code;
      describe();
      if (sel.value) addLevel(depth + 1, sel.value);
    }

    var chain = (box.getAttribute("data-chain") || "").split(",").filter(Boolean);
    var p = addLevel(0, "", chain[0]);
    chain.forEach(function (code, i) {
      p = p.then(function () {
        return addLevel(i + 1, code, chain[i + 1]);
      });
    });
    input.addEventListener("input", function () {
      nameEl.textContent = /^\d{6}(\d{3})?$/.test(input.value.trim()) ? "（手动输入的代码，保存时校验）" : "";
    });
  }

  // --- Union pickers: search the user's scope as they type.

  function initUnionPicker(box) {
    var search = box.querySelector("[data-picker-search]");
    var button = box.querySelector("[data-picker-button]");
    var select = box.querySelector("select");
    var note = box.querySelector("[data-picker-note]");
    var base = box.getAttribute("data-lookup-url");
    var timer = null;
    var seq = 0;
    if (button) button.hidden = true;

    function run() {
      var mine = ++seq;
      getJSON(base + "&q=" + encodeURIComponent(search.value.trim()))
        .then(function (data) {
          if (mine !== seq) return;
          var current = select.value;
          var currentOption = select.selectedOptions[0];
          var keep = current && !data.results.some(function (r) {
            return String(r.id) === current;
          });
          select.textContent = "";
          select.appendChild(new Option("——请选择——", ""));
          if (keep) select.appendChild(new Option(currentOption.textContent, current));
          data.results.forEach(function (r) {
            select.appendChild(new Option(r.label, String(r.id)));
          });
          select.value = current;
          if (!data.results.length) {
            note.textContent = "没有找到匹配的工会";
            note.hidden = false;
          } else if (data.truncated) {
            note.textContent = "仅列出前 " + data.results.length + " 个匹配，请输入更完整的名称";
            note.hidden = false;
          } else {
            note.textContent = "找到 " + data.results.length + " 个，请在下方选择";
            note.hidden = false;
          }
        })
        .catch(function () {
          note.textContent = "搜索失败，请稍后重试";
          note.hidden = false;
        });
    }

    search.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(run, 250);
    });
    search.addEventListener("keydown", function (event) {
      if (event.key === "Enter") {
        event.preventDefault();
        window.clearTimeout(timer);
        run();
      }
    });
  }

  // --- Union form: the levels offered follow the kind; the industry link only for grassroots.

  function fieldRow(form, name) {
    return form.querySelector('[data-field="' + name + '"]');
  }

  function initUnionForm(form) {
    var kindSel = form.querySelector("[data-kind-levels]");
    var levelSel = form.querySelector("[data-level-select]");
    var industry = fieldRow(form, "industry_union");
    if (kindSel && levelSel) {
      var map = JSON.parse(kindSel.getAttribute("data-kind-levels"));
      var all = Array.prototype.map.call(levelSel.options, function (o) {
        return { value: o.value, text: o.textContent };
      });
      var syncLevels = function () {
        var allowed = map[kindSel.value] || [];
        var current = levelSel.value;
        levelSel.textContent = "";
        all.forEach(function (o) {
          if (allowed.indexOf(o.value) !== -1) levelSel.appendChild(new Option(o.text, o.value));
        });
        if (allowed.indexOf(current) !== -1) levelSel.value = current;
        syncIndustry();
      };
      var syncIndustry = function () {
        if (industry && !industry.classList.contains("has-error")) {
          industry.hidden = levelSel.value !== "grassroots";
        }
      };
      kindSel.addEventListener("change", syncLevels);
      levelSel.addEventListener("change", syncIndustry);
      syncLevels();
    }
  }

  function initEmployerForm(form) {
    var box = form.querySelector('input[name="uscc_override"]');
    var reason = fieldRow(form, "uscc_override_reason");
    if (!box || !reason) return;
    var sync = function () {
      reason.hidden = !box.checked && !reason.classList.contains("has-error");
    };
    box.addEventListener("change", sync);
    sync();
  }

  function init() {
    document.querySelectorAll("[data-region-picker]").forEach(initRegionPicker);
    document.querySelectorAll("[data-union-picker]").forEach(initUnionPicker);
    document.querySelectorAll("[data-union-form]").forEach(initUnionForm);
    document.querySelectorAll("[data-employer-form]").forEach(initEmployerForm);
    // A single scope root opens by itself: its children are what the cadre came for.
    var roots = document.querySelectorAll("[data-tree] > li > .tree-row > .tree-toggle");
    if (roots.length === 1) expand(roots[0]);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
