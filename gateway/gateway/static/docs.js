// The gateway's API explorer: one Swagger UI over every service's OpenAPI document, listed by
// /docs/swagger-config.json. A file rather than an inline script, so a strict CSP can forbid those.
window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    configUrl: "/docs/swagger-config.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    plugins: [SwaggerUIBundle.plugins.DownloadUrl],
    layout: "StandaloneLayout",
  });
});
