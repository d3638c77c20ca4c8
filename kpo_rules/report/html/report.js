// kpo-rules HTML report: filter the findings by severity, category and rule.
// Without this script every finding is listed and the filter form stays hidden.
(function () {
  "use strict";
  var form = document.getElementById("filters");
  if (!form) { return; }
  var findings = Array.prototype.slice.call(document.querySelectorAll("#findings .finding"));
  var groups = Array.prototype.slice.call(document.querySelectorAll("#findings .group, #findings .service"));
  var severities = Array.prototype.slice.call(form.querySelectorAll("input[name=severity]"));
  var category = form.querySelector("select[name=category]");
  var rule = form.querySelector("select[name=rule]");
  var shown = form.querySelector("output");
  var empty = document.getElementById("no-match");

  function apply() {
    var wanted = {};
    severities.forEach(function (box) { wanted[box.value] = box.checked; });
    var count = 0;
    findings.forEach(function (item) {
      var ok = wanted[item.dataset.severity] !== false &&
        (!category.value || item.dataset.category === category.value) &&
        (!rule.value || item.dataset.rule === rule.value);
      item.hidden = !ok;
      if (ok) { count += 1; }
    });
    groups.forEach(function (group) {
      group.hidden = !group.querySelector(".finding:not([hidden])");
    });
    shown.value = "Showing " + count + " of " + findings.length + " findings";
    if (empty) { empty.hidden = count !== 0 || findings.length === 0; }
  }

  function reset() {
    severities.forEach(function (box) { box.checked = true; });
    category.value = "";
    rule.value = "";
    apply();
  }

  form.addEventListener("change", apply);
  form.addEventListener("reset", function (event) { event.preventDefault(); reset(); });
  // A link to a finding the filters hide (from the coverage matrix) shows everything again.
  window.addEventListener("hashchange", function () {
    var target = document.getElementById(decodeURIComponent(location.hash.slice(1)));
    if (target && target.closest("[hidden]")) {
      reset();
      target.scrollIntoView();
    }
  });
  // Printing shows the tables that stand in for the charts.
  window.addEventListener("beforeprint", function () {
    document.querySelectorAll("details.alt").forEach(function (d) { d.open = true; });
  });
  form.hidden = false;
  apply();
}());
