// Starts Swagger UI (loaded before this file from /docs/assets/) on our own document.
// No inline script: the page's CSP allows scripts from this origin only.
window.ui = window.SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  validatorUrl: null, // never send the document to an outside validator
  tryItOutEnabled: false,
  defaultModelsExpandDepth: 0,
  docExpansion: "list",
});
