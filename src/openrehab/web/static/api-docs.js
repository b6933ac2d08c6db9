// The interactive API reference (/api/docs): Swagger UI, served from the package (no CDN).
// It reads /openapi.json with the browser's login; "Try it out" acts as the logged-in user.
window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  layout: "BaseLayout",
  presets: [SwaggerUIBundle.presets.apis],
});
