// The report page's month picker: go to the site's report for the month chosen
// (/reports/<site>/<YYYY-MM>/). Without script, the form shows the portfolio for it.
(function () {
  "use strict";
  document.querySelectorAll("form[data-site-month-url]").forEach(function (form) {
    form.addEventListener("submit", function (e) {
      if (!form.month.value) return;
      e.preventDefault();
      window.location.href = form.dataset.siteMonthUrl + encodeURIComponent(form.month.value) + "/";
    });
  });
})();
