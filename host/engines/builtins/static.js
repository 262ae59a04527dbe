// Fusio's built-in `static` action: answers the status, headers and body
// of its configuration (each kept as JSON text by the deploy, which checked
// them), whatever the request.
module.exports = function (request, context, connector, response) {
  const config = context.config;
  return response.build(JSON.parse(config.status), JSON.parse(config.headers), JSON.parse(config.body));
};
