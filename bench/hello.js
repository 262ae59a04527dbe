// The hello action of examples/hello in JavaScript, for bench/run and the
// components bench: `GET /js/hello?name=Ada` answers the same greeting.
module.exports = function (request, context, connector, response) {
  const name = request.get("name") || "World";
  const greeting = context.config.greeting || "Hello";
  return response.build(200, {}, { message: `${greeting} ${name}!` });
};
