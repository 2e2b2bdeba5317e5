// Starts Swagger UI on /api/docs from the page's data (spec URL, config), so the page needs no inline script.
(function () {
  "use strict";
  window.addEventListener("load", function () {
    var container = document.getElementById("swagger-ui-container");
    var config = { url: container.dataset.specUrl, dom_id: "#swagger-ui-container" };
    var extra = JSON.parse(document.getElementById("swagger-ui-config").textContent || "{}");
    Object.keys(extra).forEach(function (key) { config[key] = extra[key]; });
    window.ui = SwaggerUIBundle(config);
  });
})();
